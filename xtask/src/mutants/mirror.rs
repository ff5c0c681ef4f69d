//! The copy of the workspace the suite runs in: the files git lists, mirrored so that only what
//! changed is rewritten, symlinks kept as symlinks, and nothing else left behind.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{Error, Result, process, project};

/// Makes `copy` hold exactly the workspace's tracked and untracked-but-not-ignored files, writing
/// only those whose contents differ so cargo sees unchanged files as unchanged. Returns how many
/// files were written.
pub(super) fn mirror(root: &Path, copy: &Path) -> Result<usize> {
    sync(root, copy, &listed(root)?)
}

/// What `git ls-files --cached --others --exclude-standard` lists, less anything deleted.
fn listed(root: &Path) -> Result<BTreeSet<PathBuf>> {
    let listing = process::stdout(
        Command::new("git")
            .args([
                "ls-files",
                "-z",
                "--cached",
                "--others",
                "--exclude-standard",
            ])
            .current_dir(root),
    )
    .map_err(|error| {
        Error::new(format!(
            "mutants: could not list the workspace's files: {error}"
        ))
    })?;
    let files: BTreeSet<PathBuf> = listing
        .split('\0')
        .filter(|path| !path.is_empty())
        .map(PathBuf::from)
        // Never the tools or build output, even if a .gitignore change let them through; and not
        // a tracked file deleted from the working tree.
        .filter(|path| !path.starts_with(".tools") && !path.starts_with("target"))
        .filter(|path| root.join(path).is_file())
        .collect();
    Ok(files)
}

/// Copies `files` from `root` into `copy` where they differ, then prunes everything else.
fn sync(root: &Path, copy: &Path, files: &BTreeSet<PathBuf>) -> Result<usize> {
    project::create_dir(copy)?;
    let mut written = 0;
    for path in files {
        let source = root.join(path);
        let target = copy.join(path);
        if let Some(parent) = target.parent() {
            project::create_dir(parent)?;
        }
        if is_symlink(&source) {
            written += usize::from(mirror_symlink(&source, &target)?);
            continue;
        }
        let contents = fs::read(&source).map_err(project::failed("read", &source))?;
        if is_symlink(&target) {
            // Copying onto a link would write through it, into the file it points to.
            remove(&target)?;
        } else if fs::read(&target).is_ok_and(|existing| existing == contents) {
            continue;
        }
        // `fs::copy` keeps the permissions, so `.ci/run` stays executable in the copy.
        fs::copy(&source, &target).map_err(|error| {
            Error::new(format!(
                "could not copy {} to {}: {error}",
                source.display(),
                target.display()
            ))
        })?;
        written += 1;
    }
    prune(copy, copy, files)?;
    Ok(written)
}

fn is_symlink(path: &Path) -> bool {
    fs::symlink_metadata(path).is_ok_and(|metadata| metadata.file_type().is_symlink())
}

/// Makes `target` a symlink with the same (relative) target as `source`; returns whether it had to
/// write. The crates' `openapi.yaml` are links to the root spec: copied as files, they would keep
/// the unmutated spec and the mutations would silently stop reaching the client and the mock.
fn mirror_symlink(source: &Path, target: &Path) -> Result<bool> {
    let points_to = fs::read_link(source).map_err(project::failed("read", source))?;
    if points_to.is_absolute() {
        return Err(Error::new(format!(
            "mutants: {} is a symlink to the absolute path {}: in the copy it would still point \
             at the unmutated original. Make the link relative",
            source.display(),
            points_to.display()
        )));
    }
    if fs::read_link(target).is_ok_and(|existing| existing == points_to) {
        return Ok(false);
    }
    if fs::symlink_metadata(target).is_ok() {
        remove(target)?;
    }
    #[cfg(unix)]
    let linked = std::os::unix::fs::symlink(&points_to, target);
    #[cfg(windows)]
    let linked = std::os::windows::fs::symlink_file(&points_to, target);
    linked.map_err(|error| {
        Error::new(format!(
            "could not create the symlink {} -> {}: {error}",
            target.display(),
            points_to.display()
        ))
    })?;
    Ok(true)
}

fn remove(path: &Path) -> Result {
    fs::remove_file(path).map_err(project::failed("remove", path))
}

