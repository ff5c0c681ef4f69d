//! Where things are: the workspace root and the files xtask works on, as absolute paths; and
//! listing, reading, writing, copying and syncing them with errors that name the file.

use std::collections::BTreeSet;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::{Error, Result};

/// The workspace root, found from this crate's own location so xtask works from any directory.
pub(crate) fn root() -> PathBuf {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir
        .parent()
        .map_or_else(|| manifest_dir.to_path_buf(), Path::to_path_buf)
}

/// The target dir the workspace builds in (`CARGO_TARGET_DIR`, else `target/`).
pub(crate) fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root().join("target"), PathBuf::from)
}

/// The spec, the single source of truth.
pub(crate) fn spec() -> PathBuf {
    root().join("openapi.yaml")
}

/// The committed tool manifests and linter configurations (`xtask/tools/`).
pub(crate) fn tool_configs() -> PathBuf {
    root().join("xtask").join("tools")
}

/// Shortens `path` to be relative to the root, for messages.
pub(crate) fn relative(path: &Path) -> String {
    let root = root();
    path.strip_prefix(&root)
        .unwrap_or(path)
        .display()
        .to_string()
}

/// The error of an I/O `action` ("read", "write", "create", "remove") on `path`, naming the file.
pub(crate) fn failed<'a>(action: &'a str, path: &'a Path) -> impl FnOnce(io::Error) -> Error + 'a {
    move |error| Error::new(format!("could not {action} {}: {error}", path.display()))
}

/// `path`'s text; the error names the file.
pub(crate) fn read(path: &Path) -> Result<String> {
    fs::read_to_string(path).map_err(failed("read", path))
}

/// Writes `contents` to `path`; the error names the file.
pub(crate) fn write(path: &Path, contents: &(impl AsRef<[u8]> + ?Sized)) -> Result {
    fs::write(path, contents).map_err(failed("write", path))
}

/// Makes `dir` and the folders above it that are missing.
pub(crate) fn create_dir(dir: &Path) -> Result {
    fs::create_dir_all(dir).map_err(failed("create", dir))
}

/// Makes `dir` an empty folder.
pub(crate) fn recreate_dir(dir: &Path) -> Result {
    if dir.exists() {
        fs::remove_dir_all(dir).map_err(failed("remove", dir))?;
    }
    create_dir(dir)
}

/// Runs `work` in an empty folder `NAME-PID` under the system's temp dir: removed when it
/// succeeds, kept when it fails, and named after `kept` (`dist: the check's files are kept in`).
pub(crate) fn in_scratch(name: &str, kept: &str, work: impl FnOnce(&Path) -> Result) -> Result {
    let dir = std::env::temp_dir().join(format!("{name}-{}", std::process::id()));
    recreate_dir(&dir)?;
    let outcome = work(&dir);
    match &outcome {
        Ok(()) => drop(fs::remove_dir_all(&dir)),
        Err(_) => eprintln!("{kept} {}", dir.display()),
    }
    outcome
}

/// Copies a file with its permissions (a binary stays executable).
pub(crate) fn copy(from: &Path, to: &Path) -> Result {
    fs::copy(from, to).map(drop).map_err(|error| {
        Error::new(format!(
            "could not copy {} to {}: {error}",
            from.display(),
            to.display()
        ))
    })
}

/// Makes `to` hold exactly `files` (relative paths) of `from`, writing only those whose contents
/// differ, so cargo sees unchanged files as unchanged; symlinks stay symlinks, and what else `to`
/// holds is removed. Returns how many files were written.
pub(crate) fn sync(from: &Path, to: &Path, files: &BTreeSet<PathBuf>) -> Result<usize> {
    create_dir(to)?;
    let mut written = 0;
    for path in files {
        let source = from.join(path);
        let target = to.join(path);
        if let Some(parent) = target.parent() {
            create_dir(parent)?;
        }
        if is_symlink(&source) {
            written += usize::from(mirror_symlink(&source, &target)?);
            continue;
        }
        let contents = fs::read(&source).map_err(failed("read", &source))?;
        if is_symlink(&target) {
            // Copying onto a link would write through it, into the file it points to.
            remove(&target)?;
        } else if fs::read(&target).is_ok_and(|existing| existing == contents) {
            continue;
        }
        // `copy` keeps the permissions, so `.ci/run` stays executable in the copy.
        copy(&source, &target)?;
        written += 1;
    }
    prune(to, to, files)?;
    Ok(written)
}

fn is_symlink(path: &Path) -> bool {
    fs::symlink_metadata(path).is_ok_and(|metadata| metadata.file_type().is_symlink())
}

