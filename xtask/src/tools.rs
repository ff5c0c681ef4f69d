//! `cargo xtask tools`: installs the external tools once into the ignored `.tools/` folder.
//!
//! Two parts, each keyed on its committed manifest in `xtask/tools/`:
//! - `.tools/venv`: a Python venv from `requirements.txt` (schemathesis, openapi-spec-validator,
//!   requests, openapi-python-client), made with `python3 -m venv` and `pip install -r`;
//! - `.tools/npm`: `npm ci` of `package.json` + `package-lock.json` (@redocly/cli,
//!   @stoplight/spectral-cli, @stoplight/prism-cli; playwright-core, which drives Chromium in the
//!   page tests; swagger-ui-dist, the pin the mock's vendored copy is checked against;
//!   openapi-typescript and typescript, the frontend's generated types and `tsc`), with
//!   install scripts off.
//!
//! A part is installed when its stamp file (a copy of the manifests it was installed from) is
//! missing or differs from the committed manifests, or when one of its programs is gone. An install
//! removes the part's folder first, so a changed pin never leaves stale packages behind, and writes
//! the stamp last, so an interrupted install is redone on the next run.
//!
//! A third part, `.tools/chromium`, has no manifest: Debian's chromium package and whatever it
//! needs that the system lacks, unpacked without root (`chromium.rs`). Its stamp names the recipe,
//! and it is skipped when `MUSICGPT_CHROMIUM` names a browser to use instead. `check_installed`
//! leaves it out: only the browser test needs it, and that test says so itself.
//!
//! A bench-only part, `.tools/bench-npm`: `npm ci` of `xtask/tools/bench/package.json` and its lock
//! (WireMock's standalone jar, run with the system's Java; Mockoon's CLI), the mocks the cover bench
//! measures beside Prism. `cargo xtask tools --bench` and `cargo xtask bench` install it; plain
//! `cargo xtask tools` (CI's step) and `check_installed` leave it out, so CI's install does not
//! grow, and the bench runs without it, saying so.
//!
//! A fourth, `.tools/cargo-fuzz`, is cargo-fuzz at the version `cargo_fuzz.rs` pins, `cargo install`ed
//! from crates.io; current when the installed program says it is that version. Only `cargo xtask
//! fuzz` uses it (and installs it itself when it is missing), so `check_installed` leaves it out.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use crate::cargo_fuzz::CargoFuzz;
use crate::chromium::Chromium;
use crate::project::write;
use crate::{Error, Result, process, project};

/// The environment variable `cargo xtask ci` sets for `cargo test`: the absolute `.tools` folder.
pub(crate) const DIR_ENV: &str = "MUSICGPT_TOOLS_DIR";

/// The oldest Python the frozen requirements install on (several of them require 3.11).
const MIN_PYTHON: (u32, u32) = (3, 11);

const STAMP: &str = ".xtask-stamp";

/// The tools folder and the programs in it.
pub(crate) struct Tools {
    dir: PathBuf,
}

/// One separately installed part of the tools folder.
struct Part {
    /// What it is called in messages, and said at length while it installs.
    name: &'static str,
    describe: &'static str,
    /// An npm install (the venv's otherwise).
    npm: bool,
    dir: PathBuf,
    /// The committed manifests, as (file name, contents); their contents are the stamp's key.
    manifests: Vec<(&'static str, String)>,
    programs: Vec<PathBuf>,
}

impl Tools {
    pub(crate) fn new() -> Self {
        Self {
            dir: project::root().join(".tools"),
        }
    }

    pub(crate) fn dir(&self) -> &Path {
        &self.dir
    }

    /// A program of the Python venv, such as `openapi-spec-validator` or `schemathesis`.
    pub(crate) fn venv_program(&self, name: &str) -> PathBuf {
        self.dir.join("venv").join("bin").join(name)
    }

    /// A program of the npm packages, such as `redocly`, `spectral` or `prism`.
    pub(crate) fn npm_program(&self, name: &str) -> PathBuf {
        self.dir
            .join("npm")
            .join("node_modules")
            .join(".bin")
            .join(name)
    }

