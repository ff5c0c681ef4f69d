//! `cargo xtask dist [--target TRIPLE] [--platform-only]`: the mock for people without Rust, made
//! from the release build of `musicgpt-cover-mock` for one target (the host's by default), in
//! `target/dist/`:
//!
//! - `npm/musicgpt-cover-mock-VERSION.tgz`, the npm package people install: a `bin` script that
//!   runs the binary of the platform it finds installed, `openapi.yaml`, and the TypeScript types
//!   openapi-typescript (pinned in `xtask/tools/`) generates from it, exported as
//!   `musicgpt-cover-mock/types`. It lists one package per platform as `optionalDependencies`, the
//!   way esbuild and Biome ship their binaries: npm installs the one whose `os` and `cpu` match.
//! - `npm/musicgpt-cover-mock-OS-CPU-VERSION.tgz`, that platform's package,
//!   `@musicgpt-cover-mock/OS-CPU`, holding the binary.
//! - `musicgpt-cover-mock-VERSION-TRIPLE.tar.gz` and its `.sha256` (in `sha256sum`'s format), for
//!   `curl | tar` installs and release pages.
//!
//! The package templates are in `npm/` (`{{name}}` placeholders, filled from [`PLATFORMS`], the
//! workspace's `Cargo.toml` and the constants here); the version, licence and repository are the
//! workspace's. `--platform-only` leaves out the main package, which is the same whatever the
//! target: the release workflow makes it once, on the Linux x64 runner, where the pinned tools are
//! installed. When the target is the host's, the artifacts are then checked as a user would use
//! them (`check.rs`).
//!
//! The `dist` step of `cargo xtask ci` (`cargo xtask dist --profile dev` by hand) does all of it
//! for the host with the binary of the dev profile that `test` compiled, into `target/ci/dist/`:
//! what it checks is the packaging, which is the same for either profile, and a release build of
//! its own would cost 2.5 to 15 minutes of compilation on 2 cores, as the `soak` step found.

mod check;

pub(crate) use check::Env as OfflineNpm;

use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::project::{copy, create_dir, read, recreate_dir, write};
use crate::soak::Profile;
use crate::tools::Tools;
use crate::{Error, Result, package, process, project};

/// The crate, its binary and the main npm package: one name.
const NAME: &str = package::MOCK;

/// The npm scope of the platform packages.
const SCOPE: &str = "@musicgpt-cover-mock";

/// The folder of `target/dist/` where the packages and the archive are put together.
const STAGE: &str = "stage";

/// The environment variable that names a binary for the `bin` script to run instead of the
/// platform package's (as `ESBUILD_BINARY_PATH` does for esbuild).
const BINARY_ENV: &str = "MUSICGPT_COVER_MOCK_BINARY_PATH";

/// One platform with a prebuilt binary: its Rust target and Node's `process.platform` and
/// `process.arch` there, which are also the platform package's `os` and `cpu`.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Platform {
    target: &'static str,
    os: &'static str,
    cpu: &'static str,
}

/// Every platform the release builds (`.github/workflows/release.yml` has one job for each, a
/// test holds it to this list). Linux's are glibc builds: the release builds them on the oldest
/// Ubuntu runner, whose glibc is then the oldest they run on.
const PLATFORMS: &[Platform] = &[
    Platform::new("x86_64-unknown-linux-gnu", "linux", "x64"),
    Platform::new("aarch64-unknown-linux-gnu", "linux", "arm64"),
    Platform::new("x86_64-apple-darwin", "darwin", "x64"),
    Platform::new("aarch64-apple-darwin", "darwin", "arm64"),
    Platform::new("x86_64-pc-windows-msvc", "win32", "x64"),
];

impl Platform {
    const fn new(target: &'static str, os: &'static str, cpu: &'static str) -> Self {
        Self { target, os, cpu }
    }

    /// `linux-x64`: how the `bin` script names the platform it runs on.
    fn key(&self) -> String {
        format!("{}-{}", self.os, self.cpu)
    }

    /// `@musicgpt-cover-mock/linux-x64`.
    fn package(&self) -> String {
        format!("{SCOPE}/{}", self.key())
    }

    /// The binary's file name on this platform.
    fn binary(&self) -> String {
        let suffix = if self.os == "win32" { ".exe" } else { "" };
        format!("{NAME}{suffix}")
    }

