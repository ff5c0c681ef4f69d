//! `cargo xtask verify-live [--spend] [--task-id ID] [--upstream URL] [--strict] [--record DIR]`: a short,
//! cheap sequence of calls to the real API through the mock's proxy mode
//! (`musicgpt-cover-mock proxy`), which holds each exchange against openapi.yaml; prints every
//! violation the proxy reported and fails if any is an error.
//!
//! The sequence: list voices, search voices, `GET /v1/byId` of `--task-id` (or of an id no task
//! has, whose documented answer is a 404); with `--spend` only, a Cover (which costs credits on
//! the real API) and a few polls of it. The key comes from `MUSICGPT_API_KEY` and goes only to the
//! proxy, on loopback; the proxy journals it redacted. With `--record DIR` the proxy writes each
//! exchange to DIR (`proxy --record`), a session a mock can answer from later (`--replay DIR`).
//!
//! It needs the network, so CI cannot run it against the real API; the tests below run it
//! against local upstreams instead: the mock itself (nothing to report, a Cover included) and a
//! server that breaks the spec (each break reported; `--strict` turns it into a 502).

use std::net::SocketAddr;
use std::path::Path;
use std::thread;
use std::time::Duration;

use serde_json::value::RawValue;

use crate::spec::Spec;
use crate::{Error, Result, mock, package};

/// The variable the key is read from.
const KEY_VARIABLE: &str = "MUSICGPT_API_KEY";
/// The header the proxy lists violations in.
const VIOLATIONS_HEADER: &str = "x-contract-violations";
/// How long the proxy may take to start, and a call to be answered.
const START_LIMIT: Duration = Duration::from_secs(60);
const CALL_LIMIT: Duration = Duration::from_secs(120);
/// Polls of a new Cover with `--spend`, and the pause between them.
const POLLS: usize = 5;
const POLL_PAUSE: Duration = Duration::from_secs(2);

/// What to run. The key is read from MUSICGPT_API_KEY (required for the real API).
#[derive(clap::Args, Debug, Clone, Default)]
pub(crate) struct Options {
    /// Also POST /v1/Cover (costs credits) and poll it a few times
    #[arg(long)]
    pub(crate) spend: bool,
    /// Also GET /v1/byId of this task (default: an id no task has, answered 404)
    #[arg(long, value_name = "ID")]
    pub(crate) task_id: Option<String>,
    /// The API's base URL (default: the spec's first server, the real API)
    #[arg(long, value_name = "URL")]
    pub(crate) upstream: Option<String>,
    /// Run the proxy with --strict (a violation becomes a 502)
    #[arg(long)]
    pub(crate) strict: bool,
    /// Record the session to DIR (one JSON file per exchange, the key redacted), for
    /// `musicgpt-cover-mock --replay DIR`
    #[arg(long, value_name = "DIR")]
    pub(crate) record: Option<String>,
}

/// One call of the sequence and what the proxy said about it.
#[derive(Debug, Clone)]
pub(crate) struct Step {
    pub(crate) call: String,
    pub(crate) status: u16,
    /// The violations, each a JSON object as the header carries it.
    pub(crate) violations: Vec<String>,
}

impl Step {
    fn errors(&self) -> usize {
        self.violations.iter().filter(|v| is_error(v)).count()
    }
}

fn is_error(violation: &str) -> bool {
    string_at(violation, "/severity").as_deref() == Some("Error")
}

pub(crate) fn run(options: &Options) -> Result {
    let key = key_for(options, std::env::var(KEY_VARIABLE).ok())?;
    let binary = mock::build("verify-live", false, None)?;
    let steps = verify(&binary, options, &key)?;
    report(&steps)
}

/// The key to send: `MUSICGPT_API_KEY`'s value; required for the real API, any for another
/// upstream (the mock takes any key).
fn key_for(options: &Options, variable: Option<String>) -> Result<String> {
    match variable {
        Some(key) if !key.trim().is_empty() => Ok(key),
        _ if options.upstream.is_none() => Err(Error::new(format!(
            "verify-live: set {KEY_VARIABLE} to your API key; it calls the real API (or give --upstream URL to call another)"
        ))),
        _ => Ok("verify-live-local-key".to_owned()),
    }
}

