//! BENCHMARKS.md, the results of `cargo xtask bench`: a header (how to reproduce, where the numbers
//! come from) and one section per measurement, each between `<!-- section NAME -->` and
//! `<!-- /section NAME -->` with a stamp of its own (date, commit, machine, command). A run
//! replaces the sections it measured and keeps the others as they were, stamp and all, so a
//! section the last run left out (`build`, say) still says which run its numbers are from.

use std::path::Path;
use std::process::Command;

use crate::ci::Timings;
use crate::{Result, process, project};

/// The file, at the workspace root.
pub(crate) const FILE: &str = "BENCHMARKS.md";

/// The sections in the order the file lists them; a section of another name goes last.
const ORDER: &[&str] = &[
    "throughput",
    "startup",
    "webhooks",
    "mock-upload",
    "client-upload",
    "soak",
    "pitch",
    "build",
    "ci",
];

/// One section: its name and its text between the markers (heading and stamp included).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Section {
    pub(crate) name: String,
    pub(crate) body: String,
}

/// The sections of a file (or of the bench's `--markdown` output), in their order.
pub(crate) fn sections(text: &str) -> Vec<Section> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("<!-- section ") {
        let after = &rest[start + "<!-- section ".len()..];
        let Some(close) = after.find(" -->") else {
            break;
        };
        let name = after[..close].trim().to_owned();
        let body_start = &after[close + " -->".len()..];
        let end_marker = format!("<!-- /section {name} -->");
        let Some(end) = body_start.find(&end_marker) else {
            break;
        };
        out.push(Section {
            name,
            body: body_start[..end].trim_matches('\n').to_owned(),
        });
        rest = &body_start[end + end_marker.len()..];
    }
    out
}

/// `fresh` sections put in place of the same-named ones of `old`; the others of `old` kept; the
/// header written anew.
pub(crate) fn merge(old: &str, fresh: &[Section], header: &str) -> String {
    let mut all: Vec<Section> = sections(old);
    for section in fresh {
        let body = section.body.clone();
        match all.iter_mut().find(|s| s.name == section.name) {
            Some(existing) => existing.body = body,
            None => all.push(Section {
                name: section.name.clone(),
                body,
            }),
        }
    }
    let rank = |name: &str| ORDER.iter().position(|n| *n == name).unwrap_or(ORDER.len());
    all.sort_by_key(|s| rank(&s.name));
    let mut out = header.trim_end().to_owned();
    out.push_str("\n\n");
    for s in &all {
        out.push_str(&format!(
            "<!-- section {} -->\n{}\n<!-- /section {} -->\n\n",
            s.name,
            s.body.trim_matches('\n'),
            s.name
        ));
    }
    out.trim_end().to_owned() + "\n"
}

/// The stamp goes right under the section's heading (its first line, when it is one).
fn stamped(body: &str, stamp: &str) -> String {
    match body.split_once('\n') {
        Some((heading, rest)) if heading.starts_with('#') => {
            format!("{heading}\n\n{stamp}\n\n{}", rest.trim_start_matches('\n'))
        }
        _ => format!("{stamp}\n\n{body}"),
    }
}

/// The machine, in one line: cores, RAM, CPU model, kernel, rustc.
pub(crate) fn machine() -> String {
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    let read = |path: &str| std::fs::read_to_string(path).unwrap_or_default();
    let ram = read("/proc/meminfo")
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or_else(
            || "RAM unknown".to_owned(),
            |kib| format!("{:.1} GiB RAM", kib / 1024.0 / 1024.0),
        );
    let cpu = read("/proc/cpuinfo")
        .lines()
        .find_map(|l| {
            let (key, value) = l.split_once(':')?;
            (key.trim() == "model name").then(|| value.trim().to_owned())
        })
        .unwrap_or_else(|| "CPU model unknown".to_owned());
    let kernel = read("/proc/sys/kernel/osrelease").trim().to_owned();
    let rustc = process::stdout(
        Command::new(std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into())).arg("-V"),
    )
    .unwrap_or_else(|_| "rustc unknown".to_owned());
    format!(
        "{cores} cores, {ram}, {cpu}, Linux {}, {rustc}",
        if kernel.is_empty() { "?" } else { &kernel }
    )
}

/// The commit checked out, with a note when the tree has uncommitted changes to tracked files.
pub(crate) fn commit() -> String {
    let head = process::stdout(process::git().args(["rev-parse", "--short=12", "HEAD"]))
        .unwrap_or_else(|_| "unknown".to_owned());
    let dirty =
        process::stdout(process::git().args(["status", "--porcelain", "--untracked-files=no"]))
            .is_ok_and(|s| !s.is_empty());
    if dirty {
        format!("{head} (with uncommitted changes)")
    } else {
        head
    }
}

