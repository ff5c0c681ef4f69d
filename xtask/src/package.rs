//! `cargo xtask package`: proof that the crates work as published, not only in the workspace.
//!
//! 1. `cargo package` of the client, the codegen and the mock, then `cargo publish --dry-run`,
//!    both free of warnings (missing metadata, a target left out of the package...). The three go
//!    in one command: since Rust 1.90 cargo then resolves their dependencies on each other
//!    through a local overlay registry, so the client's build-dependency on the codegen, which is
//!    not on crates.io, resolves.
//! 2. The `.crate` files are unpacked outside the workspace, into `target/packaged/workspace/`, a
//!    workspace of their own whose `[patch.crates-io]` points their dependencies on each other at
//!    the unpacked crates (what the registry will serve once they are published), and there
//!    `cargo test` builds and tests each, doctests included, less the load tests (which read no
//!    file the other tests do not, and which `test` has just run). Anything a crate reads from
//!    outside its package (the workspace's `openapi.yaml`, a fixture its `include` misses) fails
//!    here.
//! 3. `cargo install --path crates/musicgpt-cover-mock` into `target/packaged/install/`, and the
//!    installed binary prints its `--help`, starts on 127.0.0.1 and answers a request.
//!
//! Everything builds in the workspace's own target dir, with the scratch workspace given the
//! workspace's `[profile.*]` sections: the dependencies the `test` step compiled are reused (a
//! dozen whose features differ recompile), and `cargo install` finds the mock already built with
//! its own features by the docs-check test's `cargo run -p musicgpt-cover-mock`. A target dir of
//! its own cost a full dependency build, 3 to 6 minutes on 2 cores. The packaged mock's binary is
//! uplifted to `target/debug/musicgpt-cover-mock` in passing; the next workspace build puts the
//! workspace's back even when it has nothing to rebuild. A second run rebuilds only what changed:
//! the unpacked files are rewritten only where their contents differ, since the `.crate` files
//! carry one fixed modification time and cargo judges freshness by it.
//!
//! Only the cheap parts are also `#[test]`s (the spec links, and each package's file list and
//! metadata warnings through `cargo package --list`): building and testing the packages takes
//! minutes, so it runs in `cargo xtask ci` only.

use std::fs;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::spec::Spec;
use crate::{Error, Result, mock, process, project, slow_tests};

/// The publishable crates, each after those it depends on.
const CRATES: &[&str] = &[
    "musicgpt-cover-codegen",
    "musicgpt-cover-mock",
    "musicgpt-cover",
];

/// The crate with a binary, checked by `cargo install`.
pub(crate) const MOCK: &str = "musicgpt-cover-mock";

/// How long the installed mock may take to print its address.
const START_LIMIT: Duration = Duration::from_secs(30);

/// Where a run keeps its files: under the real `target/`, which git ignores.
struct Paths {
    /// The target dir of every build here: the workspace's.
    target: PathBuf,
    /// The scratch workspace; the unpacked crates are in its `crates/`.
    workspace: PathBuf,
    /// Where the `.crate` files are unpacked before only the changed files are copied on.
    unpacking: PathBuf,
    /// The `--root` of `cargo install`.
    install: PathBuf,
}

impl Paths {
    fn new() -> Self {
        let target = project::root().join("target");
        let dir = target.join("packaged");
        Self {
            target,
            workspace: dir.join("workspace"),
            unpacking: dir.join("unpacking"),
            install: dir.join("install"),
        }
    }
}

/// One `.crate` file made by `cargo package`.
#[derive(Debug, PartialEq, Eq)]
struct Packaged {
    name: String,
    version: String,
}

impl Packaged {
    /// The folder the `.crate` unpacks into, and its file name without `.crate`.
    fn dir_name(&self) -> String {
        format!("{}-{}", self.name, self.version)
    }
}

