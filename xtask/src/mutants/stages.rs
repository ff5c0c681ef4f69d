//! How a mutation is tried without rerunning the whole suite each time, and without ever calling
//! a mutation survived on less than the whole suite.
//!
//! A mutation goes through up to three stages, each stopping at the first failure:
//!
//! 1. **known catchers**: the tests that caught it last time, from the committed map
//!    `known_catchers.txt`, one test target at a time, cheapest target first, each run with
//!    `--exact` filters naming the tests; a crate whose build failed is a `build` line, tried by
//!    compiling the tests without running them (`--no-run`);
//! 2. **spec readers**: the whole suite less [`SKIPPED`], the slow tests that exercise load,
//!    time, audio or a browser rather than what the spec says, with cargo's fail-fast;
//! 3. **whole suite**: only when both passed: everything, `--no-fail-fast`, as `--full` runs it.
//!
//! A mutation is caught as soon as a stage fails; it survives only if the whole suite passes, so
//! the verdict is the one a whole run gives. Every test a stage can fail has passed unmutated in
//! the copy first: each stage has its own baseline, run once, before the first mutation that
//! needs it (stage 1's before the first mutation: every group of every selected mutation on the
//! unmutated spec), so a run whose mutations all fall to their known catchers never pays for the
//! spec readers' or the whole suite's baseline.
//!
//! Every stage's command selects packages as the baseline does (`--workspace --exclude xtask`,
//! or the `--package` list), never `-p` alone: cargo resolves features per selection, and a
//! different selection would build a second copy of the dependencies whose features differ.

use std::fmt::Write as _;

use super::catchers::Catcher;
use super::mutations::MUTATIONS;
use super::options::Options;
use crate::slow_tests;

/// Tests left out of stages 1 and 2, with why: the suite's slow tests of load, time, audio
/// signal processing or a real browser (`slow_tests`), whose checks do not come from
/// openapi.yaml. Stage 3 still runs them, so leaving one out here can delay a verdict, never
/// change it.
pub(super) const SKIPPED: &[&[(&str, &str)]] = &[slow_tests::LOAD, slow_tests::MEDIA];

/// The committed map of which tests caught which mutation: `mutation<TAB>target<TAB>test`, where
/// `target` is what cargo says to pass to rerun a test target (`-p NAME --test NAME`, `-p NAME
/// --lib`, `-p NAME --doc`). `#` starts a comment. `cargo xtask mutants` writes the map its run
/// found to `target/mutants/known_catchers.txt`; copy that file here to update it.
const KNOWN: &str = include_str!("known_catchers.txt");

/// One line of the map.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Known<'a> {
    pub(super) mutation: &'a str,
    pub(super) target: &'a str,
    pub(super) test: &'a str,
}

/// The lines of a map; a line that is not three tab-separated fields is an error naming it.
pub(super) fn parse(map: &str) -> Result<Vec<Known<'_>>, String> {
    map.lines()
        .map(str::trim_end)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(|line| {
            let mut fields = line.split('\t');
            match (fields.next(), fields.next(), fields.next(), fields.next()) {
                (Some(mutation), Some(target), Some(test), None) => Ok(Known {
                    mutation,
                    target,
                    test,
                }),
                _ => Err(format!(
                    "a line of xtask/src/mutants/known_catchers.txt is not \
                     `mutation<TAB>target<TAB>test`: {line:?}"
                )),
            }
        })
        .collect()
}

/// The `target` of a map line whose `test` is a crate that failed to build.
const BUILD: &str = "build";

/// One stage-1 run: a test target and the tests in it that caught the mutation before, or the
/// tests' build (`--no-run`) for crates that failed to build.
#[derive(Debug, PartialEq, Eq, Clone)]
pub(super) struct Group {
    /// As cargo names it, for messages: `-p musicgpt-cover-codegen --test codegen`.
    pub(super) target: String,
    /// The arguments after `cargo test`.
    pub(super) args: Vec<String>,
    /// The arguments after `--`: `--exact` and the test names (none for a build).
    pub(super) test_args: Vec<String>,
}

