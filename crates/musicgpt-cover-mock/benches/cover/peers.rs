//! The mocks users would pick instead of this one, started as child processes in their fast
//! configuration, for the throughput rows and the start-up table: Prism (`prism mock`, from
//! `cargo xtask tools`), WireMock's standalone jar on the system's Java and Mockoon's CLI (both
//! from `cargo xtask tools --bench`, which CI does not install). A peer that is not installed is
//! left out, and the run says so; so is one given `--no-NAME`.
//!
//! Every peer answers the spec's first example of each operation's 200 answer: Prism picks it
//! itself; WireMock is given one stub per operation with that body; Mockoon is given the spec
//! imported by its own `mockoon-cli import`, each operation's route then cut down to that one
//! answer with templating off. WireMock and Mockoon serve the spec's paths under `/api/public`
//! as the mock does, Prism without it.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use musicgpt_cover_mock::api_base_path;
use musicgpt_cover_mock::openapi_document::{self, Tree};
use serde_norway::Value as Yaml;

use crate::child::{ChildServer, free_port, spec_path, tools_dir};
use crate::common::Temp;
use crate::common::spec::operation;
use crate::options::Options;

/// A mock the bench measures beside this one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Prism,
    WireMock,
    Mockoon,
}

/// The operations every peer is set up to answer (the throughput rows' and the start-up poll's),
/// by operationId.
const OPERATIONS: [&str; 3] = ["cover", "getConversionById", "getAllVoices"];

impl Kind {
    pub(crate) const ALL: [Kind; 3] = [Kind::Prism, Kind::WireMock, Kind::Mockoon];

    pub(crate) fn name(self) -> &'static str {
        match self {
            Kind::Prism => "Prism",
            Kind::WireMock => "WireMock",
            Kind::Mockoon => "Mockoon",
        }
    }

    /// The option that leaves it out.
    pub(crate) fn flag(self) -> String {
        format!("--no-{}", self.name().to_lowercase())
    }

    /// What its requests' paths start with.
    pub(crate) fn prefix(self) -> String {
        match self {
            Kind::Prism => String::new(),
            Kind::WireMock | Kind::Mockoon => api_base_path(),
        }
    }

    /// What it does for each request, as run here: what the mock does that it does not, for the
    /// reason a mock/peer target is missed.
    pub(crate) fn per_request(self) -> &'static str {
        match self {
            Kind::Prism => {
                "Prism checks each request against the spec and answers the spec's example: no \
                 task kept, no journal, no upload probed"
            }
            Kind::WireMock => {
                "WireMock matches each request's method and path to a stub and answers its fixed \
                 body, with no request journal, no logging and no templating: no check, no task \
                 kept, no upload probed"
            }
            Kind::Mockoon => {
                "Mockoon matches each request's method and path to a route and answers its fixed \
                 body, untemplated, logging the request to stdout: no check, no task kept, no \
                 upload probed"
            }
        }
    }

    /// How it is run, and why that is its fast configuration, for BENCHMARKS.md's method text.
    pub(crate) fn configured(self, concurrency: usize) -> String {
        match self {
            Kind::Prism => "`prism mock openapi.yaml -v silent` (paths without `/api/public`): \
                            the spec as it is, at its quietest logging; Prism has no other \
                            setting that makes it faster"
                .to_owned(),
            Kind::WireMock => format!(
                "`java -jar wiremock-standalone.jar --no-request-journal \
                 --disable-request-logging --disable-response-templating --disable-gzip \
                 --disable-banner --disable-extensions-scanning --container-threads {}` with \
                 one stub per operation (`urlPath`, method) answering the spec's first 200 \
                 example as a fixed body: its performance-testing setup (no journal to grow and \
                 search, nothing logged or templated, no gzip for the load generator, which does \
                 not ask for it), Jetty given a thread for every connection and room for its \
                 acceptors and selectors, the JVM's defaults otherwise",
                container_threads(concurrency)
            ),
            Kind::Mockoon => "`mockoon-cli start --disable-log-to-file --disable-admin-api` on \
                              the spec imported by `mockoon-cli import`, each operation's route \
                              cut down to one answer, the spec's first 200 example, with \
                              templating off: the import's own first answer is a faker \
                              template rendered per request, and one answer needs no rule to \
                              pick it; it still logs each request to stdout (sent to /dev/null), \
                              which its CLI cannot turn off"
                .to_owned(),
        }
    }
}