/// Prints each step and its violations; fails if any is an error.
fn report(steps: &[Step]) -> Result {
    let mut errors = 0;
    let mut total = 0;
    for step in steps {
        println!("verify-live: {} -> {}", step.call, step.status);
        for v in &step.violations {
            println!("    {v}");
        }
        errors += step.errors();
        total += step.violations.len();
    }
    if errors == 0 {
        println!(
            "verify-live: {} calls, no error ({total} warning(s))",
            steps.len()
        );
        Ok(())
    } else {
        Err(Error::new(format!(
            "verify-live: {errors} violation(s) of openapi.yaml in {} calls (listed above)",
            steps.len()
        )))
    }
}

/// Starts the proxy in front of the options' upstream and runs the sequence through it.
pub(crate) fn verify(binary: &Path, options: &Options, key: &str) -> Result<Vec<Step>> {
    let mut args = vec!["proxy", "--addr", "127.0.0.1:0"];
    if let Some(upstream) = &options.upstream {
        args.extend(["--upstream", upstream]);
    }
    if options.strict {
        args.push("--strict");
    }
    if let Some(dir) = &options.record {
        args.extend(["--record", dir]);
    }
    let (_proxy, banner) = mock::start(binary, &args, "proxy on http://", START_LIMIT)?;
    // `musicgpt-cover-mock proxy on http://127.0.0.1:PORT/api/public -> UPSTREAM`
    let base = banner
        .split_whitespace()
        .find(|w| w.starts_with("http://127.0.0.1:"))
        .ok_or_else(|| Error::new(format!("verify-live: no address in the banner `{banner}`")))?
        .to_owned();
    println!("verify-live: {banner}");
    let proxy = Proxy::new(&base, key)?;
    let spec = Spec::read()?;
    let by_task = format!(
        "{}?conversionType={}&task_id=",
        spec.path("getConversionById")?,
        spec.cover_conversion_type()?
    );
    let mut steps = Vec::new();

    let voices = proxy.get(&format!("{}?limit=5", spec.path("getAllVoices")?))?;
    let voice = string_at(&voices.body, "/voices/0/voice_id");
    steps.push(voices.step);
    let search = format!("{}?query=a&limit=5", spec.path("searchVoices")?);
    steps.push(proxy.get(&search)?.step);
    let task = options
        .task_id
        .clone()
        .unwrap_or_else(|| "verify-live-no-such-task".to_owned());
    steps.push(
        proxy
            .get(&format!("{by_task}{}", percent_encode(&task)))?
            .step,
    );
    if options.spend {
        let voice = voice.ok_or_else(|| {
            Error::new("verify-live: the voice list named no voice_id to sing the cover with")
        })?;
        let (content_type, body) = package::cover_form(&voice, spec.cover_example("audio_url")?);
        let cover = proxy.call("POST", spec.path("cover")?, Some((&content_type, &body)))?;
        let task_id = string_at(&cover.body, "/task_id");
        steps.push(cover.step);
        if let Some(task_id) = task_id {
            let finals = spec.final_statuses()?;
            for poll in 0..POLLS {
                let answer = proxy.get(&format!("{by_task}{}", percent_encode(&task_id)))?;
                let status = string_at(&answer.body, "/conversion/status").unwrap_or_default();
                steps.push(answer.step);
                if finals.contains(&status.as_str()) || poll + 1 == POLLS {
                    break;
                }
                thread::sleep(POLL_PAUSE);
            }
        }
    }
    Ok(steps)
}

/// The proxy, spoken to over plain HTTP/1.0 on loopback ([`package::exchange`]).
struct Proxy {
    addr: SocketAddr,
    base_path: String,
    key: String,
}

struct Answer {
    step: Step,
    body: String,
}

impl Proxy {
    fn new(base: &str, key: &str) -> Result<Proxy> {
        let (addr, base_path) = package::loopback_address(base)?;
        Ok(Proxy {
            addr,
            base_path,
            key: key.to_owned(),
        })
    }

