//! The copy of the workspace the suite runs in: the files git lists, mirrored so that only what
//! changed is rewritten, symlinks kept as symlinks, and nothing else left behind.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{Error, Result, process, project};

/// Makes `copy` hold exactly the workspace's tracked and untracked-but-not-ignored files, writing
/// only those whose contents differ so cargo sees unchanged files as unchanged. Returns how many
/// files were written.
pub(super) fn mirror(root: &Path, copy: &Path) -> Result<usize> {
    project::sync(root, copy, &listed(root)?)
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