/// Jetty's threads for `concurrency` connections: one each, and room for its acceptor and
/// selector threads, which come out of the same pool.
fn container_threads(concurrency: usize) -> usize {
    concurrency + 16
}

/// A peer found installed and set up to start: its program and its files.
pub(crate) struct Program {
    pub(crate) kind: Kind,
    pub(crate) version: String,
    program: PathBuf,
    /// WireMock's jar or Mockoon's data file.
    file: PathBuf,
    /// The folder of its set-up files (removed when dropped).
    dir: Option<Temp>,
}

/// A peer, started (its program kept: its set-up files stay while it runs); stopped when
/// dropped.
pub(crate) struct Started {
    pub(crate) kind: Kind,
    pub(crate) program: Program,
    pub(crate) server: ChildServer,
}

/// A peer this run does not measure, and why.
pub(crate) struct LeftOut {
    pub(crate) kind: Kind,
    /// Why, as a sentence's end: "not installed (...)", "left out in this run (`--no-...`)".
    pub(crate) why: String,
}

/// The peers `o` asks for, started, and each one left out with why.
pub(crate) fn start_all(o: &Options) -> Result<(Vec<Started>, Vec<LeftOut>), String> {
    let mut started = Vec::new();
    let mut left_out = Vec::new();
    let why = |kind: Kind| format!("left out of this run (`{}`)", kind.flag());
    for (kind, found) in find(o, why)? {
        match found {
            Ok(program) => {
                println!("\nstarting {} {}", kind.name(), program.version);
                started.push(Started {
                    kind,
                    server: program.start(o.concurrency)?,
                    program,
                });
            }
            Err(why) => {
                if o.peers.contains(&kind) {
                    println!("\n{} left out: {why}", kind.name());
                }
                left_out.push(LeftOut { kind, why });
            }
        }
    }
    Ok((started, left_out))
}

/// A peer found and set up, or why it is left out.
type Found = Result<Program, String>;

/// The peers `o` asks for, each found and set up, or why it is left out (not installed here); then
/// those it leaves out, `left_out` saying why. Prism is one of the pinned tools every checkout
/// installs: only a smoke run goes on without it. WireMock and Mockoon are the bench's own,
/// installed apart, and left out when missing. A peer found but not set up (its stubs or routes
/// not made from the spec) is an error of the bench's own: the run is not valid.
pub(crate) fn find(
    o: &Options,
    left_out: fn(Kind) -> String,
) -> Result<Vec<(Kind, Found)>, String> {
    let mut found = Vec::new();
    for &kind in &o.peers {
        match Program::find(kind) {
            Ok(program) => found.push((kind, Ok(program.set_up()?))),
            Err(why) if kind == Kind::Prism && !o.smoke => return Err(why),
            Err(why) => found.push((kind, Err(why))),
        }
    }
    let others = Kind::ALL.into_iter().filter(|k| !o.peers.contains(k));
    found.extend(others.map(|kind| (kind, Err(left_out(kind)))));
    Ok(found)
}