impl Group {
    /// Whether it only builds: no test runs, so running none is no sign of a stale map.
    pub(super) fn builds_only(&self) -> bool {
        self.target == BUILD
    }
}

/// Stage 1's baseline: every group of `mutations`, one per target with the union of their tests,
/// cheapest first, to be run on the unmutated spec.
pub(super) fn known_baseline(options: &Options, mutations: &[&str]) -> Vec<Group> {
    let mut merged: Vec<Group> = Vec::new();
    for mutation in mutations {
        for group in known_groups(options, mutation) {
            match merged.iter_mut().find(|g| g.args == group.args) {
                Some(existing) => {
                    for test in group.test_args.into_iter().skip(1) {
                        if !existing.test_args.contains(&test) {
                            existing.test_args.push(test);
                        }
                    }
                }
                None => merged.push(group),
            }
        }
    }
    merged.sort_by_key(|group| rank(&group.target));
    merged
}

/// The stage-1 groups for `mutation`, cheapest target first: the committed map's entries less
/// the tests [`SKIPPED`] leaves out (the baseline did not run them) and, with `--package`, the
/// targets of other packages.
pub(super) fn known_groups(options: &Options, mutation: &str) -> Vec<Group> {
    // A malformed map is reported by the unit test below and by `check`; here it only
    // means no stage 1.
    let entries = parse(KNOWN).unwrap_or_default();
    groups(options, &entries, mutation)
}

/// Whether the committed map parses and names only existing mutations (checked before anything
/// is built, as `cargo test -p xtask` checks it).
pub(super) fn check_map() -> Result<(), String> {
    let unknown = unknown_mutations(&parse(KNOWN)?);
    if unknown.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "xtask/src/mutants/known_catchers.txt names mutations that do not exist: {}; \
             rename or remove their lines",
            unknown.join(", ")
        ))
    }
}

