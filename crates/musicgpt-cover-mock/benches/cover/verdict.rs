//! One target's outcome, as a measurement reports it, and the closing `targets` list.

use std::process::ExitCode;

/// One target's outcome.
pub(crate) struct Verdict {
    pub(crate) name: String,
    pub(crate) pass: bool,
    pub(crate) detail: String,
}

/// Lists every target's outcome; the exit status: 0 when all were met, 1 when one was missed.
pub(crate) fn report(verdicts: &[Verdict]) -> ExitCode {
    println!("\ntargets");
    for v in verdicts {
        println!(
            "  {}  {}: {}",
            if v.pass { "PASS" } else { "FAIL" },
            v.name,
            v.detail
        );
    }
    if verdicts.iter().all(|v| v.pass) {
        ExitCode::SUCCESS
    } else {
        println!("a target was missed");
        ExitCode::from(1)
    }
}