    /// The binary's path inside the platform package.
    fn binary_in_package(&self) -> String {
        format!("bin/{}", self.binary())
    }

    fn for_target(target: &str) -> Result<&'static Self> {
        PLATFORMS
            .iter()
            .find(|platform| platform.target == target)
            .ok_or_else(|| {
                Error::new(format!(
                    "dist: no npm platform is known for the target `{target}`; the known ones are \
                     {}. Add it to PLATFORMS in xtask/src/dist.rs and a job to \
                     .github/workflows/release.yml",
                    PLATFORMS
                        .iter()
                        .map(|platform| platform.target)
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            })
    }
}

/// What the packages say about themselves, from the workspace's `Cargo.toml`.
struct Workspace {
    version: String,
    license: String,
    repository: String,
}

impl Workspace {
    fn read() -> Result<Self> {
        let path = project::root().join("Cargo.toml");
        let manifest = read(&path)?;
        let field = |key: &str| {
            workspace_package_field(&manifest, key).ok_or_else(|| {
                Error::new(format!(
                    "dist: {} has no `{key} = \"...\"` under [workspace.package]",
                    path.display()
                ))
            })
        };
        Ok(Self {
            version: field("version")?,
            license: field("license")?,
            repository: field("repository")?,
        })
    }
}

/// A `key = "value"` line of the `[workspace.package]` table.
pub(crate) fn workspace_package_field(manifest: &str, key: &str) -> Option<String> {
    let (_, value) = project::toml_entries(manifest, "workspace.package")
        .into_iter()
        .find(|(name, _)| name == key)?;
    value
        .strip_prefix('"')?
        .strip_suffix('"')
        .map(str::to_owned)
}

/// What one run was asked to make.
#[derive(clap::Args)]
pub(crate) struct Options {
    /// The Rust target (its toolchain installed); the host's, built without --target, by default
    #[arg(long, value_name = "TRIPLE")]
    target: Option<String>,
    /// Leave out the main npm package, which is the same whatever the target
    #[arg(long)]
    platform_only: bool,
    /// Which build to pack: dev packs the one `cargo test` made, into target/ci/dist/ (ci's step)
    #[arg(long, value_enum, default_value_t = Profile::Release)]
    profile: Profile,
}

/// `cargo xtask dist [--target TRIPLE] [--platform-only] [--profile release|dev]`.
pub(crate) fn run(options: &Options) -> Result {
    if options.profile == Profile::Dev && options.target.is_some() {
        return Err(Error::new(
            "dist: --profile dev packs the host's dev build, which `cargo test` made; it takes \
             no --target",
        ));
    }
    make(options)
}

/// The `dist` step of `cargo xtask ci`: everything for the host, from the dev build, checked;
/// `cargo xtask dist --profile dev` by hand.
pub(crate) fn ci() -> Result {
    make(&Options {
        target: None,
        platform_only: false,
        profile: Profile::Dev,
    })
}

/// Where the npm packages of the last run are: `target/dist/npm/` (`cargo xtask dist`, as the
/// docs say) when it holds any, else `target/ci/dist/npm/` (ci's `dist` step); `None` before
/// any run.
pub(crate) fn npm_out() -> Option<PathBuf> {
    [Profile::Release, Profile::Dev]
        .into_iter()
        .map(|profile| profile.out().join("npm"))
        .find(|dir| {
            fs::read_dir(dir).is_ok_and(|entries| {
                entries
                    .filter_map(std::result::Result::ok)
                    .any(|entry| entry.path().extension().is_some_and(|ext| ext == "tgz"))
            })
        })
}

impl Profile {
    /// Where a run writes: the dev build's packages apart from the release's, so that the ones
    /// in `target/dist/` are always fit to publish.
    fn out(self) -> PathBuf {
        let target = project::root().join("target");
        match self {
            Self::Release => target.join("dist"),
            Self::Dev => target.join("ci").join("dist"),
        }
    }
}

/// What a run made, for the check.
pub(crate) struct Artifacts {
    platform: &'static Platform,
    workspace: Workspace,
    /// The main npm package's `.tgz`, unless `--platform-only`.
    main: Option<PathBuf>,
    /// The platform package's `.tgz`.
    platform_package: PathBuf,
    archive: PathBuf,
    checksum: PathBuf,
}

fn make(options: &Options) -> Result {
    let started = Instant::now();
    let out = &options.profile.out();
    let host = host_target()?;
    let target = options.target.clone().unwrap_or_else(|| host.clone());
    let platform = Platform::for_target(&target)?;
    let workspace = Workspace::read()?;
    let tools = Tools::new();
    if !options.platform_only {
        // Before the build, so a missing tool is said at once rather than after minutes.
        for program in ["openapi-typescript", "tsc"] {
            if !tools.npm_program(program).exists() {
                return Err(Error::new(format!(
                    "dist: {} is missing: run `cargo xtask tools` first (or pass --platform-only, \
                     which makes no main package)",
                    tools.npm_program(program).display()
                )));
            }
        }
    }
    let binary = options.profile.binary("dist", options.target.as_deref())?;
    let built = started.elapsed();

    recreate_dir(out)?;
    let npm_out = out.join("npm");
    create_dir(&npm_out)?;
    let stage = out.join(STAGE);

    let platform_dir = stage.join(platform.key());
    stage_platform(&platform_dir, platform, &workspace, &binary)?;
    let platform_package = npm_pack(&platform_dir, &npm_out)?;
    let main = if options.platform_only {
        None
    } else {
        let main_dir = stage.join(NAME);
        stage_main(&main_dir, &workspace, &tools)?;
        Some(npm_pack(&main_dir, &npm_out)?)
    };
    let (archive, checksum) = archive(out, platform, &workspace, &binary)?;

    let artifacts = Artifacts {
        platform,
        workspace,
        main,
        platform_package,
        archive,
        checksum,
    };
    println!(
        "dist: made in {:.1}s (the build {:.1}s):",
        started.elapsed().as_secs_f64(),
        built.as_secs_f64()
    );
    for file in [
        artifacts.main.as_ref(),
        Some(&artifacts.platform_package),
        Some(&artifacts.archive),
        Some(&artifacts.checksum),
    ]
    .into_iter()
    .flatten()
    {
        println!("  {:>9}  {}", size(file), project::relative(file));
    }
    if target == host {
        let checked = Instant::now();
        check::run(&artifacts)?;
        println!(
            "dist: checked in {:.1}s, as a user would use them",
            checked.elapsed().as_secs_f64()
        );
    } else {
        println!(
            "dist: not checked: the target {target} is not this machine's ({host}), so its \
             binary cannot run here"
        );
    }
    Ok(())
}

/// The host's target triple, from `rustc -vV`.
fn host_target() -> Result<String> {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let version = process::stdout(Command::new(rustc).arg("-vV"))?;
    version
        .lines()
        .find_map(|line| line.strip_prefix("host: "))
        .map(str::to_owned)
        .ok_or_else(|| Error::new(format!("dist: `rustc -vV` named no host:\n{version}")))
}

/// The platform package: its manifest, README and the binary, in `dir`.
fn stage_platform(dir: &Path, platform: &Platform, workspace: &Workspace, binary: &Path) -> Result {
    recreate_dir(dir)?;
    let values = [
        ("name", platform.package()),
        ("version", workspace.version.clone()),
        ("license", workspace.license.clone()),
        ("repository", workspace.repository.clone()),
        ("platform", platform.key()),
        ("target", platform.target.to_owned()),
        ("os", platform.os.to_owned()),
        ("cpu", platform.cpu.to_owned()),
    ];
    let templates = templates().join("platform");
    for file in ["package.json", "README.md"] {
        write(
            &dir.join(file),
            &render(&read(&templates.join(file))?, &values, &[])?,
        )?;
    }
    let bin = dir.join(platform.binary_in_package());
    create_dir(bin.parent().unwrap_or(dir))?;
    copy(binary, &bin)
}

/// The main package: its manifest and README, the `bin` script, `platforms.json`,
/// `openapi.yaml` and the types generated from it, in `dir`.
fn stage_main(dir: &Path, workspace: &Workspace, tools: &Tools) -> Result {
    recreate_dir(dir)?;
    let templates = templates().join(NAME);
    let (values, json) = main_values(workspace, &openapi_typescript_version(tools)?);
    for file in ["package.json", "README.md"] {
        write(
            &dir.join(file),
            &render(&read(&templates.join(file))?, &values, &json)?,
        )?;
    }
    let script = Path::new("bin").join(format!("{NAME}.js"));
    create_dir(&dir.join("bin"))?;
    copy(&templates.join(&script), &dir.join(&script))?;
    write(&dir.join("platforms.json"), &platforms_json())?;
    copy(&project::spec(), &dir.join("openapi.yaml"))?;
    let types = dir.join("types").join("index.d.ts");
    create_dir(&dir.join("types"))?;
    let mut generate = Command::new(tools.npm_program("openapi-typescript"));
    // As a frontend project runs it (docs/generated-types.md): without the flag, a property with
    // a `default` (the Cover's `pitch`) becomes required. The check compiles the contract tests'
    // `tests/fixtures/generated/cover.ts` against these types, which fails without it.
    generate
        .arg(project::spec())
        .args(["--default-non-nullable", "false"])
        .arg("--output")
        .arg(&types)
        .current_dir(project::root());
    println!("dist: {}", process::display(&generate));
    process::stdout(&mut generate).map(drop)
}

/// What the main package's templates are filled with: text, and JSON (for [`render`]).
type Values = Vec<(&'static str, String)>;

fn main_values(workspace: &Workspace, openapi_typescript: &str) -> (Values, Values) {
    let values = vec![
        ("name", NAME.to_owned()),
        ("version", workspace.version.clone()),
        ("license", workspace.license.clone()),
        ("repository", workspace.repository.clone()),
        ("binaryEnv", BINARY_ENV.to_owned()),
        (
            "platforms",
            PLATFORMS
                .iter()
                .map(|platform| format!("`{}`", platform.package()))
                .collect::<Vec<_>>()
                .join(", "),
        ),
        ("openapiTypescriptVersion", openapi_typescript.to_owned()),
    ];
    let optional_dependencies = InOrder(
        PLATFORMS
            .iter()
            .map(|platform| (platform.package(), workspace.version.clone()))
            .collect(),
    );
    // One level in, where the template's placeholder stands.
    let optional_dependencies = to_json(&optional_dependencies).replace('\n', "\n  ");
    (
        values,
        vec![("optionalDependencies", optional_dependencies)],
    )
}

/// The `version` of the installed openapi-typescript, as the npm README names it.
fn openapi_typescript_version(tools: &Tools) -> Result<String> {
    let manifest = tools
        .dir()
        .join("npm")
        .join("node_modules")
        .join("openapi-typescript")
        .join("package.json");
    #[derive(Deserialize)]
    struct Manifest {
        version: String,
    }
    serde_json::from_str::<Manifest>(&read(&manifest)?)
        .map(|manifest| manifest.version)
        .map_err(|e| Error::new(format!("dist: {}: {e}", manifest.display())))
}

/// `platforms.json`, what the `bin` script reads: the variable that overrides the binary, and
/// for each platform key its package and the binary's path in it.
fn platforms_json() -> String {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct PlatformsJson {
        binary_env: &'static str,
        platforms: InOrder<Entry>,
    }
    #[derive(Serialize)]
    struct Entry {
        package: String,
        binary: String,
    }
    let platforms = PLATFORMS.iter().map(|platform| {
        let entry = Entry {
            package: platform.package(),
            binary: platform.binary_in_package(),
        };
        (platform.key(), entry)
    });
    to_json(&PlatformsJson {
        binary_env: BINARY_ENV,
        platforms: InOrder(platforms.collect()),
    }) + "\n"
}

/// Pairs written as a JSON object in their order ([`PLATFORMS`]'), which a map would sort.
struct InOrder<V>(Vec<(String, V)>);

impl<V: Serialize> Serialize for InOrder<V> {
    fn serialize<S: serde::Serializer>(
        &self,
        serializer: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        serializer.collect_map(self.0.iter().map(|(key, value)| (key, value)))
    }
}

/// `value` as JSON, two spaces an indent, as npm writes a `package.json`.
fn to_json(value: &impl Serialize) -> String {
    // Strings, and maps with string keys: serializing them cannot fail.
    serde_json::to_string_pretty(value).unwrap_or_default()
}

/// The folder of the npm package templates.
fn templates() -> PathBuf {
    project::root().join("npm")
}

/// Fills a template: `"{{key}}"` (quotes included) becomes the JSON of `json`'s entry, then
/// `{{key}}` the text of `values`' entry, escaped for a JSON string when the template is JSON
/// (a README's text is left as it is). A placeholder left over is an error: a template and
/// this file disagree.
fn render(template: &str, values: &[(&str, String)], json: &[(&str, String)]) -> Result<String> {
    let is_json = template.trim_start().starts_with('{');
    let mut text = template.to_owned();
    for (key, value) in json {
        text = text.replace(&format!("\"{{{{{key}}}}}\""), value);
    }
    for (key, value) in values {
        let value = if is_json {
            json_escape(value)
        } else {
            value.clone()
        };
        text = text.replace(&format!("{{{{{key}}}}}"), &value);
    }
    match text.find("{{") {
        None => Ok(text),
        Some(at) => {
            let rest = &text[at..];
            let placeholder = rest.split("}}").next().unwrap_or(rest);
            Err(Error::new(format!(
                "dist: a template of npm/ has the placeholder `{placeholder}}}}}`, which \
                 xtask/src/dist.rs does not fill"
            )))
        }
    }
}

/// `text` escaped for the inside of a JSON string.
fn json_escape(text: &str) -> String {
    let quoted = to_json(&text);
    quoted[1..quoted.len() - 1].to_owned()
}

/// The program of an npm command: on Windows, the `.cmd` shim npm installs.
pub(crate) fn npm_command(name: &str) -> String {
    if cfg!(windows) {
        format!("{name}.cmd")
    } else {
        name.to_owned()
    }
}

/// `npm pack` of the package in `dir` into `out`; the `.tgz` made.
fn npm_pack(dir: &Path, out: &Path) -> Result<PathBuf> {
    let mut pack = Command::new(npm_command("npm"));
    pack.args(["pack", "--ignore-scripts", "--pack-destination"])
        .arg(out)
        .current_dir(dir);
    println!(
        "dist: {}  (in {})",
        process::display(&pack),
        project::relative(dir)
    );
    let printed = process::stdout(&mut pack)?;
    let file = printed
        .lines()
        .map(str::trim)
        .rfind(|line| line.ends_with(".tgz"))
        .ok_or_else(|| {
            Error::new(format!(
                "dist: `npm pack` in {} named no .tgz; it printed:\n{printed}",
                dir.display()
            ))
        })?;
    Ok(out.join(file))
}

/// `NAME-VERSION-TARGET.tar.gz` of a folder of that name holding the binary and the mock's
/// README, and its `.sha256`: `HASH  FILE`, as `sha256sum` writes and `sha256sum -c` reads it.
fn archive(
    out: &Path,
    platform: &Platform,
    workspace: &Workspace,
    binary: &Path,
) -> Result<(PathBuf, PathBuf)> {
    let name = format!("{NAME}-{}-{}", workspace.version, platform.target);
    let staged_relative = Path::new(STAGE).join("archive");
    let staged = out.join(&staged_relative);
    let folder = staged.join(&name);
    recreate_dir(&folder)?;
    copy(binary, &folder.join(platform.binary()))?;
    copy(
        &project::root().join("crates").join(NAME).join("README.md"),
        &folder.join("README.md"),
    )?;
    let file_name = format!("{name}.tar.gz");
    let archive = out.join(&file_name);
    // Relative paths only: GNU tar (Git for Windows' too) reads `D:\...` as a remote host.
    let mut tar = Command::new("tar");
    tar.arg("-czf")
        .arg(&file_name)
        .arg("-C")
        .arg(&staged_relative)
        .arg(&name)
        .current_dir(out);
    println!("dist: {}", process::display(&tar));
    process::stdout(&mut tar)?;
    let hash = sha256_hex(&archive).map_err(project::failed("read", &archive))?;
    let checksum = out.join(format!("{file_name}.sha256"));
    write(&checksum, &format!("{hash}  {file_name}\n"))?;
    Ok((archive, checksum))
}

/// The file's SHA-256 in lowercase hex, as `sha256sum` prints it: computed here because the
/// release runners do not share one checksum program (`sha256sum` on Linux, `shasum` on macOS,
/// neither on Windows' default PATH).
fn sha256_hex(path: &Path) -> io::Result<String> {
    let mut hash = Sha256::new();
    io::copy(&mut File::open(path)?, &mut hash)?;
    Ok(format!("{:x}", hash.finalize()))
}

/// A file's size for people: `12.3 MB`, `15.0 kB`.
fn size(path: &Path) -> String {
    let bytes = fs::metadata(path).map_or(0, |metadata| metadata.len()) as f64;
    if bytes >= 1e6 {
        format!("{:.1} MB", bytes / 1e6)
    } else {
        format!("{:.1} kB", bytes / 1e3)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The release workflow builds exactly [`PLATFORMS`]: one job per target, each running
    /// `cargo xtask dist --target` with its target.
    #[test]
    fn the_release_workflow_builds_every_platform() {
        let path = project::root()
            .join(".github")
            .join("workflows")
            .join("release.yml");
        let workflow = read(&path).unwrap_or_else(|e| panic!("{e}"));
        let mut targets: Vec<&str> = workflow
            .lines()
            .filter_map(|line| line.trim().strip_prefix("- target: "))
            .map(str::trim)
            .collect();
        targets.sort_unstable();
        let mut expected: Vec<&str> = PLATFORMS.iter().map(|platform| platform.target).collect();
        expected.sort_unstable();
        assert_eq!(targets, expected, "{}", project::relative(&path));
        assert!(
            workflow.contains("cargo xtask dist --target ${{ matrix.target }}"),
            "the workflow must build each target with `cargo xtask dist --target`"
        );
    }

    /// The packages' version, licence and repository are the workspace's, and the mock inherits
    /// them: what npm says is what cargo says.
    #[test]
    fn the_workspace_fields_are_read_and_the_mock_inherits_them() {
        let workspace = Workspace::read().unwrap_or_else(|e| panic!("{e}"));
        assert!(!workspace.version.is_empty());
        assert!(workspace.repository.starts_with("https://"));
        let mock = read(&project::root().join("crates").join(NAME).join("Cargo.toml"))
            .unwrap_or_else(|e| panic!("{e}"));
        for field in ["version", "license", "repository"] {
            assert!(
                mock.lines()
                    .any(|line| line.trim() == format!("{field}.workspace = true")),
                "crates/{NAME}/Cargo.toml must say `{field}.workspace = true`"
            );
        }
        let manifest = "[package]\nversion = \"9\"\n[workspace.package]\n# a comment\n\
                        version = \"0.3.0-rc.1\"\nlicense = \"MIT\"\n[other]\nlicense = \"x\"\n";
        assert_eq!(
            workspace_package_field(manifest, "version").as_deref(),
            Some("0.3.0-rc.1")
        );
        assert_eq!(
            workspace_package_field(manifest, "license").as_deref(),
            Some("MIT")
        );
        assert_eq!(workspace_package_field(manifest, "repository"), None);
    }

    /// Every template of npm/ renders to text with no placeholder left, and the manifests to
    /// what the packages need: the main one lists every platform package at the same version,
    /// exports the types, and the platform one has its `os` and `cpu`.
    #[test]
    fn the_templates_render_completely() {
        let workspace = Workspace {
            version: "1.2.3".to_owned(),
            license: "MIT OR Apache-2.0".to_owned(),
            repository: "https://example.invalid/repo".to_owned(),
        };
        let (dir, platform) = (crate::scratch("dist"), &PLATFORMS[4]);
        let binary = dir.join("binary");
        crate::put(&binary, "not really");
        stage_platform(&dir.join("platform"), platform, &workspace, &binary)
            .unwrap_or_else(|e| panic!("{e}"));
        let manifest = read(&dir.join("platform/package.json")).unwrap_or_else(|e| panic!("{e}"));
        let copied = dir.join("platform/bin/musicgpt-cover-mock.exe").is_file();
        assert!(manifest.contains("\"name\": \"@musicgpt-cover-mock/win32-x64\""));
        assert!(manifest.contains("\"os\": [\n    \"win32\"\n  ]"));
        assert!(manifest.contains("\"cpu\": [\n    \"x64\"\n  ]"));
        assert!(manifest.contains("\"version\": \"1.2.3\""));
        assert!(copied, "the binary is not in the platform package");

        let (values, json) = main_values(&workspace, "7.0.0");
        let main_template = |file: &str| {
            let template =
                read(&templates().join(NAME).join(file)).unwrap_or_else(|e| panic!("{e}"));
            render(&template, &values, &json).unwrap_or_else(|e| panic!("{file}: {e}"))
        };
        let main = main_template("package.json");
        assert!(main.contains(
            "\"optionalDependencies\": {\n    \"@musicgpt-cover-mock/linux-x64\": \"1.2.3\",\n"
        ));
        assert_eq!(main.matches("\": \"1.2.3\"").count(), PLATFORMS.len() + 1);
        assert!(main.contains("\"types\": \"./types/index.d.ts\""));
        assert!(main.contains("\"bin/musicgpt-cover-mock.js\""));
        let readme = main_template("README.md");
        assert!(readme.contains("`@musicgpt-cover-mock/win32-x64`"));
        assert!(readme.contains("MUSICGPT_COVER_MOCK_BINARY_PATH=/path/to/musicgpt-cover-mock"));
        assert!(
            templates()
                .join(NAME)
                .join("bin")
                .join(format!("{NAME}.js"))
                .is_file()
        );
    }

    #[test]
    fn a_placeholder_left_over_is_an_error_and_values_are_escaped() {
        let rendered = render(
            "{\"a\": \"{{a}}\", \"b\": \"{{b}}\"}",
            &[("a", "say \"hi\"".to_owned()), ("b", "x".to_owned())],
            &[],
        );
        assert_eq!(
            rendered.ok().as_deref(),
            Some("{\"a\": \"say \\\"hi\\\"\", \"b\": \"x\"}")
        );
        let left = render(
            "# {{title}} and {{other}}",
            &[("title", "T".to_owned())],
            &[],
        );
        assert!(
            left.as_ref()
                .is_err_and(|error| error.to_string().contains("`{{other}}`")),
            "{left:?}"
        );
        assert_eq!(
            render("\"{{deps}}\"", &[], &[("deps", "{}".to_owned())])
                .ok()
                .as_deref(),
            Some("{}")
        );
    }

    #[test]
    fn platforms_are_unique_found_by_target_and_in_platforms_json() {
        let json = platforms_json();
        assert!(json.contains("\"binaryEnv\": \"MUSICGPT_COVER_MOCK_BINARY_PATH\""));
        assert!(json.contains(
            "    \"linux-x64\": {\n      \"package\": \"@musicgpt-cover-mock/linux-x64\",\n      \
             \"binary\": \"bin/musicgpt-cover-mock\"\n    }"
        ));
        assert!(json.contains("\"binary\": \"bin/musicgpt-cover-mock.exe\""));
        assert_eq!(json.matches("\"package\"").count(), PLATFORMS.len());
        let mut keys: Vec<String> = PLATFORMS.iter().map(Platform::key).collect();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(keys.len(), PLATFORMS.len());
        assert_eq!(
            Platform::for_target("aarch64-apple-darwin")
                .map(Platform::key)
                .ok(),
            Some("darwin-arm64".to_owned())
        );
        assert!(Platform::for_target("riscv64gc-unknown-linux-gnu").is_err());
    }

    /// FIPS 180-4's one-block example: the format `sha256sum` writes (64 lowercase hex digits).
    #[test]
    fn a_file_hashes_as_sha256sum_prints_it() {
        let dir = crate::scratch("sha256");
        let path = dir.join("abc");
        crate::put(&path, "abc");
        assert_eq!(
            sha256_hex(&path).ok().as_deref(),
            Some("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        );
    }

    #[test]
    fn the_arguments_are_read() {
        let parse = crate::parse::<Options>;
        let options = parse(&["--target", "x86_64-apple-darwin", "--platform-only"])
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(options.target.as_deref(), Some("x86_64-apple-darwin"));
        assert!(options.platform_only);
        assert_eq!(options.profile, Profile::Release);
        assert!(parse(&["--target"]).is_err());
        assert!(parse(&["--release"]).is_err());
        let dev = parse(&["--profile", "dev"]).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((dev.profile, dev.target), (Profile::Dev, None));
        let dev_for_a_target = parse(&["--profile", "dev", "--target", "x86_64-apple-darwin"])
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(run(&dev_for_a_target).is_err_and(|e| e.to_string().contains("no --target")));
        assert!(parse(&["--profile", "bench"]).is_err());
    }
}
