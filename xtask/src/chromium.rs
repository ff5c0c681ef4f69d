//! Chromium for the contract suite's browser test, installed without root into
//! `.tools/chromium/`: Debian's `chromium` package and whichever of its dependencies this machine
//! lacks (what `apt-get install -s --no-install-recommends chromium` would install), fetched with
//! `apt-get download` and unpacked with `dpkg-deb -x` into `.tools/chromium/root`. Nothing is
//! installed system-wide and no maintainer script runs.
//!
//! `.tools/chromium/chromium` is a small shell wrapper that points `LD_LIBRARY_PATH` at the
//! unpacked library folders and runs `root/usr/lib/chromium/chromium`. The folders are found with
//! `ldd`: every library the browser needs that the system lacks must be somewhere under `root`.
//!
//! The stamp (`.tools/chromium/.xtask-stamp`) holds the recipe's version, `chromium --version`
//! and every unpacked package with its version. Once it is there the part counts as current: apt
//! is not asked again (that takes a second), so a newer Chromium comes only after deleting
//! `.tools/chromium`. `MUSICGPT_CHROMIUM` names a Chrome or Chromium to use instead (where apt is
//! not available, on macOS say); nothing is installed then.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::project::{create_dir, write};
use crate::{Error, Result, process, project};

/// Names a Chrome or Chromium binary to use instead of installing one; the tests read it too.
pub(crate) const OVERRIDE_ENV: &str = "MUSICGPT_CHROMIUM";

/// The first line of the stamp. Change it when the way Chromium is installed changes, so every
/// checkout reinstalls.
const RECIPE: &str = "chromium recipe 1: apt-get download + dpkg-deb -x, ldd-found library path";

const STAMP: &str = ".xtask-stamp";

/// The Debian package, and the one holding its resources (always wanted in our copy, even when
/// the system has them installed).
const PACKAGES: [&str; 2] = ["chromium", "chromium-common"];

/// The browser binary inside the unpacked tree.
const BINARY: &str = "usr/lib/chromium/chromium";

/// How many rounds of `ldd` may each add library folders before giving up.
const LDD_ROUNDS: usize = 8;

/// The Chromium part of the tools folder.
pub(crate) struct Chromium {
    dir: PathBuf,
}

/// A package to download: `name` or `name=version`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Package {
    name: String,
    version: Option<String>,
}

impl Package {
    fn spec(&self) -> String {
        match &self.version {
            Some(version) => format!("{}={version}", self.name),
            None => self.name.clone(),
        }
    }
}

impl Chromium {
    pub(crate) fn new(tools_dir: &Path) -> Self {
        Self {
            dir: tools_dir.join("chromium"),
        }
    }

    pub(crate) fn dir(&self) -> &Path {
        &self.dir
    }

    /// The program to run: the wrapper that sets the library path.
    pub(crate) fn program(&self) -> PathBuf {
        self.dir.join("chromium")
    }

    fn root(&self) -> PathBuf {
        self.dir.join("root")
    }

    fn binary(&self) -> PathBuf {
        self.root().join(BINARY)
    }

    /// The Chrome or Chromium named by [`OVERRIDE_ENV`], if set.
    pub(crate) fn overridden() -> Option<PathBuf> {
        std::env::var_os(OVERRIDE_ENV)
            .filter(|value| !value.is_empty())
            .map(PathBuf::from)
    }

    /// Installed by the current recipe, with both the wrapper and the browser in place. Runs
    /// nothing, so it takes microseconds.
    pub(crate) fn is_current(&self) -> bool {
        let stamp_matches = fs::read_to_string(self.dir.join(STAMP))
            .is_ok_and(|stamp| stamp.lines().next() == Some(RECIPE));
        stamp_matches && self.program().is_file() && self.binary().is_file()
    }

    /// Checks that the browser named by [`OVERRIDE_ENV`] runs, instead of installing one.
    pub(crate) fn check_override(program: &Path) -> Result {
        let version = process::stdout(Command::new(program).arg("--version")).map_err(|error| {
            Error::new(format!(
                "{OVERRIDE_ENV}={} does not run: {error}",
                program.display()
            ))
        })?;
        println!(
            "tools: using {version} from {OVERRIDE_ENV}={} (nothing installed)",
            program.display()
        );
        Ok(())
    }

