//! One target's outcome, as a measurement reports it, and the closing `targets` list.

use std::process::ExitCode;

/// Whether a target was met.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    Met,
    Missed,
    /// What it is judged on was not measured in this run (a peer not installed, or left out, or
    /// answering nothing 2xx): neither met nor missed.
    NotMeasured,
}

/// One target's outcome.
pub(crate) struct Verdict {
    pub(crate) name: String,
    pub(crate) outcome: Outcome,
    /// What was measured, against what target; when missed, how far off; when not measured, why.
    pub(crate) detail: String,
}

impl Verdict {
    /// A target met when `pass`.
    pub(crate) fn judged(name: String, pass: bool, detail: String) -> Verdict {
        Verdict {
            name,
            outcome: if pass { Outcome::Met } else { Outcome::Missed },
            detail,
        }
    }

    /// A target this run could not judge, and why.
    pub(crate) fn not_measured(name: String, why: String) -> Verdict {
        Verdict {
            name,
            outcome: Outcome::NotMeasured,
            detail: why,
        }
    }

    /// A target that `value` be at least `target`; the detail says how far short a miss is.
    pub(crate) fn at_least(name: String, value: f64, target: f64, what: String) -> Verdict {
        let pass = value >= target;
        let off = if pass {
            String::new()
        } else {
            format!(
                "; missed by {:.1} % ({} short)",
                (1.0 - value / target) * 100.0,
                round_like(target - value)
            )
        };
        Verdict::judged(
            name,
            pass,
            format!("{what}: {} (target >= {}){off}", round_like(value), target),
        )
    }

    /// A target that `value` be at most `target`, in `unit`; the detail says how far over a miss
    /// is.
    pub(crate) fn at_most(
        name: String,
        value: f64,
        target: f64,
        unit: &str,
        what: String,
    ) -> Verdict {
        let pass = value <= target;
        let off = if pass {
            String::new()
        } else {
            format!(
                "; missed: {} {unit} over, {:.1} x the target",
                round_like(value - target),
                value / target
            )
        };
        Verdict::judged(
            name,
            pass,
            format!(
                "{what}: {} {unit} (target <= {target} {unit}){off}",
                round_like(value)
            ),
        )
    }

    /// When the target was missed, says why it could not be met: what was measured and what the
    /// profile showed (`why`, which points into docs/profile.md); a met target is left as it is.
    pub(crate) fn explained(mut self, why: &str) -> Verdict {
        if self.outcome == Outcome::Missed {
            self.detail.push_str(&format!(". Why: {why}"));
        }
        self
    }
}

/// A number with as many decimals as its size calls for.
pub(crate) fn round_like(v: f64) -> String {
    let decimals = match v.abs() {
        a if a >= 100.0 => 0,
        a if a >= 10.0 => 1,
        a if a >= 1.0 => 2,
        _ => 3,
    };
    format!("{v:.decimals$}")
}

/// Lists every target's outcome; the exit status: 0 when none was missed (or, in a smoke run,
/// which judges nothing, always), 1 when one was. A target not measured is neither: it is listed
/// with the reason, and counted in the closing line.
pub(crate) fn report(verdicts: &[Verdict], smoke: bool) -> ExitCode {
    let note = smoke.then_some(" (smoke run: shown, not judged)");
    println!("\ntargets{}", note.unwrap_or_default());
    for v in verdicts {
        let mark = match (smoke, v.outcome) {
            (_, Outcome::NotMeasured) => "NONE",
            (true, _) => "----",
            (false, Outcome::Met) => "PASS",
            (false, Outcome::Missed) => "FAIL",
        };
        println!("  {mark}  {}: {}", v.name, v.detail);
    }
    let unmeasured = count(verdicts, Outcome::NotMeasured);
    if unmeasured > 0 {
        println!("{unmeasured} target(s) not measured in this run (NONE): neither met nor missed");
    }
    if smoke || count(verdicts, Outcome::Missed) == 0 {
        ExitCode::SUCCESS
    } else {
        println!("a target was missed");
        ExitCode::from(1)
    }
}

fn count(verdicts: &[Verdict], outcome: Outcome) -> usize {
    verdicts.iter().filter(|v| v.outcome == outcome).count()
}

/// The targets as a Markdown table: target, met, missed or not measured, what was measured (or
/// why not).
pub(crate) fn markdown(verdicts: &[Verdict]) -> String {
    let mut out = String::from("| target | verdict | measured |\n|---|---|---|\n");
    for v in verdicts {
        out.push_str(&format!(
            "| {} | {} | {} |\n",
            v.name,
            match v.outcome {
                Outcome::Met => "met",
                Outcome::Missed => "**missed**",
                Outcome::NotMeasured => "not measured",
            },
            v.detail.replace('|', "\\|")
        ));
    }
    out
}
