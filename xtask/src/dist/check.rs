//! The check of what `cargo xtask dist` made, used the way its users use it, in an empty folder
//! under the system's temp dir (removed when the check passes, kept and named when it fails):
//!
//! 1. The archive: `sha256sum -c` of its `.sha256` (`shasum -a 256 -c` where there is no
//!    `sha256sum`), unpacked with `tar`, and its binary started on 127.0.0.1, asked for the
//!    Explorer and a Cover, and stopped with SIGTERM, which it must survive cleanly.
//! 2. Unless `--platform-only`, the two npm packages: `npm install --offline` of the two `.tgz`
//!    files with no `cargo` on `PATH`, npm's registry set to a closed port on 127.0.0.1 and an
//!    empty cache (so any registry access fails), then `npx musicgpt-cover-mock --addr
//!    127.0.0.1:0` answers as the archive's binary did; the `bin` script started as npm scripts
//!    start it (`node_modules/.bin/musicgpt-cover-mock`) answers too and passes SIGTERM on, so the
//!    mock stops cleanly and the script exits with its 0 (npx itself passes no SIGTERM on: npm
//!    11.19 exits and leaves its child running, so npx is stopped with what it started); a bad
//!    flag's exit status 2 comes back through npx and the script; the `bin` script's messages on a platform with no binary, on a platform whose package is not
//!    installed, and with the binary named by the environment; and `tsc --strict --noEmit` of a
//!    file using the types (`npm/check/types.ts`), of the npm README's TypeScript example and of
//!    the project README's frontend example, under
//!    the nodenext, bundler and node10 module resolutions.

use std::ffi::{OsStr, OsString};
use std::fs;
use std::io;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::thread;
use std::time::{Duration, Instant};

use super::{
    Artifacts, BINARY_ENV, NAME, PLATFORMS, npm_command, read, sha256_hex, templates, write,
};
use crate::process::{self, Background};
use crate::project::{copy, create_dir};
use crate::spec::Spec;
use crate::tools::Tools;
use crate::{Error, Result, package, project};

/// How long the mock may take to print its address, and to stop after SIGTERM.
const START_LIMIT: Duration = Duration::from_secs(30);
const STOP_LIMIT: Duration = Duration::from_secs(30);

/// How long `npm install` of two local files may take (seconds; it reaches no network).
const INSTALL_LIMIT: Duration = Duration::from_secs(300);

/// The environment variable `npm/check/fake-platform.cjs` reads.
const FAKE_PLATFORM_ENV: &str = "MUSICGPT_DIST_CHECK_PLATFORM";

/// A platform no package is made for.
const NO_SUCH_PLATFORM: &str = "aix-ppc64";

pub(super) fn run(artifacts: &Artifacts) -> Result {
    let name = format!("{NAME}-dist-check");
    project::in_scratch(&name, "dist: the check's files are kept in", |dir| {
        let binary = archive(artifacts, &dir.join("archive"))?;
        match &artifacts.main {
            Some(main) => npm(artifacts, main, &dir.join("npm"), &binary),
            None => Ok(()),
        }
    })
}

/// The archive, checked, unpacked and run; the unpacked binary's path.
fn archive(artifacts: &Artifacts, dir: &Path) -> Result<PathBuf> {
    create_dir(dir)?;
    let archive = file_name(&artifacts.archive)?;
    let checksum = file_name(&artifacts.checksum)?;
    copy(&artifacts.archive, &dir.join(&archive))?;
    copy(&artifacts.checksum, &dir.join(&checksum))?;
    verify_checksum(dir, &checksum, &archive)?;
    let mut tar = Command::new("tar");
    tar.arg("-xzf").arg(&archive).current_dir(dir);
    process::stdout(&mut tar)?;
    let folder = archive.trim_end_matches(".tar.gz");
    let binary = dir.join(folder).join(artifacts.platform.binary());
    if !binary.is_file() {
        return Err(Error::new(format!(
            "dist: {archive} does not unpack to {folder}/{}",
            artifacts.platform.binary()
        )));
    }
    serve(
        &mut Command::new(&binary),
        &dir.join("mock.log"),
        "the archive's binary",
        Stop::Signal,
    )?;
    Ok(binary)
}