    /// Downloads, unpacks and checks Chromium; the caller has removed any earlier copy.
    pub(crate) fn install(&self) -> Result {
        let packages = packages_to_download()?;
        let debs = self.dir.join("debs");
        create_dir(&debs)?;
        println!(
            "tools: downloading {} Debian packages: {}",
            packages.len(),
            packages
                .iter()
                .map(|p| p.name.as_str())
                .collect::<Vec<_>>()
                .join(" ")
        );
        process::run(
            apt_get()
                .arg("download")
                // As root, apt would try to download as the `_apt` user, who cannot write here, and
                // warn; as anyone else this changes nothing.
                .args(["-o", "APT::Sandbox::User=root", "-qq"])
                .args(packages.iter().map(Package::spec))
                .current_dir(&debs),
        )
        .map_err(|error| {
            Error::new(format!(
                "{error}\nhint: apt-get download needs the network to the Debian mirrors (or a \
                 proxy apt is configured with); it does not need root"
            ))
        })?;

        let root = self.root();
        create_dir(&root)?;
        let mut unpacked = Vec::new();
        let files = project::files_under(&debs)?;
        for deb in files
            .iter()
            .filter(|file| file.extension().is_some_and(|ext| ext == "deb"))
        {
            let deb = debs.join(deb);
            process::run(Command::new("dpkg-deb").arg("-x").arg(&deb).arg(&root))?;
            unpacked.push(process::stdout(
                Command::new("dpkg-deb")
                    .args(["--show", "--showformat=${Package}=${Version}"])
                    .arg(&deb),
            )?);
        }
        if !self.binary().is_file() {
            return Err(Error::new(format!(
                "the packages unpacked, but {} is not there: this recipe expects Debian's \
                 chromium package (set {OVERRIDE_ENV} to use another browser)",
                project::relative(&self.binary())
            )));
        }

        let lib_dirs = self.library_dirs()?;
        write(&self.program(), &wrapper_script(&lib_dirs))?;
        make_executable(&self.program())?;

        let version =
            process::stdout(Command::new(self.program()).arg("--version")).map_err(|error| {
                Error::new(format!(
                    "Chromium unpacked into {} but does not start: {error}\n{}",
                    project::relative(&self.dir),
                    self.missing_libraries_note(&lib_dirs)
                ))
            })?;
        println!(
            "tools: {version} runs (library path: {})",
            lib_dirs.join(", ")
        );
        // The packages are unpacked; keeping them would double the folder's size.
        fs::remove_dir_all(&debs).map_err(project::failed("remove", &debs))?;
        write(
            &self.dir.join(STAMP),
            &format!("{RECIPE}\n{version}\n{}\n", unpacked.join("\n")),
        )
    }

    /// The folders under `root` (relative to it) that `LD_LIBRARY_PATH` must list: the
    /// architecture's library folder and the browser's own, then, round by round, the folder of
    /// every library `ldd` still reports as not found.
    fn library_dirs(&self) -> Result<Vec<String>> {
        let root = self.root();
        let mut dirs: Vec<String> = Vec::new();
        for base in ["usr/lib", "lib"] {
            if let Ok(entries) = fs::read_dir(root.join(base)) {
                let mut found: Vec<String> = entries
                    .filter_map(|entry| {
                        let name = entry.ok()?.file_name().into_string().ok()?;
                        name.contains("-linux-").then(|| format!("{base}/{name}"))
                    })
                    .collect();
                found.sort();
                dirs.extend(found);
            }
        }
        dirs.push("usr/lib/chromium".to_owned());
        for _ in 0..LDD_ROUNDS {
            let missing = self.ldd_missing(&dirs)?;
            if missing.is_empty() {
                return Ok(dirs);
            }
            let mut added = false;
            for name in &missing {
                if let Some(dir) = find_file(&root, name) {
                    let relative = dir
                        .strip_prefix(&root)
                        .unwrap_or(&dir)
                        .display()
                        .to_string();
                    if !dirs.contains(&relative) {
                        dirs.push(relative);
                        added = true;
                    }
                }
            }
            if !added {
                return Err(Error::new(format!(
                    "Chromium needs libraries that neither this system nor the downloaded packages \
                     have: {}\n(apt-get install -s listed what it would install; these may come \
                     from a package apt considers installed but whose files are gone)",
                    missing.join(", ")
                )));
            }
        }
        Err(Error::new(format!(
            "the library path of Chromium did not settle after {LDD_ROUNDS} rounds of ldd: {}",
            dirs.join(", ")
        )))
    }