impl Program {
    fn find(kind: Kind) -> Result<Program, String> {
        let missing = |what: &Path| {
            format!(
                "{} is not installed ({} is missing: run `cargo xtask tools --bench`)",
                kind.name(),
                what.display(),
            )
        };
        // A fresh folder for its set-up files.
        let set_up_dir = || {
            let pid = std::process::id();
            Temp::dir(&format!(
                "musicgpt-bench-{}-{pid}",
                kind.name().to_lowercase()
            ))
        };
        match kind {
            Kind::Prism => {
                let program = tools_dir().join("npm/node_modules/.bin/prism");
                if !program.is_file() {
                    return Err(format!(
                        "Prism is not installed ({} is missing: run `cargo xtask tools`, or give --no-prism)",
                        program.display()
                    ));
                }
                // Its version, as it prints it.
                let version = Command::new(&program)
                    .arg("--version")
                    .stdin(Stdio::null())
                    .stderr(Stdio::null())
                    .output()
                    .ok()
                    .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
                    .filter(|v| !v.is_empty())
                    .unwrap_or_else(|| "?".to_owned());
                Ok(Program {
                    kind,
                    version,
                    program,
                    file: spec_path(),
                    dir: None,
                })
            }
            Kind::WireMock => {
                let package = tools_dir().join("bench-npm/node_modules/wiremock");
                let jar = std::fs::read_dir(package.join("build"))
                    .ok()
                    .and_then(|entries| {
                        entries.flatten().map(|e| e.path()).find(|p| {
                            p.extension().is_some_and(|e| e == "jar")
                                && p.file_name()
                                    .and_then(|n| n.to_str())
                                    .is_some_and(|n| n.starts_with("wiremock-standalone"))
                        })
                    })
                    .ok_or_else(|| missing(&package.join("build/wiremock-standalone-*.jar")))?;
                let java = java_version()?;
                let dir = set_up_dir()?;
                // Its folder goes with it (Drop), also when set_up cannot write a stub.
                Ok(Program {
                    kind,
                    version: format!("{} on {java}", package_version(&package)),
                    program: PathBuf::from("java"),
                    file: jar,
                    dir: Some(dir),
                })
            }
            Kind::Mockoon => {
                let bench = tools_dir().join("bench-npm/node_modules");
                let cli = bench.join(".bin/mockoon-cli");
                if !cli.is_file() {
                    return Err(missing(&cli));
                }
                let dir = set_up_dir()?;
                Ok(Program {
                    kind,
                    version: package_version(&bench.join("@mockoon/cli")),
                    program: cli,
                    file: dir.0.join("environment.json"),
                    dir: Some(dir),
                })
            }
        }
    }

    /// Gives it the spec's answers: WireMock's stubs, Mockoon's environment (Prism reads the
    /// spec itself).
    fn set_up(self) -> Result<Program, String> {
        match (self.kind, &self.dir) {
            (Kind::WireMock, Some(dir)) => write_wiremock_stubs(&dir.0)?,
            (Kind::Mockoon, Some(_)) => mockoon_environment(&self.program, &self.file)?,
            _ => {}
        }
        Ok(self)
    }

    /// Starts it on a free port of 127.0.0.1, up and answering (see [`ChildServer::start`]).
    pub(crate) fn start(&self, concurrency: usize) -> Result<ChildServer, String> {
        let port = free_port()?;
        let port_text = port.to_string();
        let mut command = Command::new(&self.program);
        match self.kind {
            Kind::Prism => {
                command
                    .arg("mock")
                    .arg(&self.file)
                    .args(["--host", "127.0.0.1", "--port", &port_text])
                    .args(["-v", "silent"]);
            }
            Kind::WireMock => {
                command
                    .arg("-jar")
                    .arg(&self.file)
                    .args(["--port", &port_text, "--bind-address", "127.0.0.1"])
                    .arg("--root-dir")
                    .args(self.dir.iter().map(|d| &d.0))
                    .args([
                        "--no-request-journal",
                        "--disable-request-logging",
                        "--disable-response-templating",
                        "--disable-gzip",
                        "--disable-banner",
                        "--disable-extensions-scanning",
                        "--container-threads",
                        &container_threads(concurrency).to_string(),
                    ]);
            }
            Kind::Mockoon => {
                command
                    .arg("start")
                    .arg("--data")
                    .arg(&self.file)
                    .args(["--port", &port_text, "--hostname", "127.0.0.1"])
                    .args(["--disable-log-to-file", "--disable-admin-api"]);
            }
        }
        ChildServer::start(command, port, &self.kind.prefix(), self.kind.name())
    }
}

/// An npm package's version, from its package.json.
fn package_version(package: &Path) -> String {
    std::fs::read_to_string(package.join("package.json"))
        .ok()
        .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
        .and_then(|json| json["version"].as_str().map(str::to_owned))
        .unwrap_or_else(|| "?".to_owned())
}

/// `java -version`'s first line, or why WireMock cannot run.
fn java_version() -> Result<String, String> {
    let output = Command::new("java")
        .arg("-version")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("WireMock needs Java 11 or newer on the PATH (`java`: {e})"))?;
    let text = String::from_utf8_lossy(&output.stderr);
    match (output.status.success(), text.lines().next()) {
        (true, Some(line)) => Ok(line.replace('"', "").trim().to_owned()),
        _ => Err(format!(
            "WireMock needs Java on the PATH; `java -version` failed ({})",
            output.status
        )),
    }
}