/// Now, as `YYYY-MM-DD HH:MM UTC`.
pub(crate) fn now_utc() -> String {
    chrono::Utc::now().format("%Y-%m-%d %H:%M UTC").to_string()
}

/// The header: what the file is and how to reproduce it.
pub(crate) fn header(latest: &str) -> String {
    format!(
        "# Benchmarks\n\n\
         Written by `cargo xtask bench`; do not edit by hand. What each number means and how it is \
         measured is in [docs/benchmarks.md](docs/benchmarks.md).\n\n\
         **Reproduce:** `cargo xtask bench` on a quiet machine (about 10 minutes: it installs \
         the bench's peers WireMock and Mockoon once (`cargo xtask tools --bench`; WireMock needs \
         Java 11 or newer), builds the mock in release, runs the `cover` bench — throughput \
         beside a bare server, Prism, WireMock and Mockoon, start-up, webhooks, memory, \
         conversion — then the 60 s soak). `cargo xtask bench --with-build` adds the build rows \
         (a clean build of the workspace into a temporary target dir: 2 to 3 minutes on 2 cores, \
         so not in the default run); `cargo xtask bench --only build` measures them alone. The \
         `ci` section is read from `target/ci/timings.json`, which `cargo xtask ci` writes.\n\n\
         What `cargo xtask bench` runs: `cargo xtask tools --bench` (when WireMock or Mockoon \
         is missing or out of date; a peer that is not installed is left out and its section \
         says so); `cargo build --release -p musicgpt-cover-mock`; then \
         `MUSICGPT_BENCH_MOCK_BIN=target/release/musicgpt-cover-mock cargo bench -p \
         musicgpt-cover-mock --bench cover -- [OPTIONS] --markdown target/bench/cover.md`; then \
         `MUSICGPT_SOAK_MOCK_BIN=target/release/musicgpt-cover-mock cargo bench -p \
         musicgpt-cover-mock --bench soak -- --seconds 60`; with `--with-build`, \
         `CARGO_TARGET_DIR=<fresh temporary dir> cargo build --workspace`, then `touch \
         openapi.yaml && cargo test -p musicgpt-cover`.\n\n\
         **Where each number comes from:** every section carries its own stamp (date, commit, \
         machine, command). A run replaces the sections it measured and leaves the others as they \
         were, stamp included, so a section older than the latest run says so.\n\n\
         Latest run: {latest}.\n\n\
         Every figure is the median of its rounds (at least 3, 20 for start-up) and every ratio \
         was measured in the same run as both its sides. Each target is met, missed or not \
         measured: one that is missed says by how much and why (what the run measured, then \
         what the profile showed), one not measured why not (a peer not installed, say), and \
         only a missed one fails the run; [docs/profile.md](docs/profile.md) has the \
         profiles, what was changed for them and what moved.\n"
    )
}

/// The `ci` section from `target/ci/timings.json`, or a note that there is none.
pub(crate) fn ci_section(root: &Path) -> Section {
    let path = root.join("target").join("ci").join("timings.json");
    let title = "## `cargo xtask ci` (issue 12, item 6)";
    let body = match std::fs::read_to_string(&path)
        .map_err(|e| e.to_string())
        .and_then(|t| serde_json::from_str(&t).map_err(|e| format!("not valid: {e}")))
    {
        Ok(timings) => ci_markdown(&timings),
        Err(why) => format!(
            "Not recorded: `target/ci/timings.json` ({why}). `cargo xtask ci` writes it at the \
             end of a run."
        ),
    };
    Section {
        name: "ci".to_owned(),
        body: format!("{title}\n\n{body}"),
    }
}

/// The most `cargo xtask ci` may take from a fresh clone, in seconds.
const CI_TARGET_SECONDS: f64 = 20.0 * 60.0;

fn ci_markdown(timings: &Timings) -> String {
    let mut out = format!(
        "Recorded by `cargo xtask ci` at commit {} on {} (`target/ci/timings.json`; not measured \
         by the bench).\n\n| step | seconds |\n|---|---|\n",
        timings.commit, timings.date
    );
    for step in &timings.steps {
        out.push_str(&format!("| {} | {:.1} |\n", step.name, step.seconds));
    }
    let total = timings.total_seconds;
    out.push_str(&format!(
        "| **total** | **{total:.1}** ({:.1} min) |\n\n",
        total / 60.0
    ));
    let verdict = if total <= CI_TARGET_SECONDS {
        "met".to_owned()
    } else {
        format!(
            "**missed**: {:.1} min over, {:.2} × the target",
            (total - CI_TARGET_SECONDS) / 60.0,
            total / CI_TARGET_SECONDS
        )
    };
    out.push_str(&format!(
        "| target | verdict | measured |\n|---|---|---|\n| `cargo xtask ci` from a fresh clone | {verdict} | {:.1} min (target <= {:.0} min; whether that run started from a fresh clone is as `cargo xtask ci` recorded it) |\n",
        total / 60.0,
        CI_TARGET_SECONDS / 60.0
    ));
    out
}

