//! The soak's checks: each one's name, outcome and figures, and the comparison of what the
//! receiver got with what the ledger says was due to it.

use std::collections::HashMap;

use musicgpt_cover_mock::Outcome;
use uuid::Uuid;

use crate::Held;
use crate::drain::Drained;
use crate::ledger::{Hook, Task};
use crate::load::Tally;
use crate::mock::Log;
use crate::receiver::Received;
use crate::rss::Flatness;
use crate::thousands;

/// One check's outcome.
pub(crate) struct Verdict {
    pub(crate) name: &'static str,
    pub(crate) pass: bool,
    pub(crate) detail: String,
}

/// The accepted Covers, by what should become of their webhook.
#[derive(Default)]
pub(crate) struct Accepted {
    pub(crate) all: u64,
    /// Completing, with a webhook to the receiver: due, to be delivered.
    pub(crate) to_receiver: u64,
    /// Completing, with a webhook to a host that is not loopback: due, to be refused.
    pub(crate) to_refused: u64,
    /// Without a webhook_url.
    pub(crate) without: u64,
    /// Asked to end FAILED or ERROR (with a webhook_url, which they must not send).
    pub(crate) failing: u64,
}

impl Accepted {
    pub(crate) fn count(tasks: &[Task]) -> Accepted {
        let mut a = Accepted::default();
        for t in tasks {
            a.all += 1;
            match (t.outcome, t.hook) {
                (Outcome::Failed | Outcome::Error, _) => a.failing += 1,
                (Outcome::Completed, Hook::Receiver) => a.to_receiver += 1,
                (Outcome::Completed, Hook::Refused) => a.to_refused += 1,
                (Outcome::Completed, Hook::None) => a.without += 1,
            }
        }
        a
    }

    /// Webhooks that come due: completing Covers with a webhook_url.
    pub(crate) fn due(&self) -> u64 {
        self.to_receiver + self.to_refused
    }
}

/// What the receiver got, against what was due to it.
#[derive(Default)]
pub(crate) struct Audit {
    /// Tasks due to the receiver that it got (once or more).
    pub(crate) got: u64,
    /// Of those, got more than once.
    pub(crate) duplicated: u64,
    /// Payloads for a task that owes the receiver nothing (unknown, failing, other conversion).
    pub(crate) stray: u64,
    /// Due to the receiver and never got.
    pub(crate) missing: u64,
    pub(crate) malformed: u64,
}

impl Audit {
    pub(crate) fn of(tasks: &[Task], received: &Received) -> Audit {
        let due: HashMap<Uuid, Uuid> = tasks
            .iter()
            .filter(|t| t.webhook_due() && t.hook == Hook::Receiver)
            .map(|t| (t.task_id, t.conversion_id))
            .collect();
        let mut audit = Audit {
            malformed: received.malformed,
            ..Audit::default()
        };
        for (task_id, (times, conversion_id)) in &received.tasks {
            if due.get(task_id) == Some(conversion_id) {
                audit.got += 1;
                audit.duplicated += u64::from(*times > 1);
            } else {
                audit.stray += 1;
            }
        }
        audit.missing = due.len() as u64 - audit.got;
        audit
    }
}

/// Everything the checks judge.
pub(crate) struct Evidence<'a> {
    pub(crate) tally: &'a Tally,
    pub(crate) memory: &'a Result<Flatness, String>,
    pub(crate) disk: &'a Result<Flatness, String>,
    pub(crate) held: &'a Held,
    pub(crate) exited: &'a Option<String>,
    pub(crate) stopped: &'a Result<String, String>,
    /// What the mock left in its TMPDIR after it stopped.
    pub(crate) left: &'a [String],
    pub(crate) log: &'a Log,
    pub(crate) accepted: &'a Accepted,
    pub(crate) drained: &'a Result<Drained, String>,
    pub(crate) audit: &'a Audit,
}

