//! `cargo xtask docs-check`: the documentation agrees with the code. The flag table of
//! `docs/mock.md` lists exactly the flags, environment variables and defaults of the mock's
//! `--help`, that of `docs/proxy.md` the flags `musicgpt-cover-mock proxy --help` adds to them, and
//! every relative link in `README.md`, `ARCHITECTURE.md` and `docs/*.md` leads to a file, or a
//! heading, that exists.
//!
//! The checks are `#[test]`s below too, so `cargo test --workspace` enforces them.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use crate::project::read;
use crate::{Error, Result, process, project};

/// The page that documents the mock's flags, and the heading of its table.
const MOCK_DOC: &str = "docs/mock.md";
/// The page that documents the flags of `musicgpt-cover-mock proxy` that the mock does not have
/// (its shared server flags are the mock's, documented in [`MOCK_DOC`]), under the same heading.
const PROXY_DOC: &str = "docs/proxy.md";
const FLAGS_HEADING: &str = "## Flags";

/// Flags clap adds to every binary; documenting them would say nothing.
const CLAP_BUILTINS: [&str; 4] = ["-h", "--help", "-V", "--version"];

/// Environment variables the table may name that clap does not read: `RUST_LOG` is read by
/// tracing-subscriber in the mock's `main.rs`, so `--help` does not list it as a flag's `[env: ]`.
const NOT_READ_BY_CLAP: [&str; 1] = ["RUST_LOG"];

/// Runs both checks, printing what each found; fails if either does.
pub(crate) fn run() -> Result {
    let mut problems = Vec::new();
    match check_flags() {
        Ok(count) => {
            println!("docs-check: {MOCK_DOC} documents the mock's {count} flags as --help does")
        }
        Err(error) => problems.push(error.to_string()),
    }
    match check_proxy_flags() {
        Ok(count) => println!(
            "docs-check: {PROXY_DOC} documents the proxy's {count} own flags as `proxy --help` does"
        ),
        Err(error) => problems.push(error.to_string()),
    }
    match check_links() {
        Ok(count) => println!("docs-check: {count} relative links resolve"),
        Err(error) => problems.push(error.to_string()),
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Error::new(format!("docs-check:\n{}", problems.join("\n"))))
    }
}

/// One option as `--help` prints it or as the table documents it.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
struct Flag {
    /// `--addr`, `-v`: every spelling of the option.
    names: BTreeSet<String>,
    /// The environment variables named for it.
    env: BTreeSet<String>,
    /// `--help`'s `[default: X]`, or the table's default cell as written.
    default: Option<String>,
}

/// Compares the flag table with the mock binary's `--help`; returns how many flags agree.
fn check_flags() -> Result<usize> {
    check_table(
        MOCK_DOC,
        &help_flags(&help_of(&["--help"])?),
        "`musicgpt-cover-mock --help` differ; make the table say what the binary does",
    )
}

/// Compares the flag table of [`PROXY_DOC`] with the flags `musicgpt-cover-mock proxy --help`
/// lists beyond the mock's own; returns how many agree.
fn check_proxy_flags() -> Result<usize> {
    let shared: BTreeSet<String> = help_flags(&help_of(&["--help"])?)
        .into_iter()
        .flat_map(|flag| flag.names)
        .collect();
    let actual: Vec<Flag> = help_flags(&help_of(&["proxy", "--help"])?)
        .into_iter()
        .filter(|flag| flag.names.is_disjoint(&shared))
        .collect();
    check_table(
        PROXY_DOC,
        &actual,
        "the flags of `musicgpt-cover-mock proxy --help` the mock does not have differ",
    )
}