/// `sha256sum -c CHECKSUM` in `dir`, or `shasum -a 256 -c` where there is no `sha256sum` (macOS);
/// where there is neither (Windows), the hash is compared here.
fn verify_checksum(dir: &Path, checksum: &str, archive: &str) -> Result {
    for program in [&["sha256sum", "-c"][..], &["shasum", "-a", "256", "-c"]] {
        let mut command = Command::new(program[0]);
        command.args(&program[1..]).arg(checksum).current_dir(dir);
        let output = match command.output() {
            Ok(output) => output,
            Err(error) if error.kind() == io::ErrorKind::NotFound => continue,
            Err(error) => return Err(process::spawn_error(&command, &error)),
        };
        let said = String::from_utf8_lossy(&output.stdout);
        return if output.status.success() && said.contains(&format!("{archive}: OK")) {
            println!(
                "dist: check: `{}`: {}",
                process::display(&command),
                said.trim()
            );
            Ok(())
        } else {
            Err(Error::new(format!(
                "dist: `{}` failed ({}): {}{}",
                process::display(&command),
                output.status,
                said.trim(),
                String::from_utf8_lossy(&output.stderr).trim()
            )))
        };
    }
    let written = read(&dir.join(checksum))?;
    let actual = sha256_hex(&dir.join(archive))
        .map_err(|error| Error::new(format!("could not read {archive}: {error}")))?;
    if written == format!("{actual}  {archive}\n") {
        println!("dist: check: {checksum} matches (no sha256sum or shasum here: hashed by xtask)");
        Ok(())
    } else {
        Err(Error::new(format!(
            "dist: {checksum} says {written:?}, the archive's SHA-256 is {actual}"
        )))
    }
}

/// The npm packages, installed from their files with no registry and no cargo, and used.
fn npm(artifacts: &Artifacts, main: &Path, dir: &Path, binary: &Path) -> Result {
    create_dir(dir)?;
    let env = Env::new(dir, "dist-check")?;
    let mut install = env.command(npm_command("npm"));
    install
        .args(["install", "--offline", "--no-audit", "--no-fund"])
        .arg(main)
        .arg(&artifacts.platform_package);
    let shown = process::display(&install);
    println!(
        "dist: check: {shown}  (PATH without cargo, npm_config_registry={})",
        env.registry
    );
    let log = dir.join("install.log");
    match process::to_file_within(&mut install, &log, INSTALL_LIMIT)? {
        Some(status) if status.success() => {}
        Some(status) => {
            return Err(Error::new(format!(
                "dist: `{shown}` failed ({status}) in {}: the packages do not install from their \
                 files alone; its output:\n{}",
                dir.display(),
                fs::read_to_string(&log).unwrap_or_default()
            )));
        }
        None => {
            return Err(Error::new(format!(
                "dist: `{shown}` took over {}s and was stopped",
                INSTALL_LIMIT.as_secs()
            )));
        }
    }
    let mut npx = env.command(npm_command("npx"));
    npx.arg(NAME);
    serve(
        &mut npx,
        &dir.join("npx.log"),
        "npx musicgpt-cover-mock",
        Stop::Kill,
    )?;
    let mut script = env.command(
        dir.join("node_modules")
            .join(".bin")
            .join(npm_command(NAME)),
    );
    serve(
        &mut script,
        &dir.join("bin-script.log"),
        "node_modules/.bin/musicgpt-cover-mock",
        Stop::Signal,
    )?;
    exit_status(&env)?;
    messages(artifacts, &env, binary)?;
    types(&env)
}

/// What every command of the npm check runs with: in the install folder, a `PATH` with no
/// `cargo`, npm pointed at a registry that refuses connections, and none of the caller's
/// settings for npm, Node or the mock. (`install_lines` runs the docs' `npm install` so too.)
pub(crate) struct Env {
    dir: PathBuf,
    path: OsString,
    registry: String,
}