/// `cargo xtask package`, and the `package` step of `cargo xtask ci`.
pub(crate) fn run() -> Result {
    let paths = Paths::new();
    let packaged = package(&paths)?;
    publish_dry_run(&paths)?;
    unpack(&paths, &packaged)?;
    write_workspace(&paths, &packaged)?;
    test_packaged(&paths)?;
    install_mock(&paths)?;
    check_installed_mock(&paths)?;
    println!(
        "package: {} packaged, tested from their .crate files, and the installed {MOCK} answers",
        CRATES.join(", ")
    );
    Ok(())
}

/// `cargo ARGS --no-verify --allow-dirty --target-dir TARGET` of every publishable crate.
/// `--no-verify`: the verification build is what the next steps do, with the tests too.
/// `--allow-dirty`: a developer's run checks the working tree, as every other step does; CI's
/// clone is clean anyway.
fn every_crate(paths: &Paths, args: &[&str]) -> Command {
    let mut command = process::cargo();
    command
        .args(args)
        .args(["--no-verify", "--allow-dirty", "--target-dir"])
        .arg(&paths.target)
        .args(CRATES.iter().flat_map(|name| ["--package", name]));
    command
}

/// `cargo package` of every crate into `target/package/`.
fn package(paths: &Paths) -> Result<Vec<Packaged>> {
    let mut command = every_crate(paths, &["package"]);
    let stderr = run_without_warnings(&mut command, &[])?;
    let packaged = packaged_crates(&stderr);
    let missing: Vec<&str> = CRATES
        .iter()
        .copied()
        .filter(|name| !packaged.iter().any(|crate_| crate_.name == *name))
        .collect();
    if missing.is_empty() {
        Ok(packaged)
    } else {
        Err(Error::new(format!(
            "package: `{}` did not say it packaged {}; its output is above",
            process::display(&command),
            missing.join(", ")
        )))
    }
}

/// `cargo publish --dry-run`: what crates.io would be sent, checked as far as can be without
/// uploading. Its one expected warning is that it did not upload.
fn publish_dry_run(paths: &Paths) -> Result {
    let mut command = every_crate(paths, &["publish", "--dry-run"]);
    run_without_warnings(&mut command, &["aborting upload due to dry run"]).map(drop)
}

/// Runs `command` with its output shown, and fails when it fails or warns, unless the warning
/// starts with one of `expected`. Returns its stderr, where cargo reports what it did.
fn run_without_warnings(command: &mut Command, expected: &[&str]) -> Result<String> {
    println!("$ {}", process::display(command));
    let output = process::capture(command)?;
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    print!("{}", String::from_utf8_lossy(&output.stdout));
    eprint!("{stderr}");
    if !output.status.success() {
        return Err(Error::new(format!(
            "`{}` failed ({}); its output is above",
            process::display(command),
            output.status
        )));
    }
    let warnings = warnings(&stderr, expected);
    if warnings.is_empty() {
        Ok(stderr)
    } else {
        Err(Error::new(format!(
            "`{}` warned: {}. A crate must publish cleanly: add the missing metadata to its \
             Cargo.toml, or the files to its `include`",
            process::display(command),
            warnings.join("; ")
        )))
    }
}

/// cargo's `warning:` lines, less the expected ones.
fn warnings(stderr: &str, expected: &[&str]) -> Vec<String> {
    stderr
        .lines()
        .filter_map(|line| line.trim_start().strip_prefix("warning: "))
        .filter(|warning| !expected.iter().any(|known| warning.starts_with(known)))
        .map(str::to_owned)
        .collect()
}

/// The crates cargo says it packaged: `   Packaging NAME vVERSION (PATH)`.
fn packaged_crates(stderr: &str) -> Vec<Packaged> {
    stderr
        .lines()
        .filter_map(|line| line.trim_start().strip_prefix("Packaging "))
        .filter_map(|rest| {
            let mut words = rest.split_whitespace();
            let name = words.next()?;
            let version = words.next()?.strip_prefix('v')?;
            Some(Packaged {
                name: name.to_owned(),
                version: version.to_owned(),
            })
        })
        .collect()
}