    /// Installs whatever is missing or out of date; instant when everything is current.
    pub(crate) fn install(&self) -> Result {
        let mut installed = Vec::new();
        for part in self.parts()? {
            if part.is_current() {
                continue;
            }
            timed(part.name, part.describe, &part.dir, || part.install())?;
            installed.push(part.name);
        }
        // For the contract suite's browser test (see `chromium.rs`).
        let chromium = Chromium::new(&self.dir);
        if let Some(program) = Chromium::overridden() {
            Chromium::check_override(&program)?;
        } else if !chromium.is_current() {
            timed(
                "Chromium",
                "Chromium (Debian's package and the libraries it lacks, unpacked without root)",
                chromium.dir(),
                || {
                    remove_outdated(chromium.dir())?;
                    chromium.install()
                },
            )?;
            installed.push("Chromium");
        }
        // For `cargo xtask fuzz` (a ci step): a cargo subcommand, built from crates.io.
        let cargo_fuzz = CargoFuzz::new(&self.dir);
        if !cargo_fuzz.is_current() {
            timed(
                "cargo-fuzz",
                "cargo-fuzz (cargo install --locked, pinned)",
                cargo_fuzz.dir(),
                || cargo_fuzz.install(),
            )?;
            installed.push("cargo-fuzz");
        }
        if installed.is_empty() {
            println!(
                "tools: up to date in {} (delete the folder to reinstall)",
                project::relative(&self.dir)
            );
        }
        Ok(())
    }

    /// The bench-only part (WireMock, Mockoon): installed when missing or out of date; instant
    /// when current. `cargo xtask tools --bench` and `cargo xtask bench` call it.
    pub(crate) fn install_bench(&self) -> Result {
        let part = self.bench_part()?;
        if part.is_current() {
            println!(
                "tools: the bench's peers are up to date in {}",
                project::relative(&part.dir)
            );
            return Ok(());
        }
        timed(part.name, part.describe, &part.dir, || part.install())
    }

    fn bench_part(&self) -> Result<Part> {
        let dir = self.dir.join("bench-npm");
        let bin = dir.join("node_modules").join(".bin");
        // Apart from the npm packages, so CI never installs them.
        Ok(Part {
            name: "bench's peers",
            describe: "the bench's peers (the npm packages wiremock, whose standalone jar runs on \
                       the system's Java, and @mockoon/cli)",
            npm: true,
            manifests: vec![
                read_manifest("bench", "package.json")?,
                read_manifest("bench", "package-lock.json")?,
            ],
            programs: vec![
                bin.join("mockoon-cli"),
                dir.join("node_modules")
                    .join("wiremock")
                    .join("package.json"),
            ],
            dir,
        })
    }

    /// Fails, saying what to run, unless every part is installed and current.
    pub(crate) fn check_installed(&self) -> Result {
        for part in self.parts()? {
            if !part.is_current() {
                return Err(Error::new(format!(
                    "{} ({}) is missing or out of date: run `cargo xtask tools` first",
                    part.dir.display(),
                    part.name
                )));
            }
        }
        Ok(())
    }

    fn parts(&self) -> Result<[Part; 2]> {
        Ok([
            Part {
                name: "Python venv",
                describe: "the Python venv (schemathesis, openapi-spec-validator, requests)",
                npm: false,
                dir: self.dir.join("venv"),
                manifests: vec![read_manifest("", "requirements.txt")?],
                programs: [
                    "python",
                    "schemathesis",
                    "openapi-spec-validator",
                    "openapi-python-client",
                ]
                .iter()
                .map(|name| self.venv_program(name))
                .collect(),
            },
            Part {
                name: "npm packages",
                describe: "the npm packages (@redocly/cli, @stoplight/spectral-cli, \
                           @stoplight/prism-cli, playwright-core, swagger-ui-dist)",
                npm: true,
                dir: self.dir.join("npm"),
                manifests: vec![
                    read_manifest("", "package.json")?,
                    read_manifest("", "package-lock.json")?,
                ],
                programs: [
                    "redocly",
                    "spectral",
                    "prism",
                    "playwright-core",
                    "openapi-typescript",
                    "tsc",
                ]
                .iter()
                .map(|name| self.npm_program(name))
                .collect(),
            },
        ])
    }
}

impl Part {
    fn stamp_key(&self) -> String {
        self.manifests
            .iter()
            .map(|(name, contents)| format!("==> {name}\n{contents}\n"))
            .collect()
    }

