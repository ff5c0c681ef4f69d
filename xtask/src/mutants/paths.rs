//! Where `cargo xtask mutants` keeps its copy of the workspace, its target dir, logs and report.

use std::path::PathBuf;

use crate::project;

/// Where a run keeps its copy, target dir, logs and report: under the real `target/`, which git ignores.
pub(super) struct Paths {
    pub(super) workspace: PathBuf,
    pub(super) target: PathBuf,
    pub(super) logs: PathBuf,
    pub(super) report: PathBuf,
}

impl Paths {
    pub(super) fn new() -> Self {
        let dir = project::root().join("target").join("mutants");
        Self {
            workspace: dir.join("workspace"),
            target: dir.join("target"),
            logs: dir.join("logs"),
            report: dir.join("report.md"),
        }
    }
}