/// Unpacks the `.crate` files (with the system's `tar`, as `dist` packs its archive) and makes
/// `workspace/crates/` hold exactly their files.
fn unpack(paths: &Paths, packaged: &[Packaged]) -> Result {
    project::recreate_dir(&paths.unpacking)?;
    for crate_ in packaged {
        let file = paths
            .target
            .join("package")
            .join(format!("{}.crate", crate_.dir_name()));
        let mut command = Command::new("tar");
        command
            .arg("-xzf")
            .arg(&file)
            .arg("-C")
            .arg(&paths.unpacking);
        process::stdout(&mut command).map_err(|error| {
            Error::new(format!(
                "package: could not unpack {}: {error}",
                file.display()
            ))
        })?;
    }
    let crates = paths.workspace.join("crates");
    let written = project::sync(
        &paths.unpacking,
        &crates,
        &project::files_under(&paths.unpacking)?,
    )?;
    remove_dir(&paths.unpacking)?;
    println!(
        "package: unpacked into {} ({written} files rewritten)",
        project::relative(&paths.workspace)
    );
    Ok(())
}

/// Writes the scratch workspace's manifest and the main workspace's lock file beside the
/// unpacked crates.
fn write_workspace(paths: &Paths, packaged: &[Packaged]) -> Result {
    let manifest = project::root().join("Cargo.toml");
    let main = project::read(&manifest)?;
    write(
        &paths.workspace.join("Cargo.toml"),
        workspace_manifest(packaged, &profiles(&main)).as_bytes(),
    )?;
    // The versions the workspace was tested with; cargo drops what these crates do not use.
    let lock = project::root().join("Cargo.lock");
    let contents = fs::read(&lock).map_err(project::failed("read", &lock))?;
    write(&paths.workspace.join("Cargo.lock"), &contents)
}

/// A workspace of the unpacked crates, their dependencies on each other patched to them, with
/// the main workspace's `profiles`: the same settings make the same artifacts, which the shared
/// target dir then holds once.
fn workspace_manifest(packaged: &[Packaged], profiles: &str) -> String {
    let mut members = String::new();
    let mut patches = String::new();
    for crate_ in packaged {
        let dir = format!("crates/{}", crate_.dir_name());
        members.push_str(&format!("    \"{dir}\",\n"));
        patches.push_str(&format!("{} = {{ path = \"{dir}\" }}\n", crate_.name));
    }
    format!(
        "# Written by `cargo xtask package`: the published crates, unpacked, as a workspace of their own.\n\
         [workspace]\n\
         resolver = \"3\"\n\
         members = [\n{members}]\n\
         \n\
         # Not on crates.io yet: their dependencies on each other resolve to the unpacked crates.\n\
         [patch.crates-io]\n\
         {patches}\
         \n\
         # The main workspace's profiles.\n\
         {profiles}"
    )
}

/// The `[profile.*]` sections of a manifest, as written (a section runs to the next header).
fn profiles(manifest: &str) -> String {
    let mut kept = String::new();
    let mut in_profile = false;
    for line in manifest.lines() {
        if line.starts_with('[') {
            in_profile = line.starts_with("[profile.");
        }
        if in_profile {
            kept.push_str(line);
            kept.push('\n');
        }
    }
    kept
}

/// `cargo test` of every unpacked crate, in one command so that shared dependencies build once.
/// The load tests of `slow_tests::LOAD` are skipped: they read no file the others do not, so they
/// prove nothing about the package's contents, and `test` ran them minutes ago on the same code
/// (the 10,000 webhooks alone took over 4 minutes a run in a debug build). Every other test runs,
/// doctests included.
fn test_packaged(paths: &Paths) -> Result {
    let mut command = process::cargo();
    command
        .current_dir(&paths.workspace)
        .env("CARGO_TARGET_DIR", &paths.target)
        .args(["test", "--workspace", "--"])
        .args(slow_tests::skip_args(&[slow_tests::LOAD]));
    println!(
        "$ {}  (in {})",
        process::display(&command),
        project::relative(&paths.workspace)
    );
    process::run(&mut command).map_err(|error| {
        Error::new(format!(
            "package: the crates as packaged do not build or pass their tests: {error}. If they \
             pass in the workspace (`cargo test`), a packaged crate misses something: a file it \
             reads from outside its folder (include_str!, a path in a test) or one its Cargo.toml \
             `include` leaves out"
        ))
    })
}