    fn is_current(&self) -> bool {
        // `exists` follows symlinks, so a venv whose python3 was removed counts as missing.
        let stamp_matches =
            fs::read_to_string(self.dir.join(STAMP)).is_ok_and(|stamp| stamp == self.stamp_key());
        stamp_matches && self.programs.iter().all(|program| program.exists())
    }

    fn install(&self) -> Result {
        remove_outdated(&self.dir)?;
        if self.npm {
            self.install_npm()?;
        } else {
            self.install_venv()?;
        }
        let missing: Vec<String> = self
            .programs
            .iter()
            .filter(|program| !program.exists())
            .map(|program| program.display().to_string())
            .collect();
        if !missing.is_empty() {
            return Err(Error::new(format!(
                "the {} installed but these programs are missing: {}",
                self.name,
                missing.join(", ")
            )));
        }
        write(&self.dir.join(STAMP), &self.stamp_key())
    }

    fn install_venv(&self) -> Result {
        require_python()?;
        process::run(Command::new(PYTHON).args(["-m", "venv"]).arg(&self.dir)).map_err(
            |error| {
                Error::new(format!(
                    "{error}\nhint: on Debian and Ubuntu the venv module is a separate package: \
                     apt-get install python3-venv"
                ))
            },
        )?;
        process::run(
            Command::new(self.dir.join("bin").join("python"))
                .args(["-m", "pip", "install"])
                .args(["--disable-pip-version-check", "--no-input", "--quiet"])
                .arg("--requirement")
                .arg(project::tool_configs().join("requirements.txt")),
        )
    }

