//! `cargo xtask install-lines`: every install command of the docs works as written today, or
//! says that it is the line for after publishing.
//!
//! **The convention** (in `README.md`, `crates/*/README.md`, `docs/*.md` and `npm/**/README.md`):
//! in a shell code block, a comment line starting [`TODAY`] or [`LATER`] labels the command lines
//! after it, up to the next label, a blank line or the end of the block:
//!
//! ```text
//! # Works today, from this repository:
//! cargo add --git https://github.com/musicgpt-cover/musicgpt-cover musicgpt-cover
//! # After publishing, from crates.io:
//! cargo add musicgpt-cover
//! ```
//!
//! Every install command naming this project's packages (`cargo add`, `cargo install`,
//! `npm install`, `npx`... of a `musicgpt-cover*` package, its repository or `./target/dist/`,
//! or a download of a release) must carry one; an install command in a code span of the prose
//! that gets a package from a registry or a release (not `--git`, `--path` or a file) must be one
//! a label of the same page carries; and every link to a crates.io or docs.rs page is followed by
//! [`LINK_LABEL`].
//! These checks read files only, and are `#[test]`s.
//!
//! **The run** takes each group of commands labelled [`TODAY`] and runs it as a reader would, in
//! a folder of its own under the system's temp dir, against a local clone of this repository
//! (`target/install-lines/repo`, made anew from the committed `HEAD`), with what the docs cannot
//! say for this machine replaced, and said in the output:
//!
//! - the repository URL (`repository` of `[workspace.package]`, which a `TODAY` line must use)
//!   becomes the clone's `file://` URL;
//! - `cargo add`: in a crate `cargo new` made for the group (outside the workspace, so that
//!   cargo does not take it for a member);
//! - `cargo install`: into a root of the group's (`CARGO_INSTALL_ROOT`), with `--debug` added and
//!   the workspace's target dir (`CARGO_TARGET_DIR`), so that the dependencies the dev build has
//!   compiled are reused: the release build the line makes for a reader compiles every
//!   dependency again, optimised (measured: docs/testing.md); the installed binary must answer
//!   `--help`;
//! - `npm install ./target/dist/npm/*.tgz`: from the packages the last `cargo xtask dist` made
//!   (`target/ci/dist/npm/` after ci's `dist` step), offline, npm's registry a closed port, as
//!   the dist check installs them; the package's command must then be in `node_modules/.bin`.
//!
//! The `cargo add` groups take seconds and run in a `#[test]` too; the whole run is ci's
//! `install-lines` step, after `dist` and `package` (whose debug build of the mock alone it
//! reuses).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use crate::project::{read, recreate_dir};
use crate::{Error, Result, dist, docs_check, process, project};

/// The label of commands that work from this repository today; the run runs them.
pub(crate) const TODAY: &str = "# Works today";
/// The label of commands for after publishing (crates.io, npm, a release); not run.
pub(crate) const LATER: &str = "# After publishing";
/// What follows every link to a registry page that exists only once the crates are published.
const LINK_LABEL: &str = "(after publishing)";
/// The registry pages [`LINK_LABEL`] is for.
const REGISTRY_PAGES: [&str; 2] = ["https://crates.io/", "https://docs.rs/"];
/// Every crate and npm package of this project has it in its name.
const PROJECT: &str = "musicgpt-cover";
/// Where `cargo xtask dist` puts the npm packages, as the docs write it.
const DIST_NPM: &str = "./target/dist/npm/";
/// Where a GitHub release's files are.
const RELEASE_DOWNLOADS: &str = "/releases/download/";
/// The code block languages whose lines are commands.
const SHELL: [&str; 4] = ["sh", "bash", "shell", "console"];

