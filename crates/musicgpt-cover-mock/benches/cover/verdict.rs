//! One target's outcome, as a measurement reports it, and the closing `targets` list.

use std::process::ExitCode;

/// One target's outcome.
pub(crate) struct Verdict {
    pub(crate) name: String,
    pub(crate) pass: bool,
    /// What was measured, against what target; when missed, how far off.
    pub(crate) detail: String,
}

impl Verdict {
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
        Verdict {
            name,
            pass,
            detail: format!("{what}: {} (target >= {}){off}", round_like(value), target),
        }
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
        Verdict {
            name,
            pass,
            detail: format!(
                "{what}: {} {unit} (target <= {target} {unit}){off}",
                round_like(value)
            ),
        }
    }

    /// When the target was missed, says why it could not be met: what the profile showed
    /// (`why`, which points into docs/profile.md); a met target is left as it is.
    pub(crate) fn explained(mut self, why: &str) -> Verdict {
        if !self.pass {
            self.detail.push_str(&format!(". Why: {why}"));
        }
        self
    }
}

/// A number with as many decimals as its size calls for.
pub(crate) fn round_like(v: f64) -> String {
    let a = v.abs();
    if a >= 100.0 {
        format!("{v:.0}")
    } else if a >= 10.0 {
        format!("{v:.1}")
    } else if a >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    }
}

/// Lists every target's outcome; the exit status: 0 when all were met (or, in a smoke run, which
/// judges nothing, always), 1 when one was missed.
pub(crate) fn report(verdicts: &[Verdict], smoke: bool) -> ExitCode {
    println!(
        "\ntargets{}",
        if smoke {
            " (smoke run: shown, not judged)"
        } else {
            ""
        }
    );
    for v in verdicts {
        let mark = match (smoke, v.pass) {
            (true, _) => "----",
            (false, true) => "PASS",
            (false, false) => "FAIL",
        };
        println!("  {mark}  {}: {}", v.name, v.detail);
    }
    if smoke || verdicts.iter().all(|v| v.pass) {
        ExitCode::SUCCESS
    } else {
        println!("a target was missed");
        ExitCode::from(1)
    }
}

/// The targets as a Markdown table: target, met or missed, what was measured.
pub(crate) fn markdown(verdicts: &[Verdict]) -> String {
    let mut out = String::from("| target | verdict | measured |\n|---|---|---|\n");
    for v in verdicts {
        out.push_str(&format!(
            "| {} | {} | {} |\n",
            v.name,
            if v.pass { "met" } else { "**missed**" },
            v.detail.replace('|', "\\|")
        ));
    }
    out
}
