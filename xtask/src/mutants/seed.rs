//! A first run's target dir, seeded with the dependencies the main target dir already compiled.
//!
//! `target/mutants/target` is a target dir of its own (see the module's documentation for why the
//! main one cannot be shared), so a fresh checkout's first run would compile every registry
//! dependency a second time: minutes on 2 cores, after `cargo test` just compiled the same
//! units with the same features and profile. When the mutants target dir has no `debug/` yet,
//! the compiled dependencies are copied from `target/debug` instead (`cp -a`, which keeps the
//! modification times cargo judges freshness by; cargo itself rewrites the build scripts'
//! output paths of a moved target dir). The workspace's own crates are never copied: their
//! artifacts are named by their path relative to the workspace root, which the copy shares with
//! the original, and one built from the main workspace's files must never pass for one built
//! from the copy's. They compile in the copy, as they must anyway for a mutated spec.

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;
use std::process::Command;

use crate::{Error, Result, process, project};

/// The folders of a profile's output that hold compiled units; the rest (`incremental/`, only
/// for workspace crates, and the uplifted binaries) is left behind.
const UNIT_DIRS: &[&str] = &["deps", "build", ".fingerprint"];

/// Copies the dependencies' units from `main/debug` into `mutants/debug` when the latter does not
/// exist yet. Returns how many entries were copied (`None` when there was nothing to do).
pub(super) fn seed(main: &Path, mutants: &Path, workspace: &Path) -> Result<Option<usize>> {
    let (from, to) = (main.join("debug"), mutants.join("debug"));
    if to.exists() || !from.join("deps").is_dir() {
        return Ok(None);
    }
    let members = member_names(workspace)?;
    let mut copied = 0;
    for dir in UNIT_DIRS {
        let (source, target) = (from.join(dir), to.join(dir));
        let Ok(entries) = fs::read_dir(&source) else {
            continue;
        };
        let wanted: Vec<_> = entries
            .filter_map(|entry| entry.ok())
            .filter(|entry| !is_member_unit(&entry.file_name().to_string_lossy(), &members))
            .map(|entry| entry.path())
            .collect();
        project::create_dir(&target)?;
        // A few thousand paths per command stay far below the argument limit.
        for chunk in wanted.chunks(2000) {
            let mut command = Command::new("cp");
            command.arg("-a");
            #[cfg(target_os = "linux")]
            command.arg("--reflink=auto");
            command.args(chunk).arg(&target);
            process::stdout(&mut command).map_err(|error| {
                Error::new(format!(
                    "mutants: could not seed {} from {}: {error}",
                    target.display(),
                    source.display()
                ))
            })?;
        }
        copied += wanted.len();
    }
    Ok(Some(copied))
}

/// Every `name = "..."` of the workspace members' manifests (packages, libs, bins, tests,
/// benches), with `-` as `_`: the names their units are filed under. A name too many only
/// costs a dependency's rebuild; a name missed could let a stale crate through, so every such
/// line counts.
fn member_names(workspace: &Path) -> Result<BTreeSet<String>> {
    let root = workspace.join("Cargo.toml");
    let manifest = project::read(&root)?;
    let mut names = BTreeSet::new();
    for member in project::toml_list(&manifest, "workspace", "members") {
        let path = workspace.join(member).join("Cargo.toml");
        let text = project::read(&path)?;
        names.extend(manifest_names(&text));
    }
    Ok(names)
}

/// The values of `name = "..."` lines, normalized with `_` for `-`.
fn manifest_names(manifest: &str) -> BTreeSet<String> {
    manifest
        .lines()
        .filter_map(|line| line.trim().strip_prefix("name"))
        .filter_map(|rest| rest.trim_start().strip_prefix('='))
        .map(|value| value.trim().trim_matches('"').replace('-', "_"))
        .filter(|name| !name.is_empty())
        .collect()
}

