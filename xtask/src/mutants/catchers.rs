//! What caught a mutation, read from the output of `cargo test --no-fail-fast`: the failing
//! targets and tests, the crates whose build failed, the tests still running at a time limit.

/// A test target that failed, with the tests that failed in it, or a crate whose build failed.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Catcher {
    /// `rerun` is what cargo says to pass to rerun the target, such as `-p tests --test contract`.
    Target {
        rerun: String,
        tests: Vec<String>,
    },
    Build {
        krate: String,
    },
    /// A test still running when the suite was killed at its time limit.
    Running {
        name: String,
    },
    /// The suite failed but its output names no test and no crate: cargo's first error, if any.
    Unidentified {
        error: Option<String>,
    },
}

impl Catcher {
    /// For the table: the target and at most `limit` test names.
    pub(super) fn brief(&self, limit: usize) -> String {
        match self {
            Self::Target { rerun, tests } if tests.is_empty() => {
                format!("`{rerun}` (no test named)")
            }
            Self::Target { rerun, tests } => {
                let shown: Vec<String> =
                    tests.iter().take(limit).map(|t| format!("`{t}`")).collect();
                let more = match tests.len().saturating_sub(limit) {
                    0 => String::new(),
                    more => format!(" and {more} more"),
                };
                format!("`{rerun}`: {}{more}", shown.join(", "))
            }
            Self::Build { krate } => format!("build: `{krate}`"),
            Self::Running { name } => format!("`{name}` (still running)"),
            Self::Unidentified { error: Some(error) } => format!("no test named: `{error}`"),
            Self::Unidentified { error: None } => "no test named (see the log)".to_string(),
        }
    }
}

/// The failing targets, tests and builds named in the output of `cargo test --no-fail-fast`.
///
/// The lines read, as libtest (the first two, while a target runs) and cargo print them:
///
/// ```text
/// test <name> ... FAILED
/// ---- <name> stdout ----
/// error: test failed, to rerun pass `<args>`        (closes a failed target)
/// error: could not compile `<crate>` (lib) due to 1 previous error
/// error: failed to run custom build command for `<crate> <version> (<path>)`
/// ```
pub(super) fn catchers(output: &str) -> Vec<Catcher> {
    let mut found = Vec::new();
    let mut failing: Vec<String> = Vec::new();
    for line in output.lines().map(str::trim_end) {
        // cargo's own lines, indented as cargo indents them, so a test printing "Running" is not one.
        if line.starts_with("     Running ") || line.starts_with("   Doc-tests ") {
            failing.clear();
        } else if let Some(name) = failed_test(line) {
            if !failing.contains(&name) {
                failing.push(name);
            }
        } else if let Some(rerun) = between(line, "to rerun pass `", "`") {
            found.push(Catcher::Target {
                rerun: rerun.to_string(),
                tests: std::mem::take(&mut failing),
            });
        } else if let Some(krate) = build_failure(line) {
            let catcher = Catcher::Build { krate };
            if !found.contains(&catcher) {
                found.push(catcher);
            }
        }
    }
    found
}

/// The tests libtest said were slow (`test <name> has been running for over 60 seconds`) and that
/// had not finished when the suite was killed.
pub(super) fn still_running(output: &str) -> Vec<Catcher> {
    let mut slow: Vec<String> = Vec::new();
    for line in output.lines().map(str::trim_end) {
        let Some(rest) = line.strip_prefix("test ") else {
            continue;
        };
        if let Some((name, _)) = rest.split_once(" has been running for over ") {
            slow.push(name.to_string());
        } else if let Some((name, _)) = rest.rsplit_once(" ... ") {
            slow.retain(|slow| slow != name);
        }
    }
    slow.into_iter()
        .map(|name| Catcher::Running { name })
        .collect()
}

fn failed_test(line: &str) -> Option<String> {
    let name = line
        .strip_prefix("test ")
        .and_then(|rest| rest.strip_suffix(" ... FAILED"))
        .or_else(|| {
            line.strip_prefix("---- ")
                .and_then(|rest| rest.strip_suffix(" stdout ----"))
        })?;
    Some(name.to_string())
}

fn build_failure(line: &str) -> Option<String> {
    if let Some(krate) = between(line, "error: could not compile `", "`") {
        return Some(krate.to_string());
    }
    let package = between(line, "error: failed to run custom build command for `", "`")?;
    // `<crate> v0.1.0 (/path)`: the crate is the first word.
    package.split_whitespace().next().map(str::to_string)
}

