//! `cargo xtask bench [OPTIONS]`: the mock's benchmarks (throughput beside a bare multipart
//! parser, peak RSS of a 1 GiB upload), run by hand. Never part of `cargo xtask ci`: timings on a
//! shared CI machine are too noisy to gate on.
//!
//! Builds the mock's binary in release, then runs `cargo bench -p musicgpt-cover-mock --bench
//! cover -- OPTIONS` (also release) with the binary's path in [`BIN_ENV`]. The bench prints its
//! options with `--help` and exits non-zero when a target is missed.

use std::path::PathBuf;
use std::process::Stdio;

use crate::{Error, Result, process};

/// Where the bench finds the mock's binary (its peak-RSS measurement runs it as a child).
const BIN_ENV: &str = "MUSICGPT_BENCH_MOCK_BIN";

pub(crate) fn run(args: &[String]) -> Result {
    // `cargo xtask bench -- --rounds 3` reads naturally too; one `--` for cargo is added below.
    let args = match args.split_first() {
        Some((first, rest)) if first == "--" => rest,
        _ => args,
    };
    let binary = build_mock("bench")?;

    let mut bench = process::cargo();
    bench
        .args([
            "bench",
            "--package",
            "musicgpt-cover-mock",
            "--bench",
            "cover",
            "--",
        ])
        .args(args)
        .env(BIN_ENV, &binary);
    println!(
        "bench: {BIN_ENV}={} {}",
        binary.display(),
        process::display(&bench)
    );
    process::run(&mut bench).map_err(|error| {
        Error::new(format!(
            "bench: {error}: a target was missed (FAIL above) or the run was not valid (error above)"
        ))
    })
}

/// `cargo build --release -p musicgpt-cover-mock --bin musicgpt-cover-mock`, announced as the
/// command `who`; returns the binary's absolute path, as cargo reports it (so
/// `CARGO_TARGET_DIR` and the like are honoured). The soak builds it the same way.
pub(crate) fn build_mock(who: &str) -> Result<PathBuf> {
    let mut build = process::cargo();
    build.args([
        "build",
        "--release",
        "--package",
        "musicgpt-cover-mock",
        "--bin",
        "musicgpt-cover-mock",
        // JSON on stdout, to find the binary; the usual progress and diagnostics on stderr.
        "--message-format=json-render-diagnostics",
    ]);
    println!("{who}: {}", process::display(&build));
    let output = build
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|error| {
            Error::new(format!(
                "`{}` could not start: {error}",
                process::display(&build)
            ))
        })?;
    if !output.status.success() {
        return Err(Error::new(format!(
            "`{}` failed ({})",
            process::display(&build),
            output.status
        )));
    }
    let messages = String::from_utf8_lossy(&output.stdout);
    executable(&messages).map(PathBuf::from).ok_or_else(|| {
        Error::new(format!(
            "`{}` named no executable in its output",
            process::display(&build)
        ))
    })
}

/// The `executable` of the mock's binary in cargo's JSON messages (one object a line).
fn executable(messages: &str) -> Option<String> {
    messages
        .lines()
        .filter(|line| {
            line.contains(r#""reason":"compiler-artifact""#)
                && line.contains(r#""name":"musicgpt-cover-mock""#)
                && line.contains(r#""kind":["bin"]"#)
        })
        .find_map(|line| json_string_after(line, r#""executable":""#))
}

/// The JSON string that starts right after `key` in `line`, unescaped (the escapes a path can
/// hold: `\\`, `\"`, `\/`; any other makes it `None`).
fn json_string_after(line: &str, key: &str) -> Option<String> {
    let start = line.find(key)? + key.len();
    let mut out = String::new();
    let mut chars = line[start..].chars();
    loop {
        match chars.next()? {
            '"' => return Some(out),
            '\\' => match chars.next()? {
                c @ ('\\' | '"' | '/') => out.push(c),
                _ => return None,
            },
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_binary_is_found_in_cargos_messages() {
        let messages = concat!(
            r#"{"reason":"compiler-artifact","package_id":"path+file:///w/crates/musicgpt-cover-mock#0.1.0","target":{"kind":["lib"],"crate_types":["lib"],"name":"musicgpt_cover_mock"},"executable":null,"fresh":true}"#,
            "\n",
            r#"{"reason":"compiler-artifact","package_id":"path+file:///w/crates/musicgpt-cover-mock#0.1.0","target":{"kind":["bin"],"crate_types":["bin"],"name":"musicgpt-cover-mock","src_path":"/w/src/main.rs"},"filenames":["/w/target/release/musicgpt-cover-mock"],"executable":"/w/my \"target\"\\release/musicgpt-cover-mock","fresh":false}"#,
            "\n",
            r#"{"reason":"build-finished","success":true}"#,
        );
        assert_eq!(
            executable(messages).as_deref(),
            Some(r#"/w/my "target"\release/musicgpt-cover-mock"#)
        );
        assert_eq!(
            executable(r#"{"reason":"build-finished","success":true}"#),
            None
        );
        assert_eq!(
            json_string_after(r#""executable":"a\nb""#, r#""executable":""#),
            None
        );
    }
}