fn groups(options: &Options, entries: &[Known<'_>], mutation: &str) -> Vec<Group> {
    let mut targets: Vec<(&str, Vec<&str>)> = Vec::new();
    for entry in entries.iter().filter(|entry| entry.mutation == mutation) {
        let build = entry.target == BUILD;
        if !build && (is_skipped(entry.test) || !options.includes(package(entry.target))) {
            continue;
        }
        match targets
            .iter_mut()
            .find(|(target, _)| *target == entry.target)
        {
            Some((_, tests)) if !tests.contains(&entry.test) => tests.push(entry.test),
            Some(_) => {}
            None => targets.push((entry.target, vec![entry.test])),
        }
    }
    targets.sort_by_key(|(target, _)| rank(target));
    targets
        .into_iter()
        .map(|(target, tests)| {
            if target == BUILD {
                // Every test target compiled, none run: the build that failed, whichever crate.
                let mut args = options.scope();
                args.push("--no-run".to_owned());
                Group {
                    target: BUILD.to_owned(),
                    args,
                    test_args: Vec::new(),
                }
            } else {
                Group {
                    target: target.to_owned(),
                    args: selection(options, target),
                    test_args: std::iter::once("--exact".to_owned())
                        .chain(tests.into_iter().map(str::to_owned))
                        .collect(),
                }
            }
        })
        .collect()
}

fn is_skipped(test: &str) -> bool {
    SKIPPED
        .iter()
        .flat_map(|list| list.iter())
        .any(|(filter, _)| test.contains(filter))
}

/// The package a rerun target names (`-p NAME ...`).
fn package(target: &str) -> &str {
    let mut words = target.split_whitespace();
    while let Some(word) = words.next() {
        if word == "-p" || word == "--package" {
            return words.next().unwrap_or_default();
        }
    }
    ""
}

/// The arguments that select `target` with the baseline's package selection: `-p NAME --test T`
/// becomes `--workspace --exclude xtask --test T` (only one package has a test target `T`), and
/// `-p NAME --lib` runs every library's unit tests with the filters, which only NAME's match.
/// Doctests keep `-p NAME`: every crate's doctests would otherwise be compiled to run one.
fn selection(options: &Options, target: &str) -> Vec<String> {
    let words: Vec<&str> = target.split_whitespace().collect();
    if words.contains(&"--doc") {
        return words.into_iter().map(str::to_owned).collect();
    }
    let mut args = options.scope();
    let mut words = words.into_iter();
    while let Some(word) = words.next() {
        if word == "-p" || word == "--package" {
            words.next();
        } else {
            args.push(word.to_owned());
        }
    }
    args
}

/// Cheapest first: a target that reads the spec at run time rebuilds nothing (codegen's), unit
/// tests link little, the contract binary links the client and the mock, a build compiles every
/// test target, doctests compile each example.
fn rank(target: &str) -> u8 {
    const ORDER: &[&str] = &[
        "--test codegen",
        "--lib",
        "--test client",
        "--test mock",
        "--test contract",
        BUILD,
        "--doc",
    ];
    ORDER
        .iter()
        // Whole words: `build` is not the end of a target named `rebuild`.
        .position(|known| format!(" {target} ").contains(&format!(" {known} ")))
        .map_or(3, |at| u8::try_from(at).unwrap_or(u8::MAX))
}

/// The libtest arguments of stage 2 and of the spec readers' baseline: a `--skip` per entry of
/// [`SKIPPED`].
pub(super) fn skip_args() -> Vec<String> {
    slow_tests::skip_args(SKIPPED)
}

/// The map a run found, in the committed file's format: for each mutation, every test that
/// failed in the stage that caught it, cheapest target first.
pub(super) fn record<'a>(caught: impl IntoIterator<Item = (&'a str, &'a [Catcher])>) -> String {
    let mut text = String::from(
        "# Which tests caught which mutation of openapi.yaml: mutation<TAB>target<TAB>test.\n\
         # Written by `cargo xtask mutants` (target/mutants/known_catchers.txt); stage 1 of each\n\
         # mutation runs these first. A stale line costs time, never a verdict.\n",
    );
    for (mutation, catchers) in caught {
        let mut lines: Vec<(u8, String)> = catchers
            .iter()
            .flat_map(|catcher| match catcher {
                Catcher::Target { rerun, tests } => tests
                    .iter()
                    .map(|test| (rank(rerun), format!("{mutation}\t{rerun}\t{test}")))
                    .collect(),
                Catcher::Build { krate } => {
                    vec![(rank(BUILD), format!("{mutation}\t{BUILD}\t{krate}"))]
                }
                _ => Vec::new(),
            })
            .collect();
        lines.sort();
        lines.dedup();
        for (_, line) in lines {
            let _ = writeln!(text, "{line}");
        }
    }
    text
}