    fn library_path(&self, dirs: &[String]) -> String {
        let root = self.root();
        dirs.iter()
            .map(|dir| root.join(dir).display().to_string())
            .collect::<Vec<_>>()
            .join(":")
    }

    /// The libraries `ldd` cannot find for the browser with `dirs` on the library path.
    fn ldd_missing(&self, dirs: &[String]) -> Result<Vec<String>> {
        let output = process::capture(
            Command::new("ldd")
                .arg(self.binary())
                .env("LD_LIBRARY_PATH", self.library_path(dirs)),
        )
        .map_err(|error| {
            Error::new(format!(
                "{error}\nhint: ldd (Debian's libc-bin) finds the libraries Chromium needs"
            ))
        })?;
        Ok(not_found(&String::from_utf8_lossy(&output.stdout)))
    }

    /// For an error message: what `ldd` says is missing, if anything.
    fn missing_libraries_note(&self, dirs: &[String]) -> String {
        match self.ldd_missing(dirs) {
            Ok(missing) if missing.is_empty() => {
                "(ldd finds every library it links against)".to_owned()
            }
            Ok(missing) => format!("ldd finds no {}", missing.join(", ")),
            Err(error) => format!("(ldd did not run: {error})"),
        }
    }
}

/// What `apt-get install -s --no-install-recommends chromium` would install (its `Inst` lines),
/// plus [`PACKAGES`] themselves when the system already has them.
fn packages_to_download() -> Result<Vec<Package>> {
    let output = process::capture(
        apt_get()
            .args(["install", "--simulate", "--no-install-recommends"])
            .arg(PACKAGES[0]),
    )
    .map_err(|error| {
        Error::new(format!(
            "{error}\nhint: Chromium is installed from Debian's packages with apt-get and \
             dpkg-deb (Debian, or a derivative that packages chromium as a .deb); elsewhere set \
             {OVERRIDE_ENV} to a Chrome or Chromium binary"
        ))
    })?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        let why = if stderr.contains("Unable to locate package")
            || stderr.contains("has no installation candidate")
        {
            no_chromium_hint()
        } else {
            String::new()
        };
        return Err(Error::new(format!(
            "`apt-get install --simulate --no-install-recommends chromium` failed ({}): {}{why}",
            output.status,
            stderr.trim()
        )));
    }
    let mut packages = inst_lines(&stdout);
    for name in PACKAGES {
        if !packages.iter().any(|p| p.name == name) {
            packages.push(Package {
                name: name.to_owned(),
                version: None,
            });
        }
    }
    Ok(packages)
}

/// Why apt may not know `chromium`: no package lists at all, or a distribution without it.
fn no_chromium_hint() -> String {
    let lists =
        process::stdout(Command::new("apt-config").args(["shell", "LISTS", "Dir::State::lists/d"]))
            .ok()
            .and_then(|line| {
                line.split_once('=')
                    .map(|(_, v)| v.trim_matches('\'').to_owned())
            })
            .unwrap_or_else(|| "/var/lib/apt/lists/".to_owned());
    let has_lists = fs::read_dir(&lists).is_ok_and(|entries| {
        entries
            .filter_map(|e| e.ok())
            .any(|e| e.file_name().to_string_lossy().contains("_Packages"))
    });
    if has_lists {
        format!(
            "\nhint: apt has package lists ({lists}) but no installable `chromium`: this recipe \
             needs Debian's chromium .deb (Ubuntu ships Chromium as a snap). Set {OVERRIDE_ENV} \
             to a Chrome or Chromium binary to use that instead"
        )
    } else {
        format!(
            "\nhint: apt has no package lists in {lists} (container images often delete them): \
             run `sudo apt-get update` once, then `cargo xtask tools` again"
        )
    }
}

/// `apt-get` with English messages, which the error hints look for.
fn apt_get() -> Command {
    let mut command = Command::new("apt-get");
    command.env("LC_ALL", "C");
    command
}