impl Env {
    /// The environment of `dir`, an npm project of its own called `name`.
    pub(crate) fn new(dir: &Path, name: &str) -> Result<Self> {
        // The folder's own manifest and npm configuration, so that npm installs here, whatever a
        // parent folder or the user's ~/.npmrc holds.
        let manifest = format!("{{\n  \"name\": \"{name}\",\n  \"private\": true\n}}\n");
        write(&dir.join("package.json"), &manifest)?;
        write(&dir.join(".npmrc"), "")?;
        let path = path_without("cargo", &std::env::var_os("PATH").unwrap_or_default())?;
        let node = format!("node{}", std::env::consts::EXE_SUFFIX);
        let Some(node) = find(&node, &path) else {
            return Err(Error::new(
                "dist: node is not on PATH, or only in a folder that also holds cargo: the check \
                 runs npm with no cargo on PATH, so it needs node in a folder of its own",
            ));
        };
        println!(
            "dist: check: PATH without the folders holding cargo; node is {}",
            node.display()
        );
        Ok(Self {
            dir: dir.to_path_buf(),
            path,
            registry: format!("http://127.0.0.1:{}/", closed_port()?),
        })
    }

    pub(crate) fn command(&self, program: impl AsRef<OsStr>) -> Command {
        let mut command = Command::new(program);
        command.current_dir(&self.dir);
        for (key, _) in std::env::vars_os() {
            let name = key.to_string_lossy().to_ascii_lowercase();
            if name.starts_with("npm_config_")
                || name.starts_with("musicgpt_")
                || name == "node_options"
            {
                command.env_remove(&key);
            }
        }
        command
            .env("PATH", &self.path)
            .env("npm_config_registry", &self.registry)
            .env("npm_config_offline", "true")
            .env("npm_config_cache", self.dir.join(".npm-cache"))
            .env("npm_config_userconfig", self.dir.join(".npmrc"))
            .env("npm_config_update_notifier", "false");
        command
    }
}

/// `path` (a `PATH` value) without the folders that hold `program`.
fn path_without(program: &str, path: &OsStr) -> Result<OsString> {
    let file = format!("{program}{}", std::env::consts::EXE_SUFFIX);
    let kept: Vec<PathBuf> = std::env::split_paths(path)
        .filter(|dir| !dir.join(&file).is_file())
        .collect();
    std::env::join_paths(kept).map_err(|error| Error::new(format!("dist: PATH: {error}")))
}

/// Where `PATH` finds `file`.
fn find(file: &str, path: &OsStr) -> Option<PathBuf> {
    std::env::split_paths(path)
        .map(|dir| dir.join(file))
        .find(|candidate| candidate.is_file())
}

/// A port on 127.0.0.1 that nothing listens on: bound by the system, then let go.
fn closed_port() -> Result<u16> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .map_err(|error| Error::new(format!("dist: could not find a free port: {error}")))
}

/// How [`serve`] stops what it started.
#[derive(Clone, Copy)]
enum Stop {
    /// SIGTERM, after which it must end with status 0 and the mock's `Stopped;` line: the
    /// signal and the exit status passed through whatever started the mock.
    Signal,
    /// Killed with everything it started.
    Kill,
}

/// Starts `command` (the mock, however it is started) with `--addr 127.0.0.1:0`; the Explorer at
/// `/` and a Cover by URL must be answered; then it is stopped as `stop` says.
fn serve(command: &mut Command, log: &Path, who: &str, stop: Stop) -> Result {
    command.args(["--addr", "127.0.0.1:0"]);
    println!("dist: check: {}", process::display(command));
    let mut mock = Background::spawn(command, log)?;
    let output = || fs::read_to_string(log).unwrap_or_default();
    let asked = base_url(&mut mock, log, who).and_then(|base_url| {
        let (address, base_path) = package::loopback_address(&base_url)?;
        explorer(address)?;
        cover(address, &base_path)?;
        println!("dist: check: {who} at {base_url} answered the Explorer and a Cover");
        Ok(())
    });
    if let Err(error) = asked {
        return Err(Error::new(format!(
            "dist: {who}: {error}; its output:\n{}",
            output()
        )));
    }
    match stop {
        Stop::Signal => terminate(mock, log, who)
            .map_err(|error| Error::new(format!("{error}; its output:\n{}", output()))),
        Stop::Kill => {
            drop(mock);
            Ok(())
        }
    }
}