/// Writes the file: `fresh` merged into what is there, stamped with `when` (the run's start).
pub(crate) fn write(fresh: &[Section], command: &str, when: &str) -> Result {
    let root = project::root();
    let path = root.join(FILE);
    let old = std::fs::read_to_string(&path).unwrap_or_default();
    let commit = commit();
    let machine = machine();
    let stamp = format!("_Measured {when} at commit {commit} on {machine}, by `{command}`._");
    let mut fresh: Vec<Section> = fresh
        .iter()
        .map(|s| Section {
            name: s.name.clone(),
            body: stamped(&s.body, &stamp),
        })
        .collect();
    // Stamped by `cargo xtask ci`'s own record, not by this run.
    fresh.push(ci_section(&root));
    // The build rows are not in the default run: until a run measures them, the file says so.
    if !fresh.iter().any(|s| s.name == "build") && !sections(&old).iter().any(|s| s.name == "build")
    {
        fresh.push(Section {
            name: "build".to_owned(),
            body: "## Build (issue 12, item 6)\n\nNot measured yet: `cargo xtask bench \
                   --with-build` (or `--only build`) measures a clean workspace build and a spec \
                   edit reaching the client's tests. They are not in the default run: the clean \
                   build alone takes 2 to 3 minutes on 2 cores."
                .to_owned(),
        });
    }
    let latest = format!("started {when}, commit {commit}, `{command}`, on {machine}");
    let text = merge(&old, &fresh, &header(&latest));
    project::write(&path, &text)?;
    println!("bench: wrote {}", project::relative(&path));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_replaces_its_sections_and_keeps_the_others_with_their_stamps() {
        let old = "# old header\n\n<!-- section build -->\n## Build\n\n_Measured long ago._\n\n| a | b |\n<!-- /section build -->\n\n<!-- section throughput -->\n## Throughput\n\nold numbers\n<!-- /section throughput -->\n";
        let fresh = sections(
            "<!-- section throughput -->\n## Throughput\n\nnew numbers\n<!-- /section throughput -->\n<!-- section startup -->\n## Start-up\n\nfast\n<!-- /section startup -->\n",
        );
        assert_eq!(fresh.len(), 2);
        let fresh: Vec<Section> = fresh
            .iter()
            .map(|s| Section {
                name: s.name.clone(),
                body: stamped(&s.body, "_Measured now._"),
            })
            .collect();
        let merged = merge(old, &fresh, "# Benchmarks\n");
        let got = sections(&merged);
        let names: Vec<&str> = got.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["throughput", "startup", "build"]);
        assert_eq!(
            got[0].body,
            "## Throughput\n\n_Measured now._\n\nnew numbers"
        );
        assert_eq!(got[1].body, "## Start-up\n\n_Measured now._\n\nfast");
        assert!(
            got[2].body.contains("_Measured long ago._"),
            "{}",
            got[2].body
        );
        assert!(merged.starts_with("# Benchmarks\n\n<!-- section throughput -->"));
        assert!(!merged.contains("old numbers") && !merged.contains("# old header"));
    }

    #[test]
    fn the_header_says_how_the_peers_are_installed() {
        let text = header("now");
        for needed in [
            "cargo xtask tools --bench",
            "WireMock",
            "Mockoon",
            "Prism",
            "Latest run: now.",
        ] {
            assert!(text.contains(needed), "{needed:?} missing from:\n{text}");
        }
    }

    #[test]
    fn ci_timings_are_shown_with_their_commit_and_judged() {
        let timings = serde_json::from_str(
            r#"{"commit": "abc123", "date": "2026-11-29T09:00:00Z", "fresh_target": false, "steps": [{"name": "test", "seconds": 359.1}, {"name": "mutants", "seconds": 420}], "total_seconds": 2999.0}"#,
        )
        .expect("JSON");
        let md = ci_markdown(&timings);
        assert!(
            md.contains("at commit abc123 on 2026-11-29T09:00:00Z"),
            "{md}"
        );
        assert!(
            md.contains("| test | 359.1 |") && md.contains("| mutants | 420.0 |"),
            "{md}"
        );
        assert!(md.contains("**missed**: 30.0 min over"), "{md}");
        let missing = ci_section(Path::new("/nonexistent-workspace"));
        assert!(missing.body.contains("Not recorded"), "{}", missing.body);
    }
}