/// Removes from the copy every file the workspace no longer lists (deleted files, `.snap.new`
/// leftovers), and the folders that leaves empty.
fn prune(copy: &Path, dir: &Path, keep: &BTreeSet<PathBuf>) -> Result {
    let entries = fs::read_dir(dir).map_err(project::failed("read", dir))?;
    for entry in entries {
        let entry = entry.map_err(project::failed("read", dir))?;
        let path = entry.path();
        let file_type = entry.file_type().map_err(project::failed("read", &path))?;
        if file_type.is_dir() {
            prune(copy, &path, keep)?;
            if fs::read_dir(&path).is_ok_and(|mut entries| entries.next().is_none()) {
                fs::remove_dir(&path).map_err(project::failed("remove", &path))?;
            }
        } else if !keep.contains(path.strip_prefix(copy).unwrap_or(&path)) {
            fs::remove_file(&path).map_err(project::failed("remove", &path))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::put;

    /// The mirror rewrites only what changed (cargo then rebuilds only what changed) and drops
    /// what the workspace no longer has, such as a `.snap.new` left by a failed snapshot.
    #[test]
    fn the_mirror_writes_only_changes_and_prunes_the_rest() {
        let dir = std::env::temp_dir().join(format!("xtask-mutants-{}", std::process::id()));
        let (root, copy) = (dir.join("root"), dir.join("copy"));
        put(&root.join("openapi.yaml"), "a");
        put(&root.join("tests/snapshots/x.snap"), "b");
        let files: BTreeSet<PathBuf> = ["openapi.yaml", "tests/snapshots/x.snap"]
            .map(PathBuf::from)
            .into();
        let first = sync(&root, &copy, &files).ok();
        let again = sync(&root, &copy, &files).ok();
        put(&root.join("openapi.yaml"), "changed");
        put(&copy.join("tests/snapshots/x.snap.new"), "leftover");
        put(&copy.join("gone/deep/file.rs"), "deleted upstream");
        let after_change = sync(&root, &copy, &files).ok();
        let spec = fs::read_to_string(copy.join("openapi.yaml")).ok();
        let leftover = copy.join("tests/snapshots/x.snap.new").exists();
        let gone = copy.join("gone").exists();
        let _ = fs::remove_dir_all(&dir);
        assert_eq!((first, again, after_change), (Some(2), Some(0), Some(1)));
        assert_eq!(spec.as_deref(), Some("changed"));
        assert!(
            !leftover,
            "a file the workspace does not list survived the mirror"
        );
        assert!(!gone, "an emptied folder survived the mirror");
    }

    /// A crate's `openapi.yaml` is a link to the root spec; mirrored as a link, it shows the copy's
    /// mutated spec, and a link replaced by a file upstream is replaced without writing through it.
    #[cfg(unix)]
    #[test]
    fn the_mirror_keeps_symlinks_so_mutations_reach_the_crates() {
        let dir = std::env::temp_dir().join(format!("xtask-mutants-links-{}", std::process::id()));
        let (root, copy) = (dir.join("root"), dir.join("copy"));
        let link = Path::new("crates/a/openapi.yaml");
        put(&root.join("openapi.yaml"), "spec");
        fs::create_dir_all(root.join("crates/a")).unwrap_or_else(|e| panic!("{e}"));
        std::os::unix::fs::symlink("../../openapi.yaml", root.join(link))
            .unwrap_or_else(|e| panic!("{e}"));
        let files: BTreeSet<PathBuf> = [PathBuf::from("openapi.yaml"), link.to_path_buf()].into();
        let first = sync(&root, &copy, &files).ok();
        let again = sync(&root, &copy, &files).ok();
        let kept = fs::read_link(copy.join(link)).ok();
        put(&copy.join("openapi.yaml"), "mutated");
        let seen = fs::read_to_string(copy.join(link)).ok();
        put(&copy.join("openapi.yaml"), "spec");
        fs::remove_file(root.join(link)).unwrap_or_else(|e| panic!("{e}"));
        put(&root.join(link), "a copy now");
        let replaced = sync(&root, &copy, &files).ok();
        let root_spec = fs::read_to_string(copy.join("openapi.yaml")).ok();
        let now_a_file = !is_symlink(&copy.join(link));
        let _ = fs::remove_dir_all(&dir);
        assert_eq!((first, again, replaced), (Some(2), Some(0), Some(1)));
        assert_eq!(kept, Some(PathBuf::from("../../openapi.yaml")));
        assert_eq!(seen.as_deref(), Some("mutated"));
        assert_eq!(
            root_spec.as_deref(),
            Some("spec"),
            "the copy wrote through the link"
        );
        assert!(now_a_file);
    }
}
