//! schemathesis (PyPI), a property-based tester nobody here wrote, against the running mock:
//! every check, positive and negative data, all four phases (examples, coverage, fuzzing,
//! stateful), a fixed seed and a few hundred cases per operation. Zero failures allowed.
//! Its configuration and hooks are committed beside this package (`schemathesis.toml`,
//! `schemathesis_hooks.py`), every departure from the defaults justified there.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use musicgpt_cover_contract_tests::{spec as spec_file, tools};
use musicgpt_cover_mock::{ClockMode, MockServer};

use crate::common::{KEY, SEED, spec};

/// The seed of schemathesis' generator: the same cases on every run.
const SCHEMATHESIS_SEED: &str = "20261123";
/// Cases per operation and phase.
const MAX_EXAMPLES: &str = "300";
/// Far above a normal run (about a minute); a hung run fails instead of stalling CI.
const DEADLINE: Duration = Duration::from_secs(15 * 60);
const PHASES: [&str; 4] = ["Examples", "Coverage", "Fuzzing", "Stateful"];

fn package_file(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(name)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemathesis_finds_nothing_against_the_mock() {
    let program = tools::venv_program("schemathesis").unwrap_or_else(|e| panic!("{e}"));
    // Only the suite's key is accepted, so schemathesis' `ignored_auth` check sees a refused key
    // refused; the clock is real so the stateful phase sees tasks move.
    let mock = MockServer::builder()
        .seed(SEED)
        .clock(ClockMode::Real)
        .api_key(KEY)
        .start()
        .await;
    let work = std::env::temp_dir().join(format!(
        "musicgpt-contract-schemathesis-{}",
        std::process::id()
    ));
    std::fs::create_dir_all(&work).expect("a work folder");
    let args: Vec<String> = [
        "--config-file",
        &package_file("schemathesis.toml").to_string_lossy(),
        "run",
        &spec_file::path().to_string_lossy(),
        "--url",
        mock.base_url(),
        "--checks",
        "all",
        "--mode",
        "all",
        "--phases",
        "examples,coverage,fuzzing,stateful",
        "--seed",
        SCHEMATHESIS_SEED,
        "--max-examples",
        MAX_EXAMPLES,
        "--header",
        &format!("Authorization: {KEY}"),
        "--generation-database",
        "none",
        "--no-color",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    let hooks = package_file("schemathesis_hooks.py");
    let started = Instant::now();
    let work_dir = work.clone();
    let output =
        tokio::task::spawn_blocking(move || run_with_deadline(&program, &args, &hooks, &work_dir))
            .await
            .expect("the schemathesis thread");
    let _ = std::fs::remove_dir_all(&work);
    let (success, stdout, stderr) = output;
    let summary = stdout
        .find("=== SUMMARY")
        .or_else(|| stdout.find("SUMMARY"))
        .map_or(stdout.as_str(), |i| &stdout[i..]);
    eprintln!(
        "schemathesis ran for {:.0} s; its summary:\n{summary}",
        started.elapsed().as_secs_f64()
    );
    if !success {
        let failures = stdout
            .find("FAILURES")
            .map_or(stdout.as_str(), |i| &stdout[i..]);
        panic!("schemathesis reported failures against the mock:\n{failures}\n{stderr}");
    }
    for phase in PHASES {
        assert!(
            summary.contains(&format!("✅ {phase}")),
            "the {phase} phase did not run and pass:\n{summary}"
        );
    }
    let tested = format!("Tested: {}", spec().operations().len());
    assert!(
        summary.contains(&tested),
        "not every operation was tested ({tested} expected):\n{summary}"
    );
}

/// Runs schemathesis in `work`, killing it at [`DEADLINE`]. Returns (exit success, stdout,
/// stderr).
fn run_with_deadline(
    program: &Path,
    args: &[String],
    hooks: &Path,
    work: &Path,
) -> (bool, String, String) {
    let out = work.join("stdout.txt");
    let err = work.join("stderr.txt");
    let mut child = tools::loopback_only(
        Command::new(program)
            .args(args)
            .current_dir(work)
            .env("SCHEMATHESIS_HOOKS", hooks),
    )
    .stdin(Stdio::null())
    .stdout(std::fs::File::create(&out).expect("a stdout file"))
    .stderr(std::fs::File::create(&err).expect("a stderr file"))
    .spawn()
    .unwrap_or_else(|e| panic!("cannot run {}: {e}", program.display()));
    let deadline = Instant::now() + DEADLINE;
    let status = loop {
        match child.try_wait().expect("waiting for schemathesis") {
            Some(status) => break status,
            None if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "schemathesis did not finish within {DEADLINE:?}; its output so far:\n{}",
                    std::fs::read_to_string(&out).unwrap_or_default()
                );
            }
            None => std::thread::sleep(Duration::from_millis(200)),
        }
    };
    (
        status.success(),
        std::fs::read_to_string(&out).unwrap_or_default(),
        std::fs::read_to_string(&err).unwrap_or_default(),
    )
}
