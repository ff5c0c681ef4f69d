//! `cargo xtask tidy`: the dependencies are exactly what is used, each declared once.
//!
//! - every dependency of a member crate goes through `[workspace.dependencies]`
//!   (`name = { workspace = true }`), so a version is written once; the one way around it is a
//!   path to another crate of this workspace (the mock's bench needs the client as a path);
//! - every dependency a crate declares is named in its Rust source (`name::`, `use name`,
//!   `extern crate name`, in `src/`, `tests/`, `benches/`, `build.rs`), unless its
//!   `[package.metadata.tidy]` `unnamed = [...]` lists it: a dependency only generated code names
//!   (the client's `build.rs` output), with the reason beside it in the manifest;
//! - every entry of `[workspace.dependencies]` is used by some member.
//!
//! The same search cargo-machete makes (a crate's name in its source), plus the two rules of the
//! workspace table it does not check, with no tool to install. The check is also a `#[test]`
//! below, so `cargo test --workspace` (the `test` step of `cargo xtask ci`) enforces it.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use crate::{Error, Result, project};

/// The sections of a member's manifest that declare dependencies (also under
/// `[target.'cfg(...)'.…]`).
const DEPENDENCY_SECTIONS: [&str; 3] = ["dependencies", "dev-dependencies", "build-dependencies"];

/// `cargo xtask tidy`.
pub(crate) fn run() -> Result {
    let problems = check(&project::root())?;
    if problems.is_empty() {
        println!("tidy: every dependency is declared once and used");
        Ok(())
    } else {
        Err(Error::new(format!(
            "tidy: {} problem(s):\n  {}",
            problems.len(),
            problems.join("\n  ")
        )))
    }
}

/// Every problem of the workspace at `root`, one line each.
fn check(root: &Path) -> Result<Vec<String>> {
    let workspace = read(&root.join("Cargo.toml"))?;
    let members = project::toml_list(&workspace, "workspace", "members");
    let table: BTreeSet<String> = project::toml_entries(&workspace, "workspace.dependencies")
        .into_iter()
        .map(|(name, _)| name)
        .collect();
    let mut problems = Vec::new();
    let mut used_from_table = BTreeSet::new();
    for member in &members {
        let dir = root.join(member);
        let manifest = read(&dir.join("Cargo.toml"))?;
        let unnamed: BTreeSet<String> =
            project::toml_list(&manifest, "package.metadata.tidy", "unnamed")
                .into_iter()
                .collect();
        let source = rust_source(&dir)?;
        for section in dependency_sections(&manifest) {
            let section = section.as_str();
            for (name, spec) in project::toml_entries(&manifest, section) {
                let through_table = spec.contains("workspace = true");
                if through_table {
                    used_from_table.insert(name.clone());
                } else if !spec.contains("path =") {
                    problems.push(format!(
                        "{member}/Cargo.toml [{section}] {name}: declare it in [workspace.dependencies] and write `{name} = {{ workspace = true }}`"
                    ));
                }
                if !unnamed.contains(&name) && !names(&source, &name) {
                    problems.push(format!(
                        "{member}/Cargo.toml [{section}] {name}: not named in {member}'s Rust source; remove it (or list it in [package.metadata.tidy] unnamed, with the reason)"
                    ));
                }
            }
        }
        for name in &unnamed {
            if names(&source, name) {
                problems.push(format!(
                    "{member}/Cargo.toml [package.metadata.tidy] unnamed lists {name}, which the source names: take it off the list"
                ));
            }
        }
    }
    for name in table.difference(&used_from_table) {
        problems.push(format!(
            "Cargo.toml [workspace.dependencies] {name}: no member uses it; remove it"
        ));
    }
    Ok(problems)
}

/// The manifest's tables that declare dependencies: the [`DEPENDENCY_SECTIONS`], and each of them
/// for a target (`target.'cfg(target_os = "linux")'.dependencies`), as their headers name them.
fn dependency_sections(manifest: &str) -> Vec<String> {
    let mut sections: Vec<String> = DEPENDENCY_SECTIONS.map(str::to_owned).to_vec();
    for line in manifest.lines().map(str::trim) {
        let Some(header) = line
            .strip_prefix("[target.")
            .and_then(|l| l.strip_suffix(']'))
        else {
            continue;
        };
        if DEPENDENCY_SECTIONS
            .iter()
            .any(|section| header.ends_with(&format!(".{section}")))
        {
            sections.push(format!("target.{header}"));
        }
    }
    sections
}

