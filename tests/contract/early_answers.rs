//! Early answers: every answer the mock (or the validating proxy) gives before it has read a
//! request's whole body reaches the clients frontend and script authors use: Node's own `fetch`
//! (a node:test file, `tests/node/early-answers.test.mjs`, 20 tries of each case and body size,
//! each followed by a normal Cover on the same keep-alive pool), curl and Python's `requests`.
//! Before the mock closed such connections lingering, Node lost most of them to EPIPE.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use musicgpt_cover_contract_tests::tools;
use musicgpt_cover_mock::{MockServer, ProxyConfig, ProxyServer};
use serde_json::json;

/// The upload limit of the mock that answers 413: below the two larger body sizes.
const SMALL_LIMIT: u64 = 64 * 1024;

/// The servers the clients drive: the mock, a proxy in front of a second mock, and a mock with a
/// small upload limit.
struct Servers {
    mock: MockServer,
    upstream: MockServer,
    proxy: ProxyServer,
    small: MockServer,
}

impl Servers {
    async fn start() -> Servers {
        let mock = MockServer::builder().time_scale(0.0).start().await;
        let upstream = MockServer::builder().time_scale(0.0).start().await;
        let proxy = ProxyServer::start(ProxyConfig::new(upstream.base_url()))
            .await
            .expect("the proxy starts");
        let small = MockServer::builder()
            .time_scale(0.0)
            .max_upload_bytes(SMALL_LIMIT)
            .start()
            .await;
        Servers {
            mock,
            upstream,
            proxy,
            small,
        }
    }

    /// `[{name, base, admin}]`: the API base URLs and the admin API that sets their scenarios.
    fn targets(&self) -> serde_json::Value {
        json!([
            {"name": "mock", "base": self.mock.base_url(), "admin": self.mock.admin_url()},
            {"name": "proxy", "base": self.proxy.base_url(), "admin": self.upstream.admin_url()},
        ])
    }

    async fn shutdown(self) {
        self.proxy.shutdown().await;
        for mock in [self.mock, self.upstream, self.small] {
            mock.shutdown().await;
        }
    }
}

fn node_test_file() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("node/early-answers.test.mjs")
}

/// Runs `command` off the async runtime (the servers answer on it meanwhile).
async fn output(mut command: Command) -> Output {
    tools::loopback_only(&mut command);
    command.stdin(Stdio::null());
    tokio::task::spawn_blocking(move || command.output())
        .await
        .expect("the program's thread")
        .unwrap_or_else(|e| panic!("cannot run the program: {e}"))
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn early_answers_reach_nodes_fetch() {
    let servers = Servers::start().await;
    let mut node = Command::new("node");
    node.arg("--test")
        .arg("--test-reporter=tap")
        .arg(node_test_file())
        .env("EARLY_TARGETS", servers.targets().to_string())
        .env("EARLY_SMALL", servers.small.base_url())
        .env("EARLY_SMALL_LIMIT", SMALL_LIMIT.to_string())
        .env("EARLY_TRIES", "20");
    let out = output(node).await;
    servers.shutdown().await;
    let report = text(&out);
    assert!(
        out.status.success(),
        "node --test failed (is Node.js 20+ on PATH?):\n{report}"
    );
    // Every case of both servers ran: 6 cases x 4 sizes x 2 servers, and 413 for 2 sizes.
    assert!(
        report.contains("# pass 50") && report.contains("# fail 0"),
        "{report}"
    );
}

/// The same early answers through curl and Python's `requests`, fewer times each: they were
/// never lost, and must stay so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn early_answers_reach_curl_and_python_requests() {
    let servers = Servers::start().await;
    let dir = tempdir();
    let upload = dir.join("song.wav");
    std::fs::write(&upload, vec![0u8; 8 << 20]).expect("the upload file");
    let base = servers.mock.base_url().to_owned();
    let proxy = servers.proxy.base_url().to_owned();
    let mut problems = Vec::new();
    for base in [&base, &proxy] {
        for (headers, status) in [
            (vec![], "401"),
            (vec!["Authorization: Bearer k"], "403"),
            (vec!["Authorization: k", "Prefer: code=402"], "402"),
        ] {
            let mut curl = Command::new("curl");
            curl.args(["-sS", "-o", "/dev/null", "-w", "%{http_code}"]);
            for h in &headers {
                curl.args(["-H", h]);
            }
            curl.args(["-F", "voice_id=Drake"])
                .arg("-F")
                .arg(format!("audio_file=@{}", upload.display()))
                .arg(format!("{base}/v1/Cover"));
            let out = output(curl).await;
            if text(&out).trim() != status {
                problems.push(format!("curl {headers:?} at {base}: {}", text(&out)));
            }
        }
    }
    let script = r#"
import json, sys, requests
base, proxy, small, path = sys.argv[1:5]
problems = []
data = open(path, "rb").read()
cases = [({}, 401), ({"Authorization": "Bearer k"}, 403), ({"Authorization": "k", "Prefer": "code=402"}, 402)]
with requests.Session() as session:
    for url in (base, proxy):
        for headers, status in cases:
            for size in (0, 16 * 1024, 256 * 1024, 8 << 20):
                for _ in range(3):
                    files = {"audio_file": ("song.wav", data[:size])} if size else None
                    form = {"voice_id": "Drake"} if size else {"voice_id": "Drake", "audio_url": "https://x.test/a.mp3"}
                    try:
                        r = session.post(url + "/v1/Cover", headers=headers, data=form, files=files)
                        if r.status_code != status:
                            problems.append(f"{url} {headers} {size}: {r.status_code} {r.text}")
                    except requests.RequestException as e:
                        problems.append(f"{url} {headers} {size}: lost: {e}")
    for _ in range(3):
        r = session.post(small + "/v1/Cover", headers={"Authorization": "k"}, data={"voice_id": "Drake"}, files={"audio_file": ("song.wav", data)})
        if r.status_code != 413:
            problems.append(f"413: {r.status_code} {r.text}")
print(json.dumps(problems))
"#;
    let mut python = Command::new(tools::venv_program("python").unwrap_or_else(|e| panic!("{e}")));
    python
        .arg("-c")
        .arg(script)
        .arg(&base)
        .arg(&proxy)
        .arg(servers.small.base_url())
        .arg(&upload);
    let out = output(python).await;
    servers.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
    assert!(out.status.success(), "{}", text(&out));
    let found: Vec<String> =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&out)));
    problems.extend(found);
    assert!(problems.is_empty(), "{problems:#?}");
}

/// A fresh folder under the system's temporary directory.
fn tempdir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "musicgpt-early-{}-{}",
        std::process::id(),
        uuid::Uuid::new_v4()
    ));
    std::fs::create_dir_all(&dir).expect("a temporary folder");
    dir
}