/// Compares the flag table of the page `doc` with `actual`, the flags of the help text that
/// `differ` names; returns how many agree.
fn check_table(doc: &str, actual: &[Flag], differ: &str) -> Result<usize> {
    let documented = table_flags(&read(&project::root().join(doc))?)?;
    let problems = compare_flags(actual, &documented);
    if problems.is_empty() {
        Ok(actual.len())
    } else {
        Err(Error::new(format!(
            "the flag table of {doc} ({FLAGS_HEADING}) and {differ}:\n  - {}",
            problems.join("\n  - ")
        )))
    }
}

/// `musicgpt-cover-mock ARGS`'s output (a help text), built and run by the cargo that runs xtask.
fn help_of(args: &[&str]) -> Result<String> {
    let mut command = process::cargo();
    command
        .args(["run", "--quiet", "--package", "musicgpt-cover-mock", "--"])
        .args(args);
    // A variable that is set shows up in the help text (`[env: NAME=value]`); clear them so the
    // text is the same on every machine.
    for (name, _) in std::env::vars_os() {
        let name_text = name.to_string_lossy();
        if name_text.starts_with("MUSICGPT_MOCK_") || name_text.starts_with("MUSICGPT_PROXY_") {
            command.env_remove(name);
        }
    }
    process::stdout(&mut command)
}

/// The options of clap's help text: an option line (`  -v, --verbose...`, `      --addr <ADDR>`)
/// followed by its description, which holds `[env: NAME=]` and `[default: VALUE]`.
fn help_flags(help: &str) -> Vec<Flag> {
    let mut flags: Vec<Flag> = Vec::new();
    let mut description: Vec<String> = Vec::new();
    let finish = |flags: &mut Vec<Flag>, description: &mut Vec<String>| {
        if let Some(flag) = flags.last_mut() {
            let text = description.join(" ");
            flag.env.extend(
                bracketed(&text, "[env: ")
                    .map(|env| env.split('=').next().unwrap_or_default().trim().to_string()),
            );
            flag.default = bracketed(&text, "[default: ").next().map(str::to_string);
        }
        description.clear();
    };
    for line in help.lines() {
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        // clap indents option lines by 2 (with a short flag) or 6, descriptions by 10.
        if trimmed.starts_with('-') && indent <= 6 {
            finish(&mut flags, &mut description);
            let (spelling, rest) = trimmed.split_once("  ").unwrap_or((trimmed, ""));
            let names = spelling
                .split([',', ' '])
                .map(|word| word.trim_end_matches("..."))
                .filter(|word| word.starts_with('-'))
                .map(str::to_string)
                .collect();
            flags.push(Flag {
                names,
                ..Flag::default()
            });
            description.push(rest.to_string());
        } else if !flags.is_empty() && !trimmed.is_empty() {
            description.push(trimmed.to_string());
        }
    }
    finish(&mut flags, &mut description);
    flags.retain(|flag| {
        !flag
            .names
            .iter()
            .all(|name| CLAP_BUILTINS.contains(&name.as_str()))
    });
    flags
}

/// What follows each `open` up to the next `]` in `text`.
fn bracketed<'a>(text: &'a str, open: &'a str) -> impl Iterator<Item = &'a str> + 'a {
    text.split(open)
        .skip(1)
        .filter_map(|after| after.split_once(']').map(|(inside, _)| inside))
}

/// The rows of the first table under [`FLAGS_HEADING`]: flag spellings from the first column,
/// environment variables from the second, the default cell from the third.
fn table_flags(doc: &str) -> Result<Vec<Flag>> {
    let section = doc
        .split_once(&format!("\n{FLAGS_HEADING}\n"))
        .map(|(_, after)| after)
        .ok_or_else(|| Error::new(format!("{MOCK_DOC} has no `{FLAGS_HEADING}` heading")))?;
    let rows: Vec<Vec<String>> = section
        .lines()
        .skip_while(|line| !line.starts_with('|'))
        .take_while(|line| line.starts_with('|'))
        .skip(2) // the header and the `|---|` line
        .map(cells)
        .collect();
    if rows.is_empty() {
        return Err(Error::new(format!(
            "{MOCK_DOC} has no table under `{FLAGS_HEADING}`"
        )));
    }
    Ok(rows
        .iter()
        .map(|row| {
            let cell = |index: usize| row.get(index).map_or("", String::as_str);
            Flag {
                names: code_spans(cell(0))
                    .flat_map(|span| span.split([' ', ',']))
                    .filter(|word| is_flag(word))
                    .map(str::to_string)
                    .collect(),
                env: code_spans(cell(1))
                    .filter(|span| is_env_name(span))
                    .map(str::to_string)
                    .collect(),
                default: Some(cell(2).to_string()),
            }
        })
        .collect())
}

