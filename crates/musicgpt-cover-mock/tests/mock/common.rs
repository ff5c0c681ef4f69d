//! Helpers shared by the mock's tests: the spec's examples read from openapi.yaml, an HTTP
//! client, multipart forms and a local webhook receiver.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use musicgpt_cover_mock::{MockConfig, MockServer, OPENAPI_YAML};
use reqwest::multipart::{Form, Part};
use serde_json::Value;
use serde_norway::Value as Yaml;

pub(crate) const KEY: &str = "test-key";

/// The whole spec as YAML (key order kept).
pub(crate) fn spec_yaml() -> Yaml {
    serde_norway::from_str(OPENAPI_YAML).expect("openapi.yaml parses")
}

fn deref<'a>(root: &'a Yaml, v: &'a Yaml) -> &'a Yaml {
    match v.get("$ref").and_then(Yaml::as_str) {
        Some(r) => {
            let mut t = root;
            for part in r.trim_start_matches("#/").split('/') {
                t = t.get(part).expect("$ref resolves");
            }
            t
        }
        None => v,
    }
}

/// One documented response of an operation in the spec.
pub(crate) struct Documented {
    pub(crate) status: u16,
    /// (name, the example's exact JSON text as serialized from the YAML, key order kept)
    pub(crate) examples: Vec<(String, String)>,
}

/// Every documented response of `method path`, in the spec's order.
pub(crate) fn documented(path: &str, method: &str) -> Vec<Documented> {
    let root = spec_yaml();
    let responses = root
        .get("paths")
        .and_then(|p| p.get(path))
        .and_then(|p| p.get(method))
        .and_then(|o| o.get("responses"))
        .and_then(Yaml::as_mapping)
        .expect("operation has responses")
        .clone();
    responses
        .iter()
        .map(|(code, resp)| {
            let status: u16 = code
                .as_str()
                .expect("quoted status")
                .parse()
                .expect("numeric status");
            let resp = deref(&root, resp);
            let examples = resp
                .get("content")
                .and_then(|c| c.get("application/json"))
                .and_then(|m| m.get("examples"))
                .and_then(Yaml::as_mapping)
                .map(|m| {
                    m.iter()
                        .map(|(name, ex)| {
                            let value = deref(&root, ex).get("value").expect("example value");
                            (
                                name.as_str().expect("name").to_owned(),
                                serde_json::to_string(value).expect("example serializes"),
                            )
                        })
                        .collect()
                })
                .unwrap_or_default();
            Documented { status, examples }
        })
        .collect()
}

/// The first example of a documented status, as JSON.
pub(crate) fn example(path: &str, method: &str, status: u16) -> Value {
    let doc = documented(path, method);
    let d = doc
        .iter()
        .find(|d| d.status == status)
        .expect("status documented");
    serde_json::from_str(&d.examples.first().expect("has an example").1).expect("json")
}

pub(crate) fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client")
}

/// A mock for tests: frozen clock at its epoch unless told, quick webhook retries.
pub(crate) async fn mock(config: MockConfig) -> MockServer {
    config
        .webhook_backoff(Duration::from_millis(10))
        .webhook_timeout(Duration::from_secs(2))
        .start()
        .await
}

pub(crate) fn url_form(voice: &str, audio_url: &str) -> Form {
    Form::new()
        .text("voice_id", voice.to_owned())
        .text("audio_url", audio_url.to_owned())
}

pub(crate) fn file_part(bytes: Vec<u8>) -> Part {
    Part::bytes(bytes)
        .file_name("song.wav")
        .mime_str("audio/wav")
        .expect("mime")
}

/// Sends a Cover request and returns (status, JSON body).
pub(crate) async fn cover(
    mock: &MockServer,
    key: Option<&str>,
    form: Form,
    prefer: Option<&str>,
) -> (u16, Value) {
    let mut req = client().post(mock.url("/v1/Cover")).multipart(form);
    if let Some(k) = key {
        req = req.header("Authorization", k);
    }
    if let Some(p) = prefer {
        req = req.header("Prefer", p);
    }
    let resp = req.send().await.expect("cover request");
    let status = resp.status().as_u16();
    let body = resp.bytes().await.expect("body");
    (
        status,
        serde_json::from_slice(&body).unwrap_or_else(|_| panic!("JSON body, got {body:?}")),
    )
}

pub(crate) async fn get(
    mock: &MockServer,
    path_and_query: &str,
    key: Option<&str>,
) -> (u16, Value) {
    let mut req = client().get(mock.url(path_and_query));
    if let Some(k) = key {
        req = req.header("Authorization", k);
    }
    let resp = req.send().await.expect("get");
    let status = resp.status().as_u16();
    let body = resp.bytes().await.expect("body");
    (
        status,
        serde_json::from_slice(&body).unwrap_or_else(|_| panic!("JSON body, got {body:?}")),
    )
}

pub(crate) async fn by_id(mock: &MockServer, task_id: &str) -> Value {
    let (status, body) = get(
        mock,
        &format!("/v1/byId?conversionType=COVER&task_id={task_id}"),
        Some(KEY),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body
}

pub(crate) async fn admin(
    mock: &MockServer,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = client().request(method, format!("{}{path}", mock.admin_url()));
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.expect("admin");
    let status = resp.status().as_u16();
    (status, resp.json().await.expect("admin JSON"))
}

pub(crate) fn str_of<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("{key} in {v}"))
}

/// What a webhook receiver got.
#[derive(Debug, Clone)]
pub(crate) struct Received {
    pub(crate) headers: HeaderMap,
    pub(crate) body: Value,
}

#[derive(Clone, Default)]
struct ReceiverState {
    received: Arc<Mutex<Vec<Received>>>,
    /// Status codes to answer, in order; 200 once they run out.
    script: Arc<Mutex<Vec<u16>>>,
    delay: Duration,
}

/// A tiny webhook receiver on 127.0.0.1:0.
pub(crate) struct Receiver {
    pub(crate) url: String,
    state: ReceiverState,
}

impl Receiver {
    pub(crate) async fn start(script: Vec<u16>, delay: Duration) -> Receiver {
        Receiver::serve(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)), script, delay).await
    }

    /// A receiver that answers 200 at once, on a given loopback address.
    pub(crate) async fn start_on(addr: SocketAddr) -> Receiver {
        Receiver::serve(addr, vec![], Duration::ZERO).await
    }

    async fn serve(addr: SocketAddr, script: Vec<u16>, delay: Duration) -> Receiver {
        let state = ReceiverState {
            script: Arc::new(Mutex::new(script)),
            delay,
            ..Default::default()
        };
        let app = Router::new()
            .route("/hook", post(receive))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind(addr).await.expect("bind");
        let addr: SocketAddr = listener.local_addr().expect("addr");
        tokio::spawn(async move { axum::serve(listener, app).await.expect("receiver") });
        Receiver {
            url: format!("http://{addr}/hook"),
            state,
        }
    }

    pub(crate) fn received(&self) -> Vec<Received> {
        self.state.received.lock().expect("lock").clone()
    }
}

async fn receive(
    State(state): State<ReceiverState>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    tokio::time::sleep(state.delay).await;
    let body = serde_json::from_slice(&body).unwrap_or(Value::Null);
    state
        .received
        .lock()
        .expect("lock")
        .push(Received { headers, body });
    let next = {
        let mut script = state.script.lock().expect("lock");
        if script.is_empty() {
            200
        } else {
            script.remove(0)
        }
    };
    StatusCode::from_u16(next).unwrap_or(StatusCode::OK)
}