/// The text after the first `start` in `line`, up to the next `end`.
fn between<'a>(line: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let rest = &line[line.find(start)? + start.len()..];
    Some(&rest[..rest.find(end)?])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Output of `cargo test --workspace --no-fail-fast` (cargo 1.95), cut down: two failing
    /// targets, a passing one, a doctest, and a test that prints uncaptured output.
    const SAMPLE: &str = "\
   Compiling a v0.1.0 (/tmp/mt/a)
    Finished `test` profile [unoptimized + debuginfo] target(s) in 0.25s
     Running unittests src/lib.rs (target/debug/deps/a-3110576fc3c3c96d)

running 3 tests
test tests::fails_two ... FAILED
test tests::fails_one ... FAILED
test tests::passes ... ok

failures:

---- tests::fails_two stdout ----
out

thread 'tests::fails_two' (21956) panicked at a/src/lib.rs:6:47:
boom

---- tests::fails_one stdout ----

thread 'tests::fails_one' (21955) panicked at a/src/lib.rs:5:30:
assertion `left == right` failed

failures:
    tests::fails_one
    tests::fails_two

test result: FAILED. 1 passed; 2 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.07s

error: test failed, to rerun pass `-p a --lib`
     Running tests/it/main.rs (target/debug/deps/it-e9084a9c25208d2e)

running 2 tests
test snapshots::cover_200 ... ok
test round_trip::cover_402 ... FAILED

failures:

---- round_trip::cover_402 stdout ----
thread 'round_trip::cover_402' panicked at tests/it/round_trip.rs:1:25:
x

failures:
    round_trip::cover_402

test result: FAILED. 1 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.06s

error: test failed, to rerun pass `-p contract --test it`
     Running unittests src/lib.rs (target/debug/deps/c-b8f9cf2b557ae793)

running 1 test
test fine ... ok

test result: ok. 1 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s

   Doc-tests a

running 1 test
test a/src/lib.rs - (line 3) ... FAILED

failures:

---- a/src/lib.rs - (line 3) stdout ----
Test executable failed (exit status: 101).

failures:
    a/src/lib.rs - (line 3)

test result: FAILED. 0 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.10s

error: doctest failed, to rerun pass `-p a --doc`
error: 3 targets failed:
    `-p a --lib`
    `-p contract --test it`
    `-p a --doc`
";

    #[test]
    fn failing_tests_are_read_from_libtest_output() {
        let target = |rerun: &str, tests: &[&str]| Catcher::Target {
            rerun: rerun.to_string(),
            tests: tests.iter().map(|test| test.to_string()).collect(),
        };
        assert_eq!(
            catchers(SAMPLE),
            vec![
                target("-p a --lib", &["tests::fails_two", "tests::fails_one"]),
                target("-p contract --test it", &["round_trip::cover_402"]),
                target("-p a --doc", &["a/src/lib.rs - (line 3)"]),
            ]
        );
        let passing = "     Running unittests src/lib.rs (x)\n\nrunning 1 test\ntest fine ... ok\n\n\
                       test result: ok. 1 passed; 0 failed\n";
        assert_eq!(catchers(passing), Vec::new());
    }

    #[test]
    fn a_build_failure_names_the_crate() {
        let output = "\
   Compiling musicgpt-cover v0.1.0 (/w/crates/musicgpt-cover)
error[E0609]: no field `eta` on type `CoverResponse`
error: could not compile `musicgpt-cover` (lib) due to 1 previous error
warning: build failed, waiting for other jobs to finish...
error: failed to run custom build command for `musicgpt-cover-mock v0.1.0 (/w/crates/musicgpt-cover-mock)`
error: could not compile `musicgpt-cover` (lib test) due to 1 previous error
";
        assert_eq!(
            catchers(output),
            vec![
                Catcher::Build {
                    krate: "musicgpt-cover".to_string()
                },
                Catcher::Build {
                    krate: "musicgpt-cover-mock".to_string()
                },
            ]
        );
    }

    #[test]
    fn a_killed_run_names_the_tests_that_never_finished() {
        let output = "\
     Running tests/mock/main.rs (target/debug/deps/mock-818158a5e17e8349)

running 3 tests
test prefer::every_named_example_byte_for_byte ... ok
test samples::the_seed_curl_sample_works has been running for over 60 seconds
test samples::the_seed_python_sample_works has been running for over 60 seconds
test samples::the_seed_curl_sample_works ... ok
";
        assert_eq!(
            still_running(output),
            vec![Catcher::Running {
                name: "samples::the_seed_python_sample_works".to_string()
            }]
        );
    }

    #[test]
    fn the_table_cell_shortens_long_lists() {
        let catcher = Catcher::Target {
            rerun: "-p t --test contract".to_string(),
            tests: (1..=6).map(|n| format!("t{n}")).collect(),
        };
        assert_eq!(
            catcher.brief(2),
            "`-p t --test contract`: `t1`, `t2` and 4 more"
        );
    }
}