/// The cells of a Markdown table row; `\|` inside a cell is a literal bar.
fn cells(line: &str) -> Vec<String> {
    let mut cells = Vec::new();
    let mut cell = String::new();
    let mut chars = line.trim().trim_start_matches('|').chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'|') => {
                cell.push('|');
                chars.next();
            }
            '|' => cells.push(std::mem::take(&mut cell).trim().to_string()),
            _ => cell.push(c),
        }
    }
    if !cell.trim().is_empty() {
        cells.push(cell.trim().to_string());
    }
    cells
}

/// The texts between pairs of backticks.
fn code_spans(text: &str) -> impl Iterator<Item = &str> {
    text.split('`').skip(1).step_by(2)
}

/// `--long-name`, or `-x`: one letter.
fn is_flag(word: &str) -> bool {
    match word.strip_prefix("--") {
        Some(long) => {
            long.starts_with(|c: char| c.is_ascii_lowercase())
                && long
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        }
        None => {
            let mut chars = word.chars();
            chars.next() == Some('-')
                && chars.next().is_some_and(|c| c.is_ascii_alphabetic())
                && chars.next().is_none()
        }
    }
}

fn is_env_name(word: &str) -> bool {
    word.len() > 1
        && word.starts_with(|c: char| c.is_ascii_uppercase())
        && word
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

/// Every way the table and `--help` disagree, worded for the person who fixes the table.
fn compare_flags(actual: &[Flag], documented: &[Flag]) -> Vec<String> {
    let mut problems = Vec::new();
    let by_name = |flags: &[Flag]| -> BTreeMap<String, Flag> {
        flags
            .iter()
            .flat_map(|flag| {
                flag.names
                    .iter()
                    .map(move |name| (name.clone(), flag.clone()))
            })
            .collect()
    };
    let actual_by_name = by_name(actual);
    let documented_by_name = by_name(documented);
    for (name, flag) in &actual_by_name {
        let Some(row) = documented_by_name.get(name) else {
            problems.push(format!(
                "`{name}` is a flag of the binary but has no row in the table"
            ));
            continue;
        };
        // Compare each option once, under its first spelling.
        if flag.names.iter().next() != Some(name) {
            continue;
        }
        for env in flag.env.difference(&row.env) {
            problems.push(format!(
                "`{name}` reads `{env}`, which its row does not name"
            ));
        }
        for env in row.env.difference(&flag.env) {
            if !NOT_READ_BY_CLAP.contains(&env.as_str()) {
                problems.push(format!(
                    "the row of `{name}` names `{env}`, which the binary does not read"
                ));
            }
        }
        if let (Some(default), Some(cell)) = (&flag.default, &row.default)
            && !cell.contains(&format!("`{default}`"))
        {
            problems.push(format!(
                "`{name}` defaults to `{default}`, but its row's default says \"{cell}\""
            ));
        }
    }
    for name in documented_by_name.keys() {
        if !actual_by_name.contains_key(name) {
            problems.push(format!(
                "the table documents `{name}`, which the binary does not have"
            ));
        }
    }
    problems
}

/// The Markdown files whose relative links are checked: the README, ARCHITECTURE.md and docs/.
fn doc_files() -> Result<Vec<PathBuf>> {
    let root = project::root();
    let mut files = vec![root.join("README.md"), root.join("ARCHITECTURE.md")];
    files.extend(markdown_in(&root.join("docs"), 0, None)?);
    Ok(files)
}

/// The Markdown files under `dir`, at most `depth` folders down, named `name` if given.
pub(crate) fn markdown_in(dir: &Path, depth: usize, name: Option<&str>) -> Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    let entries = fs::read_dir(dir).map_err(project::failed("list", dir))?;
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .collect();
    paths.sort();
    for path in paths {
        if path.is_dir() {
            if depth > 0 {
                found.extend(markdown_in(&path, depth - 1, name)?);
            }
        } else if path.extension().is_some_and(|ext| ext == "md")
            && name.is_none_or(|name| path.file_name().is_some_and(|file| file == name))
        {
            found.push(path);
        }
    }
    Ok(found)
}