    fn get(&self, path: &str) -> Result<Answer> {
        self.call("GET", path, None)
    }

    fn call(&self, method: &str, path: &str, body: Option<(&str, &str)>) -> Result<Answer> {
        let call = format!("{method} {path}");
        let (content, body) = body.map_or((String::new(), ""), |(content_type, body)| {
            let length = body.len();
            (
                format!("Content-Type: {content_type}\r\nContent-Length: {length}\r\n"),
                body,
            )
        });
        let request = format!(
            "{method} {}{path} HTTP/1.0\r\nHost: {}\r\nAuthorization: {}\r\nAccept: application/json\r\nUser-Agent: cargo-xtask-verify-live\r\n{content}\r\n{body}",
            self.base_path, self.addr, self.key
        );
        let text = package::exchange(self.addr, request.as_bytes(), CALL_LIMIT)
            .map_err(|e| Error::new(format!("verify-live: {call}: {e}")))?;
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
        let status = head
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| Error::new(format!("verify-live: {call}: no HTTP answer: {head}")))?;
        let violations = head
            .lines()
            .filter_map(|l| l.split_once(':'))
            .filter(|(name, _)| name.trim().eq_ignore_ascii_case(VIOLATIONS_HEADER))
            .flat_map(|(_, value)| json_objects(value.trim()))
            .collect();
        Ok(Answer {
            step: Step {
                call,
                status,
                violations,
            },
            body: body.to_owned(),
        })
    }
}

/// The objects of the violations header's JSON array, each as the proxy wrote it; nothing when
/// the header is not such an array.
fn json_objects(array: &str) -> Vec<String> {
    serde_json::from_str::<Vec<Box<RawValue>>>(array)
        .map(|objects| objects.iter().map(|raw| raw.get().to_owned()).collect())
        .unwrap_or_default()
}

/// The string at `pointer` (RFC 6901, such as `/conversion/status`) of the JSON `body`.
fn string_at(body: &str, pointer: &str) -> Option<String> {
    let value: serde_json::Value = serde_json::from_str(body).ok()?;
    value.pointer(pointer)?.as_str().map(str::to_owned)
}

