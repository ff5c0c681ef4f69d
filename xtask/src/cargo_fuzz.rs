//! cargo-fuzz, the cargo subcommand `cargo xtask fuzz` drives, installed into `.tools/cargo-fuzz/`
//! at a pinned version. A module of its own because both `tools` (which installs every tool) and
//! `fuzz` (which installs it on first use, then runs it) need it, and neither should import the
//! other.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use crate::{Result, process, project};

/// The cargo-fuzz release installed into `.tools/cargo-fuzz/`.
const CARGO_FUZZ_VERSION: &str = "0.13.2";

/// cargo-fuzz, installed into `.tools/cargo-fuzz/` at the pinned version.
pub(crate) struct CargoFuzz {
    root: PathBuf,
}

impl CargoFuzz {
    pub(crate) fn new(tools_dir: &Path) -> Self {
        Self {
            root: tools_dir.join("cargo-fuzz"),
        }
    }

    pub(crate) fn dir(&self) -> &Path {
        &self.root
    }

    fn program(&self) -> PathBuf {
        self.root.join("bin").join("cargo-fuzz")
    }

    /// `cargo-fuzz fuzz ...` (what `cargo fuzz ...` runs), from the workspace root, where it
    /// finds `fuzz/`.
    pub(crate) fn command(&self) -> Command {
        let mut command = Command::new(self.program());
        command.arg("fuzz").current_dir(project::root());
        command
    }

    /// Whether the pinned version is installed (it prints `cargo-fuzz 0.13.2`).
    pub(crate) fn is_current(&self) -> bool {
        process::stdout(Command::new(self.program()).arg("--version"))
            .is_ok_and(|version| version == format!("cargo-fuzz {CARGO_FUZZ_VERSION}"))
    }

    /// `cargo install` of the pinned version, with its locked dependencies (about a minute).
    pub(crate) fn install(&self) -> Result {
        let mut command = process::cargo();
        command
            .args(["install", "cargo-fuzz", "--locked", "--version"])
            .arg(format!("={CARGO_FUZZ_VERSION}"))
            .arg("--root")
            .arg(&self.root);
        println!("$ {}", process::display(&command));
        process::run(&mut command)
    }

    /// Installs it unless it is there already.
    pub(crate) fn ensure(&self) -> Result {
        if self.is_current() {
            return Ok(());
        }
        let started = Instant::now();
        println!(
            "fuzz: installing cargo-fuzz {CARGO_FUZZ_VERSION} into {} ...",
            project::relative(&self.root)
        );
        self.install()?;
        println!(
            "fuzz: cargo-fuzz installed in {:.1}s",
            started.elapsed().as_secs_f64()
        );
        Ok(())
    }
}