/// Makes `target` a symlink with the same (relative) target as `source`; returns whether it had to
/// write. The crates' `openapi.yaml` are links to the root spec: copied as files, they would keep
/// the unmutated spec and the mutations would silently stop reaching the client and the mock.
fn mirror_symlink(source: &Path, target: &Path) -> Result<bool> {
    let points_to = fs::read_link(source).map_err(failed("read", source))?;
    if points_to.is_absolute() {
        return Err(Error::new(format!(
            "{} is a symlink to the absolute path {}: in the copy it would still point \
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
    fs::remove_file(path).map_err(failed("remove", path))
}

/// Removes from the copy every file the workspace no longer lists (deleted files, `.snap.new`
/// leftovers), and the folders that leaves empty.
fn prune(copy: &Path, dir: &Path, keep: &BTreeSet<PathBuf>) -> Result {
    let entries = fs::read_dir(dir).map_err(failed("read", dir))?;
    for entry in entries {
        let entry = entry.map_err(failed("read", dir))?;
        let path = entry.path();
        let file_type = entry.file_type().map_err(failed("read", &path))?;
        if file_type.is_dir() {
            prune(copy, &path, keep)?;
            if fs::read_dir(&path).is_ok_and(|mut entries| entries.next().is_none()) {
                fs::remove_dir(&path).map_err(failed("remove", &path))?;
            }
        } else if !keep.contains(path.strip_prefix(copy).unwrap_or(&path)) {
            fs::remove_file(&path).map_err(failed("remove", &path))?;
        }
    }
    Ok(())
}

/// The workspace's files, relative to its root: what `git ls-files --cached --others
/// --exclude-standard` lists, less anything deleted (what mutants' copy holds).
pub(crate) fn workspace_files() -> Result<BTreeSet<PathBuf>> {
    let root = root();
    let listing = crate::process::stdout(crate::process::git().args([
        "ls-files",
        "-z",
        "--cached",
        "--others",
        "--exclude-standard",
    ]))
    .map_err(|error| {
        Error::new(format!(
            "could not list the workspace's files with git: {error}"
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

/// Every file below `dir`, relative to it.
pub(crate) fn files_under(dir: &Path) -> Result<BTreeSet<PathBuf>> {
    let mut files = BTreeSet::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        let entries = fs::read_dir(&current).map_err(failed("read", &current))?;
        for entry in entries {
            let path = entry.map_err(failed("read", &current))?.path();
            if path.is_dir() {
                pending.push(path);
            } else if let Ok(relative) = path.strip_prefix(dir) {
                files.insert(relative.to_path_buf());
            }
        }
    }
    Ok(files)
}

/// The `name = value` lines of the table `[section]`, comments and blank lines left out. Every
/// manifest here writes a dependency on one line.
pub(crate) fn toml_entries(manifest: &str, section: &str) -> Vec<(String, String)> {
    let header = format!("[{section}]");
    let mut inside = false;
    let mut found = Vec::new();
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            inside = line == header;
            continue;
        }
        if !inside || line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some((name, value)) = line.split_once('=') {
            found.push((name.trim().to_owned(), value.trim().to_owned()));
        }
    }
    found
}

/// The strings of the array `key = [...]` in `[section]` (it may span lines).
pub(crate) fn toml_list(manifest: &str, section: &str, key: &str) -> Vec<String> {
    let header = format!("[{section}]");
    let Some(start) = manifest.find(&header) else {
        return Vec::new();
    };
    let rest = &manifest[start + header.len()..];
    let rest = rest.find("\n[").map_or(rest, |end| &rest[..end]);
    let Some(at) = rest
        .lines()
        .position(|l| l.trim_start().starts_with(key) && l.contains('='))
    else {
        return Vec::new();
    };
    let array: String = rest.lines().skip(at).collect::<Vec<_>>().join("\n");
    let Some(open) = array.find('[') else {
        return Vec::new();
    };
    let Some(close) = array[open..].find(']') else {
        return Vec::new();
    };
    array[open + 1..open + close]
        .lines()
        .map(|l| l.split('#').next().unwrap_or_default())
        .flat_map(|l| l.split(','))
        .map(|item| item.trim().trim_matches('"').to_owned())
        .filter(|item| !item.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::put;

    /// The mirror (and the packaged crates' sync) rewrites only what changed (cargo then
    /// rebuilds only what changed) and drops what the workspace no longer has, such as a
    /// `.snap.new` left by a failed snapshot.
    #[test]
    fn the_sync_writes_only_changes_and_prunes_the_rest() {
        let dir = crate::scratch("sync");
        let (root, copy) = (dir.join("root"), dir.join("copy"));
        put(&root.join("openapi.yaml"), "a");
        put(&root.join("tests/snapshots/x.snap"), "b");
        let files = files_under(&root).unwrap_or_else(|e| panic!("{e}"));
        let listed: BTreeSet<PathBuf> = ["openapi.yaml", "tests/snapshots/x.snap"]
            .map(PathBuf::from)
            .into();
        assert_eq!(files, listed);
        let first = sync(&root, &copy, &files).ok();
        let again = sync(&root, &copy, &files).ok();
        put(&root.join("openapi.yaml"), "changed");
        put(&copy.join("tests/snapshots/x.snap.new"), "leftover");
        put(&copy.join("gone/deep/file.rs"), "deleted upstream");
        let after_change = sync(&root, &copy, &files).ok();
        let spec = fs::read_to_string(copy.join("openapi.yaml")).ok();
        let leftover = copy.join("tests/snapshots/x.snap.new").exists();
        let gone = copy.join("gone").exists();
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
    fn the_sync_keeps_symlinks_so_mutations_reach_the_crates() {
        let dir = crate::scratch("sync-links");
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