/// Reads the mock's log until its `API base URL` line.
fn base_url(mock: &mut Background, log: &Path, who: &str) -> Result<String> {
    let started = Instant::now();
    loop {
        let text = fs::read_to_string(log).unwrap_or_default();
        if let Some(url) = text.lines().find_map(package::banner_base_url) {
            return Ok(url);
        }
        if let Some(status) = mock.try_status()? {
            return Err(Error::new(format!(
                "{who} ended ({status}) before it printed its address"
            )));
        }
        if started.elapsed() > START_LIMIT {
            return Err(Error::new(format!(
                "{who} printed no `API base URL` line within {}s",
                START_LIMIT.as_secs()
            )));
        }
        thread::sleep(Duration::from_millis(100));
    }
}

/// `GET /`: the Explorer page.
fn explorer(address: SocketAddr) -> Result {
    package::expect_200(
        address,
        &format!("GET / HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n"),
        "<title>Explorer",
        "GET / did not answer 200 with the Explorer page",
    )
}

/// `POST /v1/Cover`, multipart, by URL (the spec's examples), with any key: 200 and a task id.
fn cover(address: SocketAddr, base_path: &str) -> Result {
    let spec = Spec::read()?;
    let (content_type, body) = package::cover_form(
        spec.cover_example("voice_id")?,
        spec.cover_example("audio_url")?,
    );
    let cover = spec.path("cover")?;
    let request = format!(
        "POST {base_path}{cover} HTTP/1.1\r\nHost: {address}\r\nAuthorization: dist-check\r\n\
         Content-Type: {content_type}\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    );
    package::expect_200(
        address,
        &request,
        "\"task_id\"",
        &format!("POST {base_path}{cover} did not answer 200 with a task_id"),
    )
}

/// SIGTERM, then the mock must stop as it does when asked: status 0, its `Stopped;` line.
#[cfg(unix)]
fn terminate(mock: Background, log: &Path, who: &str) -> Result {
    let pid = mock.id().to_string();
    process::stdout(Command::new("kill").args(["-TERM", &pid]))?;
    match mock.wait_within(STOP_LIMIT)? {
        Some(status)
            if status.success()
                && fs::read_to_string(log).is_ok_and(|text| text.contains("\nStopped;")) =>
        {
            println!("dist: check: {who} stopped cleanly on SIGTERM");
            Ok(())
        }
        Some(status) if status.success() => Err(Error::new(format!(
            "dist: {who} exited with 0 after SIGTERM, but the mock did not say `Stopped;`"
        ))),
        Some(status) => Err(Error::new(format!(
            "dist: {who} ended with {status} after SIGTERM, not 0: the signal or the exit status \
             did not pass through"
        ))),
        None => Err(Error::new(format!(
            "dist: {who} was still running {}s after SIGTERM",
            STOP_LIMIT.as_secs()
        ))),
    }
}

/// Windows has no SIGTERM to send: the mock is stopped with what it started.
#[cfg(not(unix))]
fn terminate(mock: Background, _log: &Path, _who: &str) -> Result {
    drop(mock);
    Ok(())
}

/// A flag the mock refuses: clap's exit status 2 comes back through npx and the `bin` script.
fn exit_status(env: &Env) -> Result {
    let mut npx = env.command(npm_command("npx"));
    npx.args([NAME, "--no-such-flag"]);
    let output = process::capture(&mut npx)?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    if output.status.code() == Some(2) && stderr.contains("--no-such-flag") {
        println!("dist: check: `{}` exits with 2", process::display(&npx));
        Ok(())
    } else {
        Err(Error::new(format!(
            "dist: `{}` should exit with the mock's 2 and name the flag; it exited {} and said:\n{stderr}",
            process::display(&npx),
            output.status
        )))
    }
}

/// What the `bin` script says and does where it finds no binary, and with one named by
/// [`BINARY_ENV`]; Node is made to report another platform by `npm/check/fake-platform.cjs`.
fn messages(artifacts: &Artifacts, env: &Env, binary: &Path) -> Result {
    let script = env
        .dir
        .join("node_modules")
        .join(NAME)
        .join("bin")
        .join(format!("{NAME}.js"));
    let fake = templates().join("check").join("fake-platform.cjs");
    let run_as = |platform: &str, binary_env: Option<&Path>| -> Result<Output> {
        let mut node = env.command("node");
        node.arg("--require")
            .arg(&fake)
            .arg(&script)
            .arg("--help")
            .env(FAKE_PLATFORM_ENV, platform);
        if let Some(binary) = binary_env {
            node.env(BINARY_ENV, binary);
        }
        process::capture(&mut node)
    };
    let build_it = format!(
        "cargo install --locked --git {} {NAME}",
        artifacts.workspace.repository
    );
    let not_installed = PLATFORMS
        .iter()
        .find(|platform| platform.key() != artifacts.platform.key())
        .ok_or_else(|| Error::new("dist: only one platform is known"))?;
    let missing_binary = env.dir.join("no-such-binary");
    let cases: [(String, Output, i32, Vec<String>); 4] = [
        (
            format!("on {NO_SUCH_PLATFORM}"),
            run_as(NO_SUCH_PLATFORM, None)?,
            1,
            vec![
                format!("no prebuilt binary for this platform ({NO_SUCH_PLATFORM})"),
                build_it.clone(),
                BINARY_ENV.to_owned(),
            ],
        ),
        (
            format!("on {} without its package", not_installed.key()),
            run_as(&not_installed.key(), None)?,
            1,
            vec![
                format!("{}, which is not installed", not_installed.package()),
                build_it,
            ],
        ),
        (
            format!("on {NO_SUCH_PLATFORM} with {BINARY_ENV}"),
            run_as(NO_SUCH_PLATFORM, Some(binary))?,
            0,
            vec!["--addr".to_owned()],
        ),
        (
            format!("with {BINARY_ENV} naming no file"),
            run_as(&artifacts.platform.key(), Some(&missing_binary))?,
            1,
            vec![format!(
                "{}, which does not exist",
                missing_binary.display()
            )],
        ),
    ];
    for (case, output, code, expected) in cases {
        let said = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        let missing: Vec<&String> = expected.iter().filter(|e| !said.contains(*e)).collect();
        if output.status.code() != Some(code) || !missing.is_empty() {
            return Err(Error::new(format!(
                "dist: the bin script {case} should exit with {code} and say {missing:?}; it \
                 exited {} and said:\n{said}",
                output.status
            )));
        }
        println!("dist: check: the bin script {case}: exit {code}, says so");
    }
    Ok(())
}

/// The module resolutions frontend projects use, with the `module` setting each needs and
/// whether the README's example (an ES module with top-level `await`) is compiled under it.
const RESOLUTIONS: [(&str, &str, bool); 3] = [
    ("nodenext", "nodenext", true),
    ("bundler", "esnext", true),
    ("node10", "commonjs", false),
];

/// `tsc --strict --noEmit` of `npm/check/types.ts`, of the installed README's TypeScript example
/// and of the project README's frontend example, importing `musicgpt-cover-mock/types` from the installed package.
fn types(env: &Env) -> Result {
    copy(
        &templates().join("check").join("types.ts"),
        &env.dir.join("types.ts"),
    )?;
    let readme = read(&env.dir.join("node_modules").join(NAME).join("README.md"))?;
    let example = typescript_example(&readme)
        .ok_or_else(|| Error::new("dist: the npm README has no ```ts example"))?;
    write(&env.dir.join("readme.mts"), example)?;
    // The contract tests' checks of the Cover body type (tests/contract/generators.rs), against
    // the shipped types instead of a fresh openapi-typescript run.
    let cover = read(
        &project::root()
            .join("tests")
            .join("fixtures")
            .join("generated")
            .join("cover.ts"),
    )?;
    let shipped = cover.replace("from \"./openapi\"", &format!("from \"{NAME}/types\""));
    if shipped == cover {
        return Err(Error::new(
            "dist: tests/fixtures/generated/cover.ts no longer imports \"./openapi\"",
        ));
    }
    write(&env.dir.join("cover.ts"), &shipped)?;
    // The project README's frontend example too, with the page elements it uses declared.
    let project_readme = read(&project::root().join("README.md"))?;
    let frontend = typescript_example(&project_readme)
        .ok_or_else(|| Error::new("dist: README.md has no ```ts example"))?;
    write(
        &env.dir.join("frontend.mts"),
        &format!(
            "declare const fileInput: HTMLInputElement;\ndeclare const audioElement: HTMLAudioElement;\n{frontend}"
        ),
    )?;
    let tsc = Tools::new().npm_program("tsc");
    for (resolution, module, with_readme) in RESOLUTIONS {
        let mut command = env.command(&tsc);
        command
            .args(["--strict", "--noEmit", "--target", "es2022"])
            .args(["--lib", "es2022,dom", "--module", module])
            .args(["--moduleResolution", resolution, "types.ts", "cover.ts"]);
        if with_readme {
            command.args(["readme.mts", "frontend.mts"]);
        }
        let output = process::capture(&mut command)?;
        if !output.status.success() {
            return Err(Error::new(format!(
                "dist: `{}` failed ({}): the types do not compile as a frontend project uses \
                 them:\n{}{}",
                process::display(&command),
                output.status,
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            )));
        }
        println!("dist: check: `{}` compiles", process::display(&command));
    }
    Ok(())
}

/// The first ```ts block of a Markdown text.
fn typescript_example(markdown: &str) -> Option<&str> {
    let start = markdown.find("```ts\n")? + "```ts\n".len();
    let length = markdown[start..].find("```")?;
    Some(&markdown[start..start + length])
}

fn file_name(path: &Path) -> Result<String> {
    path.file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .ok_or_else(|| Error::new(format!("dist: {} has no file name", path.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_typescript_example_is_found_in_the_readme() {
        let markdown = "# x\n\n```sh\nnpx y\n```\n\n```ts\nconst a = 1;\n```\n\n```ts\nb\n```\n";
        assert_eq!(typescript_example(markdown), Some("const a = 1;\n"));
        assert_eq!(typescript_example("```js\nx\n```\n"), None);
        let readme =
            read(&templates().join(NAME).join("README.md")).unwrap_or_else(|e| panic!("{e}"));
        assert!(
            typescript_example(&readme)
                .is_some_and(|example| example.contains("musicgpt-cover-mock/types")),
            "the npm README's TypeScript example must import the types"
        );
    }

    #[test]
    fn path_without_drops_only_the_folders_holding_the_program() {
        let dir = crate::scratch("dist-path");
        let (with, without) = (dir.join("with"), dir.join("without"));
        let program = format!("xtask-dist-probe{}", std::env::consts::EXE_SUFFIX);
        crate::put(&with.join(&program), "");
        let path =
            std::env::join_paths([&without, &with, &without]).unwrap_or_else(|e| panic!("{e}"));
        let found = find(&program, &path);
        let kept = path_without("xtask-dist-probe", &path).unwrap_or_else(|e| panic!("{e}"));
        let kept: Vec<PathBuf> = std::env::split_paths(&kept).collect();
        assert_eq!(found, Some(with.join(&program)));
        assert_eq!(kept, [without.clone(), without]);
    }
}