    fn install_npm(&self) -> Result {
        require_node()?;
        let npm_version =
            process::stdout(Command::new("npm").arg("--version")).map_err(|error| {
                Error::new(format!(
                    "npm is needed for redocly, spectral and prism: install Node.js with npm \
                 ({error})"
                ))
            })?;
        println!("tools: using npm {npm_version}");
        project::create_dir(&self.dir)?;
        for (name, contents) in &self.manifests {
            write(&self.dir.join(name), contents)?;
        }
        // Install scripts are off: the tools are plain JavaScript and need none (playwright-core
        // downloads no browser: the page tests launch the Chromium installed below), and the
        // only script in the tree is a telemetry ping (@scarf/scarf).
        process::run(
            Command::new("npm")
                .arg("ci")
                .args(["--ignore-scripts", "--no-audit", "--no-fund"])
                .args(["--loglevel=error", "--no-update-notifier"])
                .current_dir(&self.dir),
        )
    }
}

/// Runs `install`, saying what it installs, where, and how long it took.
fn timed(name: &str, describe: &str, dir: &Path, install: impl FnOnce() -> Result) -> Result {
    let started = Instant::now();
    println!(
        "tools: installing {describe} into {} ...",
        project::relative(dir)
    );
    install()?;
    println!(
        "tools: {name} installed in {:.1}s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Removes what an earlier, outdated or interrupted install left in `dir`.
fn remove_outdated(dir: &Path) -> Result {
    if dir.exists() {
        fs::remove_dir_all(dir).map_err(|error| {
            Error::new(format!(
                "could not remove the outdated {}: {error}",
                dir.display()
            ))
        })?;
    }
    Ok(())
}

/// A manifest of `xtask/tools/SUB` (the folder itself when `sub` is empty).
fn read_manifest(sub: &str, name: &'static str) -> Result<(&'static str, String)> {
    let path = project::tool_configs().join(sub).join(name);
    let contents = project::read(&path)?;
    Ok((name, contents))
}

/// The Python the tools' venv is made with.
const PYTHON: &str = "python3";

/// Finds [`PYTHON`] and checks it is new enough.
fn require_python() -> Result {
    let version = process::stdout(Command::new(PYTHON).arg("--version")).map_err(|error| {
        Error::new(format!(
            "python3 is needed for schemathesis, openapi-spec-validator and the Python sample: \
             install Python {}.{} or newer ({error})",
            MIN_PYTHON.0, MIN_PYTHON.1
        ))
    })?;
    match parse_version(version.trim_start_matches("Python ")) {
        Some(found) if found >= MIN_PYTHON => {
            println!("tools: using {version}");
            Ok(())
        }
        _ => Err(Error::new(format!(
            "`python3 --version` says `{version}`; the pinned Python tools need {}.{} or newer",
            MIN_PYTHON.0, MIN_PYTHON.1
        ))),
    }
}

/// Checks that `node` can run the pinned tools (@redocly/cli sets the floor).
fn require_node() -> Result {
    let version = process::stdout(Command::new("node").arg("--version")).map_err(|error| {
        Error::new(format!(
            "node is needed for redocly, spectral and prism: install Node.js 20.19+ or 22.12+ \
             with npm ({error})"
        ))
    })?;
    match parse_version(version.trim_start_matches('v')) {
        Some(found) if node_supported(found) => {
            println!("tools: using node {version}");
            Ok(())
        }
        _ => Err(Error::new(format!(
            "`node --version` says `{version}`; @redocly/cli needs Node.js 20.19+ (20.x) or 22.12+"
        ))),
    }
}

/// @redocly/cli's `engines`: `>=22.12.0 || >=20.19.0 <21.0.0`.
fn node_supported((major, minor): (u32, u32)) -> bool {
    (major == 20 && minor >= 19) || (major == 22 && minor >= 12) || major >= 23
}

/// `3.11.7` or `20.20.2` → (major, minor).
fn parse_version(text: &str) -> Option<(u32, u32)> {
    let mut numbers = text.trim().split('.');
    let major = numbers.next()?.parse().ok()?;
    let minor = numbers.next()?.parse().ok()?;
    Some((major, minor))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_parse_from_what_python_and_node_print_and_node_has_a_floor() {
        assert_eq!(parse_version("3.11.7"), Some((3, 11)));
        assert_eq!(parse_version("20.20.2"), Some((20, 20)));
        assert_eq!(parse_version("3"), None);
        assert_eq!(parse_version("x.y"), None);
        // The floor follows @redocly/cli's engines.
        assert!(node_supported((20, 19)));
        assert!(!node_supported((20, 18)));
        assert!(!node_supported((21, 7)));
        assert!(!node_supported((22, 11)));
        assert!(node_supported((22, 12)));
        assert!(node_supported((24, 0)));
    }

    /// A package.json's `dependencies`, by name.
    fn dependencies(manifest: &str) -> Vec<(String, String)> {
        #[derive(serde::Deserialize)]
        struct Manifest {
            #[serde(default)]
            dependencies: std::collections::BTreeMap<String, String>,
        }
        let manifest: Manifest = serde_json::from_str(manifest).unwrap_or_else(|e| panic!("{e}"));
        manifest.dependencies.into_iter().collect()
    }

    #[test]
    fn the_bench_peers_are_pinned_exactly_and_apart_from_cis_tools() {
        let (_, bench) = read_manifest("bench", "package.json").expect("bench manifest");
        let (_, main) = read_manifest("", "package.json").expect("main manifest");
        let peers = dependencies(&bench);
        let names: Vec<&str> = peers.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["@mockoon/cli", "wiremock"], "{bench}");
        for (name, version) in &peers {
            assert!(
                version.split('.').count() == 3
                    && version
                        .split('.')
                        .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit())),
                "{name} is pinned to {version:?}, not an exact version"
            );
        }
        let ci: Vec<String> = dependencies(&main).into_iter().map(|(n, _)| n).collect();
        assert!(ci.iter().any(|n| n == "@stoplight/prism-cli"), "{main}");
        for name in names {
            assert!(
                !ci.iter().any(|n| n == name),
                "{name} is in CI's package.json too"
            );
        }
    }

    #[test]
    fn stamp_key_changes_with_any_manifest() {
        let part = |lock: &str| Part {
            name: "npm packages",
            describe: "",
            npm: true,
            dir: PathBuf::from("npm"),
            manifests: vec![
                ("package.json", "{}".into()),
                ("package-lock.json", lock.into()),
            ],
            programs: Vec::new(),
        };
        assert_eq!(part("a").stamp_key(), part("a").stamp_key());
        assert_ne!(part("a").stamp_key(), part("b").stamp_key());
    }
}