pub(crate) fn verdicts(e: &Evidence<'_>) -> Vec<Verdict> {
    let total = e.tally.total();
    let answered: u64 = total.statuses.values().sum();
    let server_errors: u64 = total.statuses.range(500..).map(|(_, n)| n).sum();
    let kinds_sent = e.tally.kinds.iter().filter(|k| k.sent > 0).count();
    let mut v = vec![
        Verdict {
            name: "the load ran",
            pass: e.accepted.all > 0 && kinds_sent == e.tally.kinds.len(),
            detail: format!(
                "{} requests of {kinds_sent} of {} kinds, {} Covers accepted",
                thousands(total.sent),
                e.tally.kinds.len(),
                thousands(e.accepted.all)
            ),
        },
        Verdict {
            name: "every answer as expected",
            pass: total.unexpected == 0,
            detail: format!(
                "{} unexpected of {} answers",
                thousands(total.unexpected),
                thousands(answered)
            ),
        },
        Verdict {
            name: "no 5xx",
            pass: server_errors == 0,
            detail: format!("{} answers 500 or above", thousands(server_errors)),
        },
        Verdict {
            name: "no socket error",
            pass: total.socket_errors == 0,
            detail: format!(
                "{} requests without an answer; {} connections opened for {}",
                thousands(total.socket_errors),
                e.tally.connections_opened,
                e.tally.connections
            ),
        },
        Verdict {
            name: "the mock kept running",
            pass: e.exited.is_none(),
            detail: match e.exited {
                None => "still running after the load and the drain".to_owned(),
                Some(status) => format!("it exited: {status}"),
            },
        },
        Verdict {
            name: "no panic in the mock's log",
            pass: e.log.panics == 0,
            detail: format!(
                "{} of its {} stderr lines say a thread panicked",
                e.log.panics, e.log.lines
            ),
        },
    ];
    for (name, flatness) in [
        ("RSS flat after warm-up", e.memory),
        ("uploads on disk flat after warm-up", e.disk),
    ] {
        v.push(match flatness {
            Ok(f) => Verdict {
                name,
                pass: f.flat,
                detail: format!(
                    "max of the last third {:.1} MiB (t={} s) vs limit {:.1} MiB",
                    crate::common::mib(f.last_third_max.value),
                    f.last_third_max.second,
                    crate::common::mib(f.limit)
                ),
            },
            Err(why) => Verdict {
                name,
                pass: false,
                detail: why.to_owned(),
            },
        });
    }
    match e.drained {
        Ok(d) => {
            let t = d.totals;
            v.push(Verdict {
                name: "every accepted task final",
                pass: d.all_final,
                detail: format!(
                    "{} kept, {}all final {:.1} s after the load",
                    thousands(d.kept),
                    if d.all_final { "" } else { "not " },
                    d.final_after.as_secs_f64()
                ),
            });
            v.push(Verdict {
                name: "uploads kept only for kept tasks",
                pass: e.held.files <= d.kept,
                detail: format!(
                    "{} upload files for {} tasks kept after the drain",
                    thousands(e.held.files),
                    thousands(d.kept)
                ),
            });
            v.push(Verdict {
                name: "no webhook pending",
                pass: d.settled,
                detail: format!(
                    "pending {} after {:.1} s",
                    t.pending,
                    d.settled_after.as_secs_f64()
                ),
            });
            let sum = t.delivered + t.refused + t.dropped + t.failed;
            let [due, delivered, refused, dropped, failed, all] =
                [t.due, t.delivered, t.refused, t.dropped, t.failed, sum].map(thousands);
            v.push(Verdict {
                name: "webhook totals add up",
                pass: t.due == sum && t.pending == 0,
                detail: format!(
                    "due {due} = delivered {delivered} + refused {refused} + dropped {dropped} + failed {failed} = {all}"
                ),
            });
            v.push(Verdict {
                name: "due = accepted Covers with a webhook_url that complete",
                pass: t.due == e.accepted.due(),
                detail: format!(
                    "due {}, accepted {} ({} to the receiver + {} to other hosts)",
                    thousands(t.due),
                    thousands(e.accepted.due()),
                    thousands(e.accepted.to_receiver),
                    thousands(e.accepted.to_refused)
                ),
            });
            v.push(Verdict {
                name: "refused = those to a non-loopback host",
                pass: t.refused == e.accepted.to_refused,
                detail: format!(
                    "refused {}, accepted with such a host {}",
                    thousands(t.refused),
                    thousands(e.accepted.to_refused)
                ),
            });
            let a = e.audit;
            v.push(Verdict {
                name: "receiver got each delivered webhook once",
                pass: a.got == t.delivered && a.duplicated == 0 && a.stray == 0 && a.malformed == 0,
                detail: format!(
                    "got {} tasks for {} delivered; more than once {}, not due to it {}, not a webhook {}",
                    thousands(a.got),
                    thousands(t.delivered),
                    a.duplicated,
                    a.stray,
                    a.malformed
                ),
            });
            v.push(Verdict {
                name: "no webhook lost",
                pass: a.missing == 0 && t.failed == 0 && t.dropped == 0,
                detail: format!(
                    "due to the receiver and never got {}; failed {}, dropped {} (it always answers 200)",
                    a.missing, t.failed, t.dropped
                ),
            });
        }
        Err(why) => v.push(Verdict {
            name: "every accepted task final",
            pass: false,
            detail: format!("the admin API could not say: {why}"),
        }),
    }
    v.push(Verdict {
        name: "stops on SIGTERM and removes its uploads",
        pass: e.stopped.is_ok() && e.left.is_empty(),
        detail: match e.stopped {
            Ok(status) if e.left.is_empty() => format!("exited ({status}), TMPDIR left empty"),
            Ok(status) => format!("exited ({status}) leaving {}", e.left.join(", ")),
            Err(why) => why.to_owned(),
        },
    });
    v
}