/// The mutations the committed map names that do not exist (a renamed or removed mutation).
pub(super) fn unknown_mutations(entries: &[Known<'_>]) -> Vec<String> {
    let mut unknown: Vec<String> = entries
        .iter()
        .filter(|entry| !MUTATIONS.iter().any(|m| m.name == entry.mutation))
        .map(|entry| entry.mutation.to_owned())
        .collect();
    unknown.dedup();
    unknown
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_committed_map_parses_and_names_only_existing_mutations() {
        let entries = parse(KNOWN).unwrap_or_else(|e| panic!("{e}"));
        assert!(!entries.is_empty());
        assert_eq!(unknown_mutations(&entries), Vec::<String>::new());
        for entry in &entries {
            assert!(
                entry.target == BUILD || !package(entry.target).is_empty(),
                "{entry:?} names no package"
            );
        }
    }

    #[test]
    fn groups_are_per_target_cheapest_first_without_skipped_tests() {
        let map = "# a comment\n\
                   m\t-p c --test contract\tstatuses::a\n\
                   m\t-p g --test codegen\tsnapshot::s\n\
                   m\t-p c --test contract\tstatuses::b\n\
                   m\t-p k --test mock\tpeers::ten_thousand_webhooks_due_at_once_are_all_delivered\n\
                   m\t-p k --lib\tspec::tests::x\n\
                   m\t-p d --doc\td/README.md - (line 3)\n\
                   m\tbuild\tmusicgpt-cover\n\
                   other\t-p g --test codegen\tsnapshot::t\n";
        let entries = parse(map).unwrap_or_else(|e| panic!("{e}"));
        let found = groups(&Options::default(), &entries, "m");
        let targets: Vec<&str> = found.iter().map(|g| g.target.as_str()).collect();
        assert_eq!(
            targets,
            [
                "-p g --test codegen",
                "-p k --lib",
                "-p c --test contract",
                "build",
                "-p d --doc"
            ]
        );
        assert_eq!(
            found[0].args,
            ["--workspace", "--exclude", "xtask", "--test", "codegen"]
        );
        assert_eq!(
            found[3].args,
            ["--workspace", "--exclude", "xtask", "--no-run"]
        );
        assert!(found[3].test_args.is_empty() && found[3].builds_only());
        assert_eq!(found[4].args, ["-p", "d", "--doc"]);
        assert_eq!(
            found[2].test_args,
            ["--exact", "statuses::a", "statuses::b"]
        );
        assert!(parse("m\tonly two").is_err());
    }

    #[test]
    fn with_packages_only_their_targets_run_and_the_selection_is_theirs() {
        let entries =
            parse("m\t-p a --test t\tx\nm\t-p b --test u\ty\n").unwrap_or_else(|e| panic!("{e}"));
        let options = crate::parse::<Options>(&["-p", "a"]).unwrap_or_else(|e| panic!("{e}"));
        let found = groups(&options, &entries, "m");
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].args, ["--package", "a", "--test", "t"]);
    }

    #[test]
    fn the_recorded_map_lists_each_failing_test_cheapest_target_first() {
        let catchers = [
            Catcher::Target {
                rerun: "-p c --test contract".to_owned(),
                tests: vec!["statuses::a".to_owned()],
            },
            Catcher::Target {
                rerun: "-p g --test codegen".to_owned(),
                tests: vec!["snapshot::s".to_owned()],
            },
            Catcher::Build {
                krate: "x".to_owned(),
            },
            Catcher::Unidentified { error: None },
        ];
        let text = record([("m", &catchers[..])]);
        let entries = parse(&text).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            entries,
            [
                Known {
                    mutation: "m",
                    target: "-p g --test codegen",
                    test: "snapshot::s"
                },
                Known {
                    mutation: "m",
                    target: "-p c --test contract",
                    test: "statuses::a"
                },
                Known {
                    mutation: "m",
                    target: "build",
                    test: "x"
                },
            ]
        );
    }

    #[test]
    fn stage_ones_baseline_is_every_group_once_with_every_test() {
        // From the committed map: one group per target, whichever mutations share it.
        let groups = known_baseline(&Options::default(), &["rename-eta", "narrow-pitch"]);
        let mut args: Vec<&Vec<String>> = groups.iter().map(|g| &g.args).collect();
        let before = args.len();
        args.dedup();
        assert_eq!(args.len(), before, "a target twice");
        let codegen = groups
            .iter()
            .find(|g| g.target.ends_with("--test codegen"))
            .unwrap_or_else(|| panic!("no codegen group in {groups:?}"));
        assert_eq!(
            codegen.test_args.first().map(String::as_str),
            Some("--exact")
        );
        assert!(codegen.test_args.len() > 2, "{codegen:?}");
    }
}