/// The packages of the `Inst` lines of `apt-get install --simulate`:
/// `Inst name (version repo [arch])`, or `Inst name [old] (version ...)` for an upgrade.
fn inst_lines(output: &str) -> Vec<Package> {
    output
        .lines()
        .filter_map(|line| {
            let rest = line.strip_prefix("Inst ")?;
            let name = rest.split_whitespace().next()?;
            let version = rest
                .split_once('(')
                .and_then(|(_, after)| after.split_whitespace().next())
                .map(str::to_owned);
            Some(Package {
                name: name.to_owned(),
                version,
            })
        })
        .collect()
}

/// The library names of `ldd`'s `libfoo.so.1 => not found` lines.
fn not_found(ldd: &str) -> Vec<String> {
    let mut names: Vec<String> = ldd
        .lines()
        .filter(|line| line.contains("=> not found"))
        .filter_map(|line| line.split_whitespace().next().map(str::to_owned))
        .collect();
    names.sort();
    names.dedup();
    names
}

/// The folder under `dir` holding a file (or symlink) called `name`.
fn find_file(dir: &Path, name: &str) -> Option<PathBuf> {
    let entries = fs::read_dir(dir).ok()?;
    let mut subdirs = Vec::new();
    for entry in entries.filter_map(|e| e.ok()) {
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() {
            subdirs.push(entry.path());
        } else if entry.file_name() == name {
            return Some(dir.to_path_buf());
        }
    }
    subdirs.sort();
    subdirs.iter().find_map(|sub| find_file(sub, name))
}

/// The wrapper: finds its own folder, so the tools folder may move.
fn wrapper_script(lib_dirs: &[String]) -> String {
    let path = lib_dirs
        .iter()
        .map(|dir| format!("$here/root/{dir}"))
        .collect::<Vec<_>>()
        .join(":");
    format!(
        "#!/bin/sh\n\
         # Written by `cargo xtask tools` (xtask/src/chromium.rs): runs the Chromium unpacked in\n\
         # root/ with the libraries unpacked beside it; nothing here is installed system-wide.\n\
         here=$(CDPATH= cd -- \"$(dirname -- \"$0\")\" && pwd) || exit 1\n\
         LD_LIBRARY_PATH=\"{path}${{LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}}\"\n\
         export LD_LIBRARY_PATH\n\
         exec \"$here/root/{BINARY}\" \"$@\"\n"
    )
}

#[cfg(unix)]
fn make_executable(path: &Path) -> Result {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(0o755))
        .map_err(project::failed("chmod", path))
}

#[cfg(not(unix))]
fn make_executable(_path: &Path) -> Result {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inst_lines_give_names_and_versions() {
        let output = "\
NOTE: This is only a simulation!
Reading package lists...
Inst libdouble-conversion3 (3.2.1-1 Debian:12.14/oldstable [amd64])
Inst libfoo1 [1.0-1] (1.0-2 Debian-Security:12/oldstable-security [amd64])
Inst chromium (148.0.7778.167-1~deb12u1 Debian-Security:12/oldstable-security [amd64])
Conf chromium (148.0.7778.167-1~deb12u1 Debian-Security:12/oldstable-security [amd64])
";
        let specs: Vec<String> = inst_lines(output).iter().map(Package::spec).collect();
        assert_eq!(
            specs,
            [
                "libdouble-conversion3=3.2.1-1",
                "libfoo1=1.0-2",
                "chromium=148.0.7778.167-1~deb12u1"
            ]
        );
    }

    #[test]
    fn ldd_not_found_lines_give_library_names() {
        let ldd = "\
\tlinux-vdso.so.1 (0x00007ffc)
\tlibpulse.so.0 => /x/usr/lib/x86_64-linux-gnu/libpulse.so.0 (0x00007f)
\tlibpulsecommon-16.1.so => not found
\tlibFLAC.so.12 => not found
\tlibpulsecommon-16.1.so => not found
";
        assert_eq!(not_found(ldd), ["libFLAC.so.12", "libpulsecommon-16.1.so"]);
    }

    #[test]
    fn the_wrapper_lists_the_folders_and_runs_the_binary() {
        let script =
            wrapper_script(&["usr/lib/x86_64-linux-gnu".into(), "usr/lib/chromium".into()]);
        assert!(script.starts_with("#!/bin/sh\n"));
        assert!(script.contains(
            "LD_LIBRARY_PATH=\"$here/root/usr/lib/x86_64-linux-gnu:$here/root/usr/lib/chromium\
             ${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}\""
        ));
        assert!(script.ends_with("exec \"$here/root/usr/lib/chromium/chromium\" \"$@\"\n"));
    }
}