/// The spec's first example of the 200 answer of `method` `path`, as JSON text (the file's order
/// of keys and of examples, as Prism picks it).
fn first_example(method: &str, path: &str) -> Result<String, String> {
    let root = openapi_document::document()?.yaml();
    let where_ = format!("{} {path}", method.to_uppercase());
    let answer = root
        .member("paths")
        .and_then(|p| p.member(path))
        .and_then(|p| p.member(&method.to_lowercase()))
        .and_then(|o| o.member("responses"))
        .and_then(|r| r.member("200"))
        .and_then(|a| openapi_document::resolve(root, a))
        .and_then(|a| a.member("content"))
        .and_then(|c| c.member("application/json"))
        .ok_or_else(|| format!("the spec has no JSON 200 answer for {where_}"))?;
    let example = match answer.member("example") {
        Some(example) => example,
        None => answer
            .member("examples")
            .and_then(Yaml::as_mapping)
            .and_then(|m| m.values().next())
            .and_then(|e| openapi_document::resolve(root, e))
            .and_then(|e| e.member("value"))
            .ok_or_else(|| format!("the spec has no example of {where_}'s 200 answer"))?,
    };
    serde_json::to_string(example).map_err(|e| format!("{where_}'s example: {e}"))
}

/// WireMock's `mappings/`: one stub per operation, a fixed JSON body.
fn write_wiremock_stubs(dir: &Path) -> Result<(), String> {
    let mappings = dir.join("mappings");
    std::fs::create_dir_all(&mappings).map_err(|e| format!("{}: {e}", mappings.display()))?;
    for (i, id) in OPERATIONS.into_iter().enumerate() {
        let (method, path) = operation(id)?;
        let stub = serde_json::json!({
            "request": {
                "method": method.to_uppercase(),
                "urlPath": format!("{}{path}", api_base_path()),
            },
            "response": {
                "status": 200,
                "headers": {"Content-Type": "application/json"},
                "body": first_example(method, path)?,
            },
        });
        let file = mappings.join(format!("{i}.json"));
        std::fs::write(&file, stub.to_string()).map_err(|e| format!("{}: {e}", file.display()))?;
    }
    Ok(())
}

/// Mockoon's data file: the spec imported by `mockoon-cli import` into `file`, then each
/// operation's route cut down to one answer, the spec's first example, templating off.
fn mockoon_environment(cli: &Path, file: &Path) -> Result<(), String> {
    let output = Command::new(cli)
        .arg("import")
        .arg("--input")
        .arg(spec_path())
        .arg("--output")
        .arg(file)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("could not run {}: {e}", cli.display()))?;
    if !output.status.success() {
        return Err(format!(
            "`mockoon-cli import` of openapi.yaml failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    let text = std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?;
    let mut environment: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("Mockoon's import: {e}"))?;
    let routes = environment["routes"]
        .as_array_mut()
        .ok_or("Mockoon's import has no routes")?;
    for id in OPERATIONS {
        let (method, path) = operation(id)?;
        let endpoint = path.trim_start_matches('/');
        let route = routes
            .iter_mut()
            .find(|r| r["method"] == method.to_lowercase() && r["endpoint"] == endpoint)
            .ok_or_else(|| format!("Mockoon's import has no route {method} {endpoint}"))?;
        let responses = route["responses"]
            .as_array_mut()
            .ok_or_else(|| format!("Mockoon's route {method} {endpoint} has no answers"))?;
        let mut answer = responses
            .iter()
            .find(|r| r["statusCode"] == 200)
            .cloned()
            .ok_or_else(|| format!("Mockoon's route {method} {endpoint} has no 200 answer"))?;
        answer["body"] = serde_json::Value::String(first_example(method, path)?);
        answer["disableTemplating"] = serde_json::Value::Bool(true);
        answer["default"] = serde_json::Value::Bool(true);
        answer["rules"] = serde_json::json!([]);
        *responses = vec![answer];
    }
    std::fs::write(file, environment.to_string()).map_err(|e| format!("{}: {e}", file.display()))
}