/// Whether a unit's file or folder (`libNAME-HASH.rlib`, `NAME-HASH.d`, `NAME-HASH`,
/// `NAME-HASH/`) belongs to a workspace member.
fn is_member_unit(file: &str, members: &BTreeSet<String>) -> bool {
    let stem = file.split('.').next().unwrap_or(file);
    let name = stem.rsplit_once('-').map_or(stem, |(name, _)| name);
    let name = name.replace('-', "_");
    members.contains(&name)
        || name
            .strip_prefix("lib")
            .is_some_and(|name| members.contains(name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::put;

    #[test]
    fn member_units_are_known_by_every_name_their_manifests_give() {
        let workspace = "[workspace]\nresolver = \"3\"\nmembers = [\n    \"crates/a-b\",\n    \
                         \"tests\",\n]\n";
        assert_eq!(
            project::toml_list(workspace, "workspace", "members"),
            ["crates/a-b", "tests"]
        );
        let names = manifest_names(
            "[package]\nname = \"musicgpt-cover-mock\"\n[[test]]\nname = \"mock\"\n\
             path = \"tests/mock/main.rs\"\n[dependencies]\ntokio = { workspace = true }\n",
        );
        assert_eq!(
            names.iter().map(String::as_str).collect::<Vec<_>>(),
            ["mock", "musicgpt_cover_mock"]
        );
        for member in [
            "libmusicgpt_cover_mock-0a1b2c.rlib",
            "musicgpt_cover_mock-0a1b2c.d",
            "musicgpt-cover-mock-0a1b2c",
            "mock-e8db93959155b0f3",
        ] {
            assert!(is_member_unit(member, &names), "{member}");
        }
        for dependency in [
            "libtokio-0a1b2c.rlib",
            "tokio-0a1b2c.d",
            "tokio-0a1b2c",
            "libmockito-1.rlib",
        ] {
            assert!(!is_member_unit(dependency, &names), "{dependency}");
        }
    }

    /// Seeding copies a dependency's units with their times and leaves the members' behind;
    /// a second seeding, or one without a main build, does nothing.
    #[cfg(unix)]
    #[test]
    fn seeding_copies_dependencies_only_and_only_once() {
        let dir = crate::scratch("mutants-seed");
        let (main, mutants, workspace) = (dir.join("main"), dir.join("mutants"), dir.join("ws"));
        put(
            &workspace.join("Cargo.toml"),
            "[workspace]\nmembers = [\"m\"]\n",
        );
        put(
            &workspace.join("m/Cargo.toml"),
            "[package]\nname = \"my-crate\"\n",
        );
        put(&main.join("debug/deps/libserde-1.rlib"), "dep");
        put(&main.join("debug/deps/libmy_crate-2.rlib"), "member");
        put(&main.join("debug/.fingerprint/serde-1/lib-serde"), "f");
        put(
            &main.join("debug/.fingerprint/my-crate-2/lib-my_crate"),
            "f",
        );
        put(&main.join("debug/incremental/my_crate-3/x"), "i");
        let before = fs::metadata(main.join("debug/deps/libserde-1.rlib"))
            .and_then(|m| m.modified())
            .ok();
        let first = seed(&main, &mutants, &workspace).ok();
        let after = fs::metadata(mutants.join("debug/deps/libserde-1.rlib"))
            .and_then(|m| m.modified())
            .ok();
        let member_copied = mutants.join("debug/deps/libmy_crate-2.rlib").exists()
            || mutants.join("debug/.fingerprint/my-crate-2").exists()
            || mutants.join("debug/incremental").exists();
        let fingerprint = mutants
            .join("debug/.fingerprint/serde-1/lib-serde")
            .exists();
        let again = seed(&main, &mutants, &workspace).ok();
        let nothing_built = seed(&dir.join("absent"), &dir.join("other"), &workspace).ok();
        assert_eq!(first, Some(Some(2)));
        assert_eq!(before, after, "the modification time was not kept");
        assert!(fingerprint && !member_copied);
        assert_eq!((again, nothing_built), (Some(None), Some(None)));
    }
}