fn percent_encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::TcpListener;
    use std::path::PathBuf;

    use super::*;

    fn binary() -> PathBuf {
        mock::build("verify-live", false, None).expect("the mock builds")
    }

    #[test]
    fn options_and_helpers() {
        let options: Options =
            crate::parse(&["--spend", "--task-id", "t 1", "--strict", "--record", "d"])
                .expect("parses");
        assert!(options.spend && options.strict && options.task_id.as_deref() == Some("t 1"));
        assert_eq!(options.record.as_deref(), Some("d"));
        assert!(crate::parse::<Options>(&["--nope"]).is_err());
        assert_eq!(percent_encode("t 1/é"), "t%201%2F%C3%A9");
        let objects = json_objects(r#"[{"a":"}{","b":["x"]},{"severity":"Error"}]"#);
        assert_eq!(objects.len(), 2);
        assert!(is_error(&objects[1]) && !is_error(&objects[0]));
        assert_eq!(
            string_at(
                r#"{"conversion":{"status":"a\"b"},"x":1}"#,
                "/conversion/status"
            )
            .as_deref(),
            Some("a\"b")
        );
    }

    /// The mock itself as the upstream: the whole sequence, a Cover and its polls included,
    /// breaks nothing; recorded, each exchange is a file.
    #[test]
    fn in_front_of_the_mock_nothing_is_reported() {
        let binary = binary();
        let (_mock, banner) = mock::start(
            &binary,
            &["--addr", "127.0.0.1:0", "--seed", "5", "--time-scale", "0"],
            "API base URL",
            START_LIMIT,
        )
        .expect("the mock starts");
        let upstream = package::banner_base_url(&banner).expect("a URL in the banner");
        let scratch = crate::scratch("verify-live");
        let dir = scratch.join("record");
        let options = Options {
            spend: true,
            upstream: Some(upstream),
            strict: true,
            record: Some(dir.to_string_lossy().into_owned()),
            ..Options::default()
        };
        let steps = verify(&binary, &options, "sk-verify-live-test-key").expect("runs");
        let recorded: Vec<String> = std::fs::read_dir(&dir)
            .expect("the recording")
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .collect();
        assert_eq!(recorded.len(), steps.len(), "{recorded:?}");
        assert!(
            recorded.iter().any(|f| f.ends_with("-POST-Cover.json")),
            "{recorded:?}"
        );
        let calls: Vec<&str> = steps.iter().map(|s| s.call.as_str()).collect();
        let cover = Spec::read().and_then(|s| Ok(format!("POST {}", s.path("cover")?)));
        assert!(
            cover.is_ok_and(|c| calls.contains(&c.as_str())),
            "{calls:?}"
        );
        assert!(steps.len() >= 5, "{steps:?}");
        for step in &steps {
            assert!(step.violations.is_empty(), "{step:?}");
            assert_ne!(step.status, 502, "{step:?}");
        }
        // The unknown task's documented 404.
        assert!(steps.iter().any(|s| s.status == 404), "{steps:?}");
        report(&steps).expect("no error");
    }

    /// An upstream that answers every call with a voice list of the wrong type and `conversion`
    /// missing: each call's break is reported; strict, each is a 502.
    fn wrong_upstream() -> String {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                thread::spawn(move || {
                    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
                    let mut reader = BufReader::new(stream.try_clone().expect("clone"));
                    let mut length = 0usize;
                    let mut line = String::new();
                    while reader.read_line(&mut line).is_ok_and(|n| n > 0) {
                        if line == "\r\n" {
                            break;
                        }
                        if let Some((name, value)) = line.split_once(':')
                            && name.eq_ignore_ascii_case("content-length")
                        {
                            length = value.trim().parse().unwrap_or(0);
                        }
                        line.clear();
                    }
                    let mut body = vec![0; length];
                    let _ = reader.read_exact(&mut body);
                    let answer = r#"{"success":"yes","voices":"none","taskId":"x"}"#;
                    let _ = write!(
                        stream,
                        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{answer}",
                        answer.len()
                    );
                });
            }
        });
        format!("http://{addr}/api/public")
    }

    #[test]
    fn a_wrong_upstream_is_reported_and_strict_makes_it_a_502() {
        let binary = binary();
        let upstream = wrong_upstream();
        let options = Options {
            upstream: Some(upstream.clone()),
            task_id: Some("given-task".to_owned()),
            ..Options::default()
        };
        let steps = verify(&binary, &options, "sk-verify-live-test-key").expect("runs");
        assert_eq!(steps.len(), 3);
        for step in &steps {
            assert_eq!(step.status, 200, "{step:?}");
            assert!(step.errors() > 0, "{step:?}");
        }
        assert!(
            steps[0]
                .violations
                .iter()
                .any(|v| v.contains(r#"["response","body","voices"]"#))
        );
        assert!(
            steps[2]
                .violations
                .iter()
                .any(|v| v.contains(r#""code":"required""#))
        );
        let failed = report(&steps).expect_err("errors fail the run");
        assert!(failed.to_string().contains("violation"), "{failed}");

        let strict = Options {
            strict: true,
            ..options
        };
        let steps = verify(&binary, &strict, "sk-verify-live-test-key").expect("runs");
        assert!(
            steps.iter().all(|s| s.status == 502 && s.errors() > 0),
            "{steps:?}"
        );
    }

    #[test]
    fn the_real_api_needs_a_key() {
        let real = Options::default();
        let refused = key_for(&real, None).expect_err("no key");
        assert!(refused.to_string().contains(KEY_VARIABLE), "{refused}");
        assert!(key_for(&real, Some(" ".to_owned())).is_err());
        assert_eq!(
            key_for(&real, Some("k".to_owned())).ok().as_deref(),
            Some("k")
        );
        let local = Options {
            upstream: Some("http://127.0.0.1:1/api/public".to_owned()),
            ..Options::default()
        };
        assert!(key_for(&local, None).is_ok());
    }
}