/// Checks every relative link of [`doc_files`]; returns how many there are.
fn check_links() -> Result<usize> {
    let mut problems = Vec::new();
    let mut count = 0;
    for file in doc_files()? {
        let text = read(&file)?;
        for target in links(&text) {
            count += 1;
            if let Err(why) = resolve(&file, &target) {
                problems.push(format!("{}: `{target}`: {why}", project::relative(&file)));
            }
        }
    }
    if problems.is_empty() {
        Ok(count)
    } else {
        Err(Error::new(format!(
            "links that lead nowhere:\n  - {}",
            problems.join("\n  - ")
        )))
    }
}

/// The relative link targets of a Markdown text: `[text](target)` and `[label]: target`, outside
/// code blocks and code spans. Targets with a scheme (`https:`, `mailto:`) are left out.
fn links(markdown: &str) -> Vec<String> {
    let mut targets = Vec::new();
    for paragraph in paragraphs(markdown) {
        // A code span may run over a line break, so spans are cut from the whole paragraph.
        let text = without_code_spans(&paragraph);
        let mut rest = text.as_str();
        while let Some(start) = rest.find("](") {
            let after = &rest[start + 2..];
            let end = after.find(')').unwrap_or(after.len());
            targets.push(after[..end].trim().to_string());
            rest = &after[end..];
        }
        for line in text.lines() {
            if let Some((label, target)) = line.trim_start().split_once("]: ")
                && label.starts_with('[')
            {
                targets.push(target.trim().to_string());
            }
        }
    }
    targets.retain(|target| !target.is_empty() && !has_scheme(target));
    targets
}

/// The paragraphs (runs of lines between blank lines) outside fenced code blocks.
pub(crate) fn paragraphs(markdown: &str) -> Vec<String> {
    let mut paragraphs = vec![String::new()];
    let mut fenced = false;
    for line in markdown.lines() {
        let fence = line.trim_start().starts_with("```");
        if fence {
            fenced = !fenced;
        }
        if fence || fenced || line.trim().is_empty() {
            if paragraphs.last().is_some_and(|last| !last.is_empty()) {
                paragraphs.push(String::new());
            }
            continue;
        }
        if let Some(last) = paragraphs.last_mut() {
            last.push_str(line);
            last.push('\n');
        }
    }
    paragraphs
}

/// The text outside code spans.
pub(crate) fn without_code_spans(line: &str) -> String {
    line.split('`').step_by(2).collect::<Vec<_>>().join("")
}

fn has_scheme(target: &str) -> bool {
    target.split_once(':').is_some_and(|(scheme, _)| {
        !scheme.is_empty() && scheme.chars().all(|c| c.is_ascii_alphabetic())
    })
}