/// `cargo install --path crates/musicgpt-cover-mock`. `--debug`: a release build would compile
/// every dependency again, optimised, for minutes, and the profile is not what is checked here;
/// in the workspace's target dir the dev build is most often there already. `--locked`: the
/// workspace's versions, as tested.
fn install_mock(paths: &Paths) -> Result {
    let mut command = process::cargo();
    command
        .env("CARGO_TARGET_DIR", &paths.target)
        .args(["install", "--locked", "--debug", "--force", "--path"])
        .arg(Path::new("crates").join(MOCK))
        .arg("--root")
        .arg(&paths.install);
    println!("$ {}", process::display(&command));
    process::run(&mut command)
}

/// The installed mock prints its help, starts on 127.0.0.1 and answers `GET /v1/getAllVoices`.
fn check_installed_mock(paths: &Paths) -> Result {
    let binary = paths
        .install
        .join("bin")
        .join(format!("{MOCK}{}", std::env::consts::EXE_SUFFIX));
    let help = process::stdout(Command::new(&binary).arg("--help"))?;
    if !help.contains("--addr") {
        return Err(Error::new(format!(
            "package: `{} --help` does not mention --addr; it printed:\n{help}",
            binary.display()
        )));
    }
    let answered = mock::start(
        &binary,
        &["--addr", "127.0.0.1:0"],
        "API base URL",
        START_LIMIT,
    )
    .and_then(|(running, banner)| {
        let base_url = banner_base_url(&banner)
            .ok_or_else(|| Error::new(format!("no URL in its banner line `{banner}`")))?;
        println!("package: the installed mock listens at {base_url}");
        let answered = get_all_voices(&base_url);
        drop(running);
        answered
    });
    answered.map_err(|error| {
        Error::new(format!(
            "package: the installed {MOCK} does not work: {error}"
        ))
    })
}

/// The base URL in a line of the mock's start-up banner, if it is the `API base URL` line.
pub(crate) fn banner_base_url(line: &str) -> Option<String> {
    line.trim()
        .strip_prefix("API base URL")
        .map(|url| url.trim().to_owned())
}

/// Sends `request` (a whole HTTP request that closes the connection: HTTP/1.0, or HTTP/1.1 with
/// `Connection: close`) over a plain socket to `address` (xtask has no HTTP client) and returns
/// all that came back, waiting at most `limit` for each read.
pub(crate) fn exchange(address: SocketAddr, request: &[u8], limit: Duration) -> Result<String> {
    let mut stream = TcpStream::connect_timeout(&address, Duration::from_secs(5))
        .map_err(|error| Error::new(format!("could not connect to {address}: {error}")))?;
    let io = |error: std::io::Error| Error::new(format!("talking to {address}: {error}"));
    stream.set_read_timeout(Some(limit)).map_err(io)?;
    stream.write_all(request).map_err(io)?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).map_err(io)?;
    Ok(String::from_utf8_lossy(&response).into_owned())
}

/// How long the mock may take to answer a check's request.
const ANSWER_LIMIT: Duration = Duration::from_secs(10);