/// `cargo xtask install-lines`: the checks, then every group labelled [`TODAY`].
pub(crate) fn run() -> Result {
    let started = Instant::now();
    let docs = Docs::read()?;
    docs.check()?;
    let groups = docs.today();
    run_groups(&groups, &LocalClone::at("repo", &docs.repository)?)?;
    println!(
        "install-lines: {} groups of commands labelled `{TODAY}` work, in {:.1}s",
        groups.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// A Markdown page of the docs.
struct Page {
    /// Relative to the workspace root, for messages.
    name: String,
    text: String,
}

/// One command line of a shell code block, with the label it is under.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Line {
    /// 1-based line number of the command's first line.
    number: usize,
    /// The command without a trailing comment, its continuation lines joined.
    command: String,
    label: Option<Label>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Label {
    /// The label's whole comment, which may say more (`# Works today, from a clone:`), and its
    /// line number: the lines under one label are one group.
    Today {
        text: String,
        number: usize,
    },
    Later,
}

/// Commands under one [`TODAY`] label, run together in one folder.
#[derive(Debug)]
struct Group {
    page: String,
    number: usize,
    label: String,
    commands: Vec<String>,
}

/// What a [`TODAY`] line is, to the run.
#[derive(Debug, PartialEq, Eq)]
enum Kind {
    CargoAdd,
    CargoInstall,
    NpmInstall,
}

struct Docs {
    pages: Vec<Page>,
    repository: String,
}

impl Docs {
    fn read() -> Result<Self> {
        let root = project::root();
        let manifest = read(&root.join("Cargo.toml"))?;
        let repository =
            dist::workspace_package_field(&manifest, "repository").ok_or_else(|| {
                Error::new("install-lines: Cargo.toml has no `repository` in [workspace.package]")
            })?;
        let mut files = vec![root.join("README.md")];
        files.extend(docs_check::markdown_in(
            &root.join("crates"),
            1,
            Some("README.md"),
        )?);
        files.extend(docs_check::markdown_in(&root.join("docs"), 0, None)?);
        files.extend(docs_check::markdown_in(
            &root.join("npm"),
            usize::MAX,
            Some("README.md"),
        )?);
        let pages = files
            .iter()
            .map(|file| {
                // The npm templates name the repository as dist fills it in.
                let text = read(file)?.replace("{{repository}}", &repository);
                Ok(Page {
                    name: project::relative(file),
                    text,
                })
            })
            .collect::<Result<_>>()?;
        Ok(Self { pages, repository })
    }

    /// Every problem of every page, or `Ok`.
    fn check(&self) -> Result {
        let problems: Vec<String> = self
            .pages
            .iter()
            .flat_map(|page| problems(page, &self.repository))
            .collect();
        if problems.is_empty() {
            Ok(())
        } else {
            Err(Error::new(format!(
                "install-lines: install commands or registry links that do not say whether they \
                 work today (a comment line `{TODAY}...` or `{LATER}...` above them, \
                 `{LINK_LABEL}` after a crates.io or docs.rs link; see xtask/src/install_lines.rs):\n  - {}",
                problems.join("\n  - ")
            )))
        }
    }

    /// The groups labelled [`TODAY`], in page order.
    fn today(&self) -> Vec<Group> {
        let mut groups: Vec<Group> = Vec::new();
        for page in &self.pages {
            let mut current: Option<usize> = None;
            for line in shell_lines(page) {
                let Some(Label::Today { text, number }) = &line.label else {
                    continue;
                };
                match groups.last_mut() {
                    Some(group) if current == Some(*number) => {
                        group.commands.push(line.command.clone());
                    }
                    _ => groups.push(Group {
                        page: page.name.clone(),
                        number: line.number,
                        label: text.clone(),
                        commands: vec![line.command.clone()],
                    }),
                }
                current = Some(*number);
            }
        }
        groups
    }
}

/// The command lines of the page's shell code blocks, each with its label.
fn shell_lines(page: &Page) -> Vec<Line> {
    let mut lines = Vec::new();
    let mut block: Option<bool> = None;
    let mut label: Option<Label> = None;
    let mut pending: Option<(usize, String)> = None;
    for (index, raw) in page.text.lines().enumerate() {
        let trimmed = raw.trim();
        if let Some(info) = trimmed.strip_prefix("```") {
            block = match block {
                Some(_) => None,
                None => Some(SHELL.contains(&info.split_whitespace().next().unwrap_or(""))),
            };
            label = None;
            pending = None;
            continue;
        }
        if block != Some(true) {
            continue;
        }
        if trimmed.is_empty() {
            label = None;
            continue;
        }
        if pending.is_none() && trimmed.starts_with('#') {
            if trimmed.starts_with(TODAY) {
                label = Some(Label::Today {
                    text: trimmed.to_owned(),
                    number: index + 1,
                });
            } else if trimmed.starts_with(LATER) {
                label = Some(Label::Later);
            }
            continue;
        }
        let text = without_comment(trimmed.strip_prefix("$ ").unwrap_or(trimmed));
        let (number, mut command) = pending.take().unwrap_or((index + 1, String::new()));
        if let Some(start) = text.strip_suffix('\\') {
            command.push_str(start.trim_end());
            command.push(' ');
            pending = Some((number, command));
            continue;
        }
        command.push_str(text.trim_end());
        lines.push(Line {
            number,
            command,
            label: label.clone(),
        });
    }
    lines
}

/// `line` up to a `#` that starts a comment (after a space, outside quotes).
fn without_comment(line: &str) -> &str {
    let mut quote = None;
    let mut previous = ' ';
    for (at, c) in line.char_indices() {
        match (quote, c) {
            (None, '\'' | '"') => quote = Some(c),
            (Some(open), _) if c == open => quote = None,
            (None, '#') if previous.is_whitespace() => return line[..at].trim_end(),
            _ => {}
        }
        previous = c;
    }
    line
}

/// The words of a command after any leading `NAME=value` assignments.
fn words(command: &str) -> Vec<&str> {
    command
        .split_whitespace()
        .skip_while(|word| {
            word.split_once('=').is_some_and(|(name, _)| {
                !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            })
        })
        .collect()
}

/// Whether `command` installs something: `cargo add|install`, `npm install|i|add`, `npx`,
/// `yarn|pnpm add`, `pip install`, or anything naming a release's downloads.
fn is_install(command: &str) -> bool {
    command.contains(RELEASE_DOWNLOADS)
        || matches!(
            words(command).as_slice(),
            ["cargo", "add" | "install", ..]
                | ["npm", "install" | "i" | "add", ..]
                | ["npx", ..]
                | ["yarn" | "pnpm", "add", ..]
                | ["pip" | "pip3", "install", ..]
        )
}

/// Whether `command` gets a package of this project from a registry (crates.io, npm) or a
/// release, rather than from this repository (`--git`, `--path`, a file).
fn from_registry(command: &str) -> bool {
    command.contains(RELEASE_DOWNLOADS)
        || (names_project(command)
            && !words(command).iter().any(|word| {
                matches!(*word, "--git" | "--path")
                    || word.starts_with("./")
                    || word.starts_with('/')
                    || word.ends_with(".tgz")
            }))
}

/// Whether `command` names one of this project's packages, its repository or its dist output.
fn names_project(command: &str) -> bool {
    command.contains(PROJECT) || command.contains(DIST_NPM)
}

fn kind(command: &str) -> Option<Kind> {
    match words(command).as_slice() {
        ["cargo", "add", ..] => Some(Kind::CargoAdd),
        ["cargo", "install", ..] => Some(Kind::CargoInstall),
        ["npm", "install" | "i", ..] => Some(Kind::NpmInstall),
        _ => None,
    }
}

/// Everything wrong with the labels of `page`.
fn problems(page: &Page, repository: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let lines = shell_lines(page);
    for line in &lines {
        let at = format!("{}:{}: `{}`", page.name, line.number, line.command);
        match &line.label {
            None if is_install(&line.command) && names_project(&line.command) => {
                problems.push(format!("{at} is labelled neither `{TODAY}` nor `{LATER}`"));
            }
            Some(Label::Today { .. }) => problems.extend(
                today_problems(&line.command, repository).map(|why| format!("{at}: {why}")),
            ),
            _ => {}
        }
    }
    let labelled: Vec<String> = lines
        .iter()
        .filter(|line| line.label.is_some())
        .map(|line| what_it_installs(&line.command))
        .collect();
    for paragraph in docs_check::paragraphs(&page.text) {
        for span in paragraph.split('`').skip(1).step_by(2) {
            if is_install(span)
                && from_registry(span)
                && !labelled.contains(&what_it_installs(span))
            {
                problems.push(format!(
                    "{}: `{span}` in the prose installs from a registry, and no labelled code \
                     block of the page shows it",
                    page.name
                ));
            }
        }
        let prose = docs_check::without_code_spans(&paragraph);
        problems.extend(unlabelled_links(&prose).into_iter().map(|url| {
            format!(
                "{}: the link to {url} is not followed by `{LINK_LABEL}`",
                page.name
            )
        }));
    }
    problems
}

/// Why a [`TODAY`] line cannot be run as written today, if it cannot.
fn today_problems(command: &str, repository: &str) -> Option<String> {
    let Some(kind) = kind(command) else {
        return Some(format!(
            "the run knows how to run `cargo add`, `cargo install` and `npm install` under `{TODAY}`, not this"
        ));
    };
    if command.contains(['\'', '"', '$', '|', '&', ';', '<', '>']) {
        return Some(format!(
            "a command under `{TODAY}` is run word by word: no quotes, variables, pipes or \
             redirections"
        ));
    }
    let words = words(command);
    if let Some(url) = words
        .iter()
        .position(|word| *word == "--git")
        .and_then(|at| words.get(at + 1))
        && *url != repository
    {
        return Some(format!(
            "`--git {url}` is not the repository Cargo.toml names, {repository}"
        ));
    }
    if kind != Kind::NpmInstall && from_registry(command) {
        return Some(
            "a crate of this project from crates.io, where none is published yet: label it `# After publishing`, or install it with `--git` or `--path`".to_owned(),
        );
    }
    if kind == Kind::NpmInstall && !words.iter().any(|word| word.starts_with(DIST_NPM)) {
        return Some(format!(
            "`npm install` works today only from the files `cargo xtask dist` makes, {DIST_NPM}*.tgz"
        ));
    }
    None
}

/// The command's words up to the first that names this project (`npx musicgpt-cover-mock` of
/// `npx musicgpt-cover-mock --addr 127.0.0.1:0`): what a mention in the prose is matched on.
fn what_it_installs(command: &str) -> String {
    let words = words(command);
    let end = words
        .iter()
        .position(|word| names_project(word))
        .map_or(words.len(), |at| at + 1);
    words[..end].join(" ")
}

/// The registry URLs of `prose` not followed by [`LINK_LABEL`] (after the link's closing `)`
/// or `>`, if any).
fn unlabelled_links(prose: &str) -> Vec<String> {
    let mut found = Vec::new();
    for page in REGISTRY_PAGES {
        for (at, _) in prose.match_indices(page) {
            let rest = &prose[at..];
            let end = rest
                .find(|c: char| c.is_whitespace() || matches!(c, ')' | '>'))
                .unwrap_or(rest.len());
            let after = rest[end..].trim_start_matches([')', '>']);
            if !after.trim_start().starts_with(LINK_LABEL) {
                found.push(rest[..end].to_owned());
            }
        }
    }
    found
}

/// A clone of the repository's committed `HEAD` under `target/install-lines/`, at a fixed path
/// so that cargo's cache of it (keyed by URL) is reused from run to run.
struct LocalClone {
    /// The repository URL the docs name.
    repository: String,
    /// The clone's `file://` URL.
    url: String,
}

impl LocalClone {
    fn at(name: &str, repository: &str) -> Result<Self> {
        let dir = project::root()
            .join("target")
            .join("install-lines")
            .join(name);
        // Empty: git clones into an empty folder.
        recreate_dir(&dir)?;
        let mut clone = Command::new("git");
        clone
            .args(["clone", "--quiet", "--no-hardlinks"])
            .arg(project::root())
            .arg(&dir);
        process::run(&mut clone)?;
        Ok(Self {
            repository: repository.to_owned(),
            url: format!("file://{}", dir.display()),
        })
    }

    /// `word` with the repository URL replaced by the clone's.
    fn rewrite(&self, word: &str) -> String {
        word.replace(&self.repository, &self.url)
    }
}

/// Runs `groups`, each in a folder of its own under the system's temp dir (removed when all
/// passed, kept and named otherwise).
fn run_groups(groups: &[Group], clone: &LocalClone) -> Result {
    let name = format!("{PROJECT}-install-lines");
    project::in_scratch(
        &name,
        "install-lines: the run's folders are kept in",
        |scratch| {
            groups.iter().enumerate().try_for_each(|(index, group)| {
                run_group(group, clone, &scratch.join(index.to_string()))
            })
        },
    )
}

fn run_group(group: &Group, clone: &LocalClone, dir: &Path) -> Result {
    println!(
        "install-lines: {}:{}: {}",
        group.page, group.number, group.label
    );
    recreate_dir(dir)?;
    let app = dir.join("app");
    if group
        .commands
        .iter()
        .any(|command| kind(command) == Some(Kind::CargoAdd))
    {
        let mut new = process::cargo();
        new.args(["new", "--quiet", "--vcs", "none"])
            .arg(&app)
            .current_dir(dir);
        process::run(&mut new)?;
    }
    for command in &group.commands {
        let started = Instant::now();
        let written: Vec<String> = words(command)
            .iter()
            .map(|word| clone.rewrite(word))
            .collect();
        let mut run = match kind(command) {
            Some(Kind::CargoAdd) => {
                let mut run = process::cargo();
                run.args(&written[1..]).current_dir(&app);
                run
            }
            Some(Kind::CargoInstall) => {
                let mut run = process::cargo();
                run.args(&written[1..])
                    .arg("--debug")
                    .env("CARGO_INSTALL_ROOT", dir.join("root"))
                    .env("CARGO_TARGET_DIR", project::target_dir())
                    .current_dir(dir);
                run
            }
            Some(Kind::NpmInstall) => npm_install(&written, &dir.join("npm"))?,
            None => {
                return Err(Error::new(format!(
                    "install-lines: {}:{}: `{command}` is not a command the run knows",
                    group.page, group.number
                )));
            }
        };
        println!("$ {command}\n  ran as: {}", process::display(&run));
        process::run(&mut run).map_err(|error| {
            Error::new(format!(
                "install-lines: {}:{}: `{command}`, labelled `{}`, does not work: {error}",
                group.page, group.number, group.label
            ))
        })?;
        match kind(command) {
            Some(Kind::CargoInstall) => installed_binary_answers(command, &dir.join("root"))?,
            Some(Kind::NpmInstall) => npm_bin_installed(&dir.join("npm"))?,
            _ => {}
        }
        println!("  worked in {:.1}s", started.elapsed().as_secs_f64());
    }
    Ok(())
}

/// `npm install ...` in `dir` (its own `package.json` and `.npmrc`), offline as the dist check
/// runs it, with `./target/dist/npm/` the folder the last `cargo xtask dist` filled and its
/// `*` patterns expanded.
fn npm_install(words: &[String], dir: &Path) -> Result<Command> {
    let packages = dist::npm_out().ok_or_else(|| {
        Error::new(format!(
            "install-lines: no npm packages in target/dist/npm/ or target/ci/dist/npm/: run \
             `cargo xtask dist` (or `cargo xtask dist --profile dev`) first; the docs' \
             `{DIST_NPM}*.tgz` lines install what it makes"
        ))
    })?;
    recreate_dir(dir)?;
    let npm = dist::OfflineNpm::new(dir, "install-lines")?;
    let mut command = npm.command(dist::npm_command(&words[0]));
    for word in &words[1..] {
        match word.strip_prefix(DIST_NPM) {
            Some(pattern) => command.args(expand(&packages, pattern)?),
            None => command.arg(word),
        };
    }
    Ok(command)
}

/// The files of `dir` matching `pattern`, where `*` stands for any text.
fn expand(dir: &Path, pattern: &str) -> Result<Vec<PathBuf>> {
    let matches_pattern = |name: &str| match pattern.split_once('*') {
        Some((prefix, suffix)) => {
            name.len() >= prefix.len() + suffix.len()
                && name.starts_with(prefix)
                && name.ends_with(suffix)
        }
        None => name == pattern,
    };
    let mut matches: Vec<PathBuf> = fs::read_dir(dir)
        .map_err(project::failed("list", dir))?
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| {
            path.file_name()
                .and_then(|name| name.to_str())
                .is_some_and(matches_pattern)
        })
        .collect();
    matches.sort();
    if matches.is_empty() {
        return Err(Error::new(format!(
            "install-lines: nothing in {} matches `{pattern}`",
            dir.display()
        )));
    }
    Ok(matches)
}

/// The binary `cargo install` put in `root` (named as the crate, the command's last word)
/// answers `--help`.
fn installed_binary_answers(command: &str, root: &Path) -> Result {
    let name = words(command).last().copied().unwrap_or_default();
    let binary = root
        .join("bin")
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    let help = process::stdout(Command::new(&binary).arg("--help"))?;
    if help.lines().count() < 2 {
        return Err(Error::new(format!(
            "install-lines: `{} --help` printed almost nothing:\n{help}",
            binary.display()
        )));
    }
    println!("  {} --help answers", project::relative(&binary));
    Ok(())
}

/// The npm package's command is in `node_modules/.bin` of `dir`.
fn npm_bin_installed(dir: &Path) -> Result {
    let bin = dir
        .join("node_modules")
        .join(".bin")
        .join(dist::npm_command(crate::package::MOCK));
    if bin.exists() {
        println!("  {} is installed", bin.display());
        Ok(())
    } else {
        Err(Error::new(format!(
            "install-lines: npm installed no {}",
            bin.display()
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::project::write;

    const REPO: &str = "https://example.invalid/repo";

    fn page(text: &str) -> Page {
        Page {
            name: "page.md".to_owned(),
            text: text.to_owned(),
        }
    }

    #[test]
    fn the_docs_label_every_install_line_and_registry_link() {
        let docs = Docs::read().expect("the docs are readable");
        docs.check().unwrap_or_else(|e| panic!("{e}"));
        assert!(
            docs.today().iter().any(|group| group
                .commands
                .iter()
                .any(|command| kind(command) == Some(Kind::CargoInstall))),
            "the mock's `cargo install --git` line is labelled `{TODAY}`"
        );
    }

    /// The cheap part of the run, in `cargo test`: every `cargo add` group labelled `TODAY`,
    /// against a clone, in a fresh crate (seconds each; the crates.io index is read).
    #[test]
    fn the_cargo_add_lines_that_work_today_work() {
        let docs = Docs::read().expect("the docs are readable");
        let groups: Vec<Group> = docs
            .today()
            .into_iter()
            .filter(|group| {
                group
                    .commands
                    .iter()
                    .all(|command| kind(command) == Some(Kind::CargoAdd))
            })
            .collect();
        assert!(
            !groups.is_empty(),
            "no `cargo add` line is labelled `{TODAY}`"
        );
        let clone = LocalClone::at("test-repo", &docs.repository).expect("a clone");
        run_groups(&groups, &clone).unwrap_or_else(|e| panic!("{e}"));
    }

    #[test]
    fn labels_cover_the_lines_after_them_up_to_a_blank_line() {
        let text = "\
```sh
# Works today, from a clone:
cargo add --git https://example.invalid/repo musicgpt-cover
cargo add tokio   # the runtime
# After publishing:
cargo add musicgpt-cover

cargo install musicgpt-cover-mock
```
";
        let lines = shell_lines(&page(text));
        let labels: Vec<(usize, &str, Option<&Label>)> = lines
            .iter()
            .map(|line| (line.number, line.command.as_str(), line.label.as_ref()))
            .collect();
        let today = Label::Today {
            text: "# Works today, from a clone:".to_owned(),
            number: 2,
        };
        assert_eq!(
            labels,
            [
                (
                    3,
                    "cargo add --git https://example.invalid/repo musicgpt-cover",
                    Some(&today)
                ),
                (4, "cargo add tokio", Some(&today)),
                (6, "cargo add musicgpt-cover", Some(&Label::Later)),
                (8, "cargo install musicgpt-cover-mock", None),
            ]
        );
        let problems = problems(&page(text), REPO);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0]
                .contains("page.md:8: `cargo install musicgpt-cover-mock` is labelled neither"),
            "{problems:?}"
        );
        let groups = Docs {
            pages: vec![page(text)],
            repository: REPO.to_owned(),
        }
        .today();
        assert_eq!(groups.len(), 1);
        assert_eq!(groups[0].commands.len(), 2);
    }

    #[test]
    fn a_today_line_must_be_runnable_as_written() {
        let cases = [
            ("cargo install musicgpt-cover-mock", "from crates.io"),
            (
                "cargo add --git https://github.com/else/where musicgpt-cover",
                "is not the repository",
            ),
            ("npm install musicgpt-cover-mock", "only from the files"),
            ("npx musicgpt-cover-mock", "knows how to run"),
            (
                "cargo add --git https://example.invalid/repo musicgpt-cover --features \"a b\"",
                "no quotes",
            ),
        ];
        for (command, why) in cases {
            let text = format!("```sh\n# Works today:\n{command}\n```\n");
            let problems = problems(&page(&text), REPO);
            assert!(
                problems.len() == 1 && problems[0].contains(why),
                "{command}: {problems:?}"
            );
        }
        for command in [
            "cargo add --git https://example.invalid/repo musicgpt-cover",
            "cargo install --locked --git https://example.invalid/repo musicgpt-cover-mock",
            "cargo add tokio --features macros,rt-multi-thread",
            "npm install --save-dev ./target/dist/npm/*.tgz",
        ] {
            let text = format!("```sh\n# Works today:\n{command}\n```\n");
            assert_eq!(
                problems(&page(&text), REPO),
                Vec::<String>::new(),
                "{command}"
            );
        }
    }

    #[test]
    fn prose_commands_and_registry_links_need_their_labels() {
        let text = "\
Install it with `cargo install musicgpt-cover-mock`, or `npx musicgpt-cover-mock --seed 7`
(shown above), or `cargo install --path crates/musicgpt-cover-mock` from a clone.
See [docs.rs](https://docs.rs/musicgpt-cover) (after publishing) and
[crates.io](https://crates.io/crates/musicgpt-cover), or <https://docs.rs/x>.

```sh
# After publishing:
npx musicgpt-cover-mock
```
";
        let problems = problems(&page(text), REPO);
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(problems[0].contains("`cargo install musicgpt-cover-mock` in the prose installs"));
        assert!(problems[1].contains("https://crates.io/crates/musicgpt-cover is not followed"));
        assert!(problems[2].contains("https://docs.rs/x is not followed"));
    }

    #[test]
    fn a_release_download_is_an_install_line() {
        let text = "```sh\nversion=0.1.0\nbase=https://github.com/musicgpt-cover/musicgpt-cover/releases/download/v$version\ncurl -fsSLO \"$base/x.tar.gz\"\n```\n";
        let problems = problems(&page(text), REPO);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].contains("page.md:3:"), "{problems:?}");
        let labelled = text.replace("```sh\n", "```sh\n# After publishing a release:\n");
        assert_eq!(
            super::problems(&page(&labelled), REPO),
            Vec::<String>::new()
        );
    }

    #[test]
    fn comments_continuations_and_assignments_are_read_as_a_shell_would() {
        assert_eq!(without_comment("npx a   # b"), "npx a");
        assert_eq!(
            without_comment("echo '# not a comment'"),
            "echo '# not a comment'"
        );
        assert_eq!(
            words("KEY=1 OTHER_KEY=x cargo add y"),
            ["cargo", "add", "y"]
        );
        let text = "```bash\n# Works today:\ncargo install --locked \\\n  --git https://example.invalid/repo musicgpt-cover-mock\n```\n";
        let lines = shell_lines(&page(text));
        assert_eq!(lines.len(), 1);
        assert_eq!(
            words(&lines[0].command),
            [
                "cargo",
                "install",
                "--locked",
                "--git",
                "https://example.invalid/repo",
                "musicgpt-cover-mock"
            ]
        );
        // Not a shell block: not read.
        assert!(shell_lines(&page("```ts\nnpx musicgpt-cover-mock\n```\n")).is_empty());
    }

    #[test]
    fn a_pattern_matches_the_files_it_names() {
        let dir = crate::scratch("install-lines-expand");
        for file in ["a-1.tgz", "b-1.tgz", "notes.txt"] {
            write(&dir.join(file), "").expect("a file");
        }
        let names = |pattern: &str| -> Vec<String> {
            expand(&dir, pattern)
                .map(|paths| {
                    paths
                        .iter()
                        .filter_map(|path| path.file_name()?.to_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default()
        };
        assert_eq!(names("*.tgz"), ["a-1.tgz", "b-1.tgz"]);
        assert_eq!(names("b-*"), ["b-1.tgz"]);
        assert_eq!(names("notes.txt"), ["notes.txt"]);
        assert!(expand(&dir, "*.zip").is_err());
    }
}