/// Whether `target`, written in `file`, leads to an existing file or folder and, after a `#`, to
/// a heading of that Markdown file.
fn resolve(file: &Path, target: &str) -> std::result::Result<(), String> {
    let (path, anchor) = target.split_once('#').unwrap_or((target, ""));
    let dir = file.parent().unwrap_or(Path::new("."));
    let linked = if path.is_empty() {
        file.to_path_buf()
    } else {
        dir.join(path)
    };
    if !linked.exists() {
        return Err(format!("{} does not exist", project::relative(&linked)));
    }
    if anchor.is_empty() || linked.extension().is_none_or(|ext| ext != "md") {
        return Ok(());
    }
    let text = fs::read_to_string(&linked)
        .map_err(|error| format!("could not read {}: {error}", linked.display()))?;
    let anchors = heading_anchors(&text);
    if anchors.contains(anchor) {
        Ok(())
    } else {
        Err(format!(
            "{} has no heading with the anchor `#{anchor}`",
            project::relative(&linked)
        ))
    }
}

/// The anchors GitHub gives a Markdown file's headings: lower case, punctuation dropped, spaces
/// made hyphens, `-1`, `-2`... added to repeats.
fn heading_anchors(markdown: &str) -> BTreeSet<String> {
    let mut anchors = BTreeSet::new();
    for line in paragraphs(markdown)
        .iter()
        .flat_map(|paragraph| paragraph.lines())
    {
        let hashes = line.chars().take_while(|&c| c == '#').count();
        let Some(title) = line.get(hashes..).and_then(|rest| rest.strip_prefix(' ')) else {
            continue;
        };
        if hashes == 0 || hashes > 6 {
            continue;
        }
        let slug: String = title
            .trim()
            .to_lowercase()
            .chars()
            .filter(|&c| c.is_alphanumeric() || c == ' ' || c == '-' || c == '_')
            .map(|c| if c == ' ' { '-' } else { c })
            .collect();
        let mut anchor = slug.clone();
        let mut repeat = 0;
        while anchors.contains(&anchor) {
            repeat += 1;
            anchor = format!("{slug}-{repeat}");
        }
        anchors.insert(anchor);
    }
    anchors
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `cargo xtask docs-check`'s first half: the flag table is the binary's `--help`.
    #[test]
    fn the_flag_table_of_docs_mock_md_matches_the_mock_help() {
        check_flags().unwrap_or_else(|e| panic!("{e}"));
    }

    /// The same for the proxy's own flags and docs/proxy.md.
    #[test]
    fn the_flag_table_of_docs_proxy_md_matches_the_proxy_help() {
        check_proxy_flags().unwrap_or_else(|e| panic!("{e}"));
    }

    /// Its second half: every relative link of the README, ARCHITECTURE.md and docs/ resolves.
    #[test]
    fn relative_links_in_the_docs_resolve() {
        check_links().unwrap_or_else(|e| panic!("{e}"));
    }

    const HELP: &str = "\
A mock.

Usage: musicgpt-cover-mock [OPTIONS]

Options:
      --addr <ADDR>
          Address to listen on [env: MUSICGPT_MOCK_ADDR=] [default: 127.0.0.1:4010]
      --seed <SEED>
          Deterministic mode [env: MUSICGPT_MOCK_SEED=]
  -v, --verbose...
          Log more: -v requests (RUST_LOG overrides)
  -h, --help
          Print help
  -V, --version
          Print version
";

    const DOC: &str = "\
# The mock

## Flags

| flag | environment variable | default | meaning |
|---|---|---|---|
| `--addr ADDR` | `MUSICGPT_MOCK_ADDR` | `127.0.0.1:4010` | where |
| `--seed N` | `MUSICGPT_MOCK_SEED` | none | ids |
| `-v`, `--verbose` (`-vv`) | `RUST_LOG` (overrides) | warnings only | logs |

## Next
";

    fn problems(help: &str, doc: &str) -> Vec<String> {
        match table_flags(doc) {
            Ok(documented) => compare_flags(&help_flags(help), &documented),
            Err(error) => vec![error.to_string()],
        }
    }

    #[test]
    fn help_is_read_as_flags_with_their_variables_and_defaults() {
        let flags = help_flags(HELP);
        assert_eq!(flags.len(), 3, "{flags:?}");
        assert_eq!(flags[0].names, BTreeSet::from(["--addr".to_string()]));
        assert_eq!(
            flags[0].env,
            BTreeSet::from(["MUSICGPT_MOCK_ADDR".to_string()])
        );
        assert_eq!(flags[0].default.as_deref(), Some("127.0.0.1:4010"));
        assert_eq!(flags[1].default, None);
        assert_eq!(
            flags[2].names,
            BTreeSet::from(["-v".to_string(), "--verbose".to_string()])
        );
        assert!(flags[2].env.is_empty());
    }

    /// A table that says what `--help` says passes; each way it can differ is named.
    #[test]
    fn a_missing_row_an_extra_row_a_wrong_variable_and_a_wrong_default_are_each_named() {
        assert_eq!(problems(HELP, DOC), Vec::<String>::new());
        let without_seed = DOC.replace("| `--seed N` | `MUSICGPT_MOCK_SEED` | none | ids |\n", "");
        assert_eq!(
            problems(HELP, &without_seed),
            ["`--seed` is a flag of the binary but has no row in the table"]
        );
        let extra = DOC.replace("## Next", "").replace(
            "| logs |\n",
            "| logs |\n| `--port N` | `MUSICGPT_MOCK_PORT` | `1` | gone |\n",
        );
        assert_eq!(
            problems(HELP, &extra),
            ["the table documents `--port`, which the binary does not have"]
        );
        let wrong_env = DOC.replace("| `MUSICGPT_MOCK_SEED` |", "| `MUSICGPT_MOCK_SEEDS` |");
        assert_eq!(
            problems(HELP, &wrong_env),
            [
                "`--seed` reads `MUSICGPT_MOCK_SEED`, which its row does not name",
                "the row of `--seed` names `MUSICGPT_MOCK_SEEDS`, which the binary does not read",
            ]
        );
        let wrong_default = DOC.replace("| `127.0.0.1:4010` |", "| `127.0.0.1:4011` |");
        assert_eq!(
            problems(HELP, &wrong_default),
            [
                "`--addr` defaults to `127.0.0.1:4010`, but its row's default says \"`127.0.0.1:4011`\""
            ]
        );
        let no_short = DOC.replace("| `-v`, `--verbose` (`-vv`) |", "| `--verbose` |");
        assert_eq!(
            problems(HELP, &no_short),
            ["`-v` is a flag of the binary but has no row in the table"]
        );
    }

    #[test]
    fn links_outside_code_are_found_and_external_ones_skipped() {
        let text = "\
See [a](docs/a.md#x), [b](b.md) and [web](https://example.com).
`[not](a link)` and `a span that
runs on` before [c](c.md).
```text
[nor](this.md)
```
[ref]: docs/d.md
";
        assert_eq!(links(text), ["docs/a.md#x", "b.md", "c.md", "docs/d.md"]);
    }

    #[test]
    fn anchors_follow_github() {
        let text = "# The mock server\n## Tasks, the clock and `--seed`\n## `POST /v1/Cover`\n\
                    ## Flags\n```sh\n# not a heading\n```\n## Flags\n";
        let anchors = heading_anchors(text);
        let expected = [
            "the-mock-server",
            "tasks-the-clock-and---seed",
            "post-v1cover",
            "flags",
            "flags-1",
        ];
        assert_eq!(
            anchors,
            expected
                .iter()
                .map(|a| (*a).to_string())
                .collect::<BTreeSet<_>>()
        );
    }

    #[test]
    fn a_link_to_a_missing_file_or_heading_is_refused() {
        let readme = project::root().join("README.md");
        assert_eq!(resolve(&readme, "docs/mock.md#flags"), Ok(()));
        assert_eq!(resolve(&readme, "#what-this-is-and-for-whom"), Ok(()));
        assert!(resolve(&readme, "docs/nothing.md").is_err());
        assert!(resolve(&readme, "docs/mock.md#no-such-heading").is_err());
    }
}