/// A Cover's multipart form by URL, as the docs' examples send it: its `Content-Type` and body.
pub(crate) fn cover_form(voice: &str, audio_url: &str) -> (String, String) {
    let boundary = "xtask-cover-boundary";
    let mut body = String::new();
    for (name, value) in [("voice_id", voice), ("audio_url", audio_url)] {
        body.push_str(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
        ));
    }
    body.push_str(&format!("--{boundary}--\r\n"));
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// `GET {base_url}/v1/getAllVoices` over a plain socket; only a 127.0.0.1 address is ever
/// contacted.
fn get_all_voices(base_url: &str) -> Result {
    let (address, base_path) = loopback_address(base_url)?;
    let voices = Spec::read()?.path("getAllVoices")?.to_owned();
    expect_200(
        address,
        &format!(
            "GET {base_path}{voices}?limit=1 HTTP/1.1\r\nHost: {address}\r\n\
             Authorization: xtask-package-check\r\nConnection: close\r\n\r\n"
        ),
        "\"voices\"",
        &format!("GET {base_url}{voices} did not answer 200 with voices"),
    )
}

/// Sends `request` (as [`exchange`] does) and requires a 200 whose text holds `wanted`; otherwise
/// the error says `failed`, then the start of the answer (enough to see what it was).
pub(crate) fn expect_200(address: SocketAddr, request: &str, wanted: &str, failed: &str) -> Result {
    let response = exchange(address, request.as_bytes(), ANSWER_LIMIT)?;
    if response.starts_with("HTTP/1.1 200") && response.contains(wanted) {
        return Ok(());
    }
    let end = response
        .char_indices()
        .nth(2000)
        .map_or(response.len(), |(at, _)| at);
    Err(Error::new(format!(
        "{failed}; it answered:\n{}",
        &response[..end]
    )))
}

/// The socket address and path of an `http://127.0.0.1:PORT/path` URL; any other host is refused.
pub(crate) fn loopback_address(base_url: &str) -> Result<(SocketAddr, String)> {
    let refuse = || {
        Error::new(format!(
            "the mock announced {base_url:?}, not an http://127.0.0.1:PORT URL"
        ))
    };
    let rest = base_url.strip_prefix("http://").ok_or_else(refuse)?;
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let address: SocketAddr = authority.parse().map_err(|_| refuse())?;
    if address.ip() != std::net::Ipv4Addr::LOCALHOST {
        return Err(refuse());
    }
    Ok((address, format!("/{path}").trim_end_matches('/').to_owned()))
}

fn remove_dir(dir: &Path) -> Result {
    fs::remove_dir_all(dir).map_err(project::failed("remove", dir))
}