fn read(path: &Path) -> Result<String> {
    fs::read_to_string(path)
        .map_err(|e| Error::new(format!("cannot read {}: {e}", project::relative(path))))
}

/// The text of every `.rs` file of a crate (its `target/` left out).
fn rust_source(dir: &Path) -> Result<String> {
    let mut text = String::new();
    let mut pending: Vec<PathBuf> = vec![dir.to_path_buf()];
    while let Some(path) = pending.pop() {
        let listing = fs::read_dir(&path)
            .map_err(|e| Error::new(format!("cannot list {}: {e}", project::relative(&path))))?;
        for entry in listing.flatten() {
            let path = entry.path();
            let name = entry.file_name();
            if path.is_dir() {
                if name != "target" && name != "node_modules" {
                    pending.push(path);
                }
            } else if path.extension().is_some_and(|e| e == "rs") {
                text.push_str(&read(&path)?);
                text.push('\n');
            }
        }
    }
    Ok(text)
}

/// Whether `source` names the crate `dependency` as Rust code refers to a crate.
fn names(source: &str, dependency: &str) -> bool {
    let ident = dependency.replace('-', "_");
    let starts_word = |at: usize| {
        source[..at]
            .chars()
            .next_back()
            .is_none_or(|c| !(c.is_alphanumeric() || c == '_'))
    };
    [
        format!("{ident}::"),
        format!("use {ident}"),
        format!("extern crate {ident}"),
    ]
    .iter()
    .any(|needle| {
        source.match_indices(needle.as_str()).any(|(at, _)| {
            needle.starts_with("use ") || needle.starts_with("extern") || starts_word(at)
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::put;

    #[test]
    fn every_dependency_is_declared_once_and_used() {
        let problems = check(&project::root()).unwrap_or_else(|e| panic!("{e}"));
        assert!(problems.is_empty(), "{}", problems.join("\n"));
    }

    /// A made-up workspace with one of each problem: the check finds each, and nothing else.
    #[test]
    fn each_problem_is_found() {
        let root = crate::scratch("tidy");
        let member = root.join("crates/a");
        put(
            &root.join("Cargo.toml"),
            "[workspace]\nmembers = [\"crates/a\"]\n\n[workspace.dependencies]\nserde = \"1\"\nunused-anywhere = \"1\"\nhttp-body = \"1\"\nregress = \"0.12\"\nrustix = \"1\"\nlibc = \"0.2\"\n",
        );
        put(
            &member.join("Cargo.toml"),
            "[package]\nname = \"a\"\n\n[package.metadata.tidy]\n# only the generated code names them\nunnamed = [\n    \"regress\", # used by build.rs output\n    \"serde\",\n]\n\n[dependencies]\nserde = { workspace = true }\nhttp-body = { workspace = true }\nhttpdate = \"1\"\nregress = { workspace = true }\nsibling = { path = \"../b\" }\n\n[target.'cfg(unix)'.dependencies]\nrustix = { workspace = true }\nlibc = { workspace = true }\n",
        );
        put(
            &member.join("src/lib.rs"),
            "//! A crate.\nuse serde::Serialize;\npub fn f() -> Option<httpdate::HttpDate> { None }\nfn g() { let _ = sibling::x(); }\n#[cfg(unix)]\nfn h() { let _ = rustix::fs::sync(); }\n",
        );
        let problems = check(&root).unwrap_or_else(|e| panic!("{e}"));
        let expected = [
            "[dependencies] http-body: not named",
            "[dependencies] httpdate: declare it in [workspace.dependencies]",
            "unnamed lists serde, which the source names",
            "[workspace.dependencies] unused-anywhere: no member uses it",
            "[target.'cfg(unix)'.dependencies] libc: not named",
        ];
        for needle in expected {
            assert!(
                problems.iter().any(|p| p.contains(needle)),
                "missing {needle:?} in {problems:#?}"
            );
        }
        assert_eq!(problems.len(), expected.len(), "{problems:#?}");
    }

    #[test]
    fn a_crate_is_named_only_as_code_names_a_crate() {
        assert!(names("use serde_json::json;", "serde_json"));
        assert!(names("x = http_body::Frame::data(b)", "http-body"));
        assert!(names("use bytes;", "bytes"));
        assert!(!names("my_serde_json::f()", "serde_json"));
        assert!(!names("// serde_json is not used", "serde_json"));
    }
}