/// Writes `contents` unless the file already holds them (a rewrite would only cost a rebuild).
fn write(path: &Path, contents: &[u8]) -> Result {
    if fs::read(path).is_ok_and(|existing| existing == contents) {
        return Ok(());
    }
    project::write(path, contents)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    /// Each crate's openapi.yaml is the workspace's spec: a link to it, so that what is
    /// packaged is what is edited. A checkout without symlinks shows here first.
    #[test]
    fn every_publishable_crate_ships_the_workspace_spec() {
        let spec = fs::read_to_string(project::spec()).unwrap_or_else(|e| panic!("{e}"));
        for name in CRATES {
            let path = project::root()
                .join("crates")
                .join(name)
                .join("openapi.yaml");
            let shipped = fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("{}: {e}", project::relative(&path)));
            assert!(
                shipped == spec,
                "{} is not the workspace's openapi.yaml: it must be a symlink to \
                 ../../openapi.yaml (a checkout with core.symlinks=false holds the link's path \
                 as text instead: enable symlinks and check it out again)",
                project::relative(&path)
            );
            #[cfg(unix)]
            assert_eq!(
                fs::read_link(&path).ok(),
                Some(PathBuf::from("../../openapi.yaml")),
                "{} must be a symlink, not a copy that can drift",
                project::relative(&path)
            );
        }
    }

    /// What `cargo package` puts in each crate, without building anything: every source, test
    /// and snapshot file of the crate (the packaged tests read them), and no warning about
    /// metadata or a target left out.
    #[test]
    fn every_package_holds_the_crates_files_and_packages_without_warnings() {
        let files = project::workspace_files().unwrap_or_else(|e| panic!("{e}"));
        for name in CRATES {
            let mut command = process::cargo();
            command.args(["package", "--list", "--allow-dirty", "--package", name]);
            let output = process::capture(&mut command).unwrap_or_else(|e| panic!("{e}"));
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert!(output.status.success(), "{name}: {stderr}");
            assert_eq!(warnings(&stderr, &[]), Vec::<String>::new(), "{name}");
            let listed: BTreeSet<String> = String::from_utf8_lossy(&output.stdout)
                .lines()
                .map(str::to_owned)
                .collect();
            let left_out: Vec<&str> = files
                .iter()
                .filter_map(|file| {
                    file.strip_prefix(Path::new("crates").join(name))
                        .ok()?
                        .to_str()
                })
                .filter(|file| !listed.contains(*file))
                .collect();
            assert!(
                left_out.is_empty(),
                "{name}: `cargo package` leaves out {left_out:?}; add them to `include` in its \
                 Cargo.toml, or the packaged build and tests cannot read them"
            );
            for needed in ["openapi.yaml", "README.md", "src/lib.rs"] {
                assert!(listed.contains(needed), "{name}: {needed} is not packaged");
            }
        }
    }

    #[test]
    fn packaged_crates_and_warnings_are_read_from_cargos_output() {
        let stderr = "\
    Updating crates.io index
   Packaging musicgpt-cover-codegen v0.1.0 (/w/crates/musicgpt-cover-codegen)
    Packaged 14 files, 228.0KiB (39.9KiB compressed)
warning: manifest has no documentation, homepage or repository
   Packaging musicgpt-cover v0.2.0-rc.1 (/w/crates/musicgpt-cover)
   Uploading musicgpt-cover v0.2.0-rc.1 (/w/crates/musicgpt-cover)
warning: aborting upload due to dry run
";
        assert_eq!(
            packaged_crates(stderr),
            [
                Packaged {
                    name: "musicgpt-cover-codegen".to_owned(),
                    version: "0.1.0".to_owned()
                },
                Packaged {
                    name: "musicgpt-cover".to_owned(),
                    version: "0.2.0-rc.1".to_owned()
                },
            ]
        );
        assert_eq!(
            warnings(stderr, &["aborting upload due to dry run"]),
            ["manifest has no documentation, homepage or repository"]
        );
    }

    #[test]
    fn the_scratch_workspace_patches_every_crate_to_its_unpacked_folder() {
        let manifest = workspace_manifest(
            &[Packaged {
                name: "musicgpt-cover".to_owned(),
                version: "0.1.0".to_owned(),
            }],
            "[profile.dev]\ndebug = false\n",
        );
        assert!(manifest.contains("members = [\n    \"crates/musicgpt-cover-0.1.0\",\n]\n"));
        assert!(manifest.contains(
            "[patch.crates-io]\nmusicgpt-cover = { path = \"crates/musicgpt-cover-0.1.0\" }\n"
        ));
        assert!(manifest.ends_with("[profile.dev]\ndebug = false\n"));
    }

    #[test]
    fn the_profiles_are_taken_whole_and_nothing_else() {
        let manifest = "[workspace]\nmembers = [\n    \"a\",\n]\n\n[profile.dev]\n# why\n\
                        debug = 1\n\n[workspace.lints.rust]\nx = 1\n[profile.dev.package.\"*\"]\n\
                        debug = false\n";
        assert_eq!(
            profiles(manifest),
            "[profile.dev]\n# why\ndebug = 1\n\n[profile.dev.package.\"*\"]\ndebug = false\n"
        );
    }

    #[test]
    fn only_a_127_0_0_1_url_is_contacted() {
        let parsed = loopback_address("http://127.0.0.1:4010/api/public").ok();
        assert_eq!(
            parsed,
            Some((
                SocketAddr::from(([127, 0, 0, 1], 4010)),
                "/api/public".to_owned()
            ))
        );
        for refused in [
            "http://10.0.0.1:4010/api/public",
            "http://localhost:4010/api/public",
            "https://127.0.0.1:4010/api/public",
            "http://127.0.0.1/api/public",
        ] {
            assert!(loopback_address(refused).is_err(), "{refused}");
        }
    }
}
