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
use musicgpt_cover_mock::openapi_document::{document, resolve};
use musicgpt_cover_mock::{MockConfig, MockServer};
use reqwest::multipart::{Form, Part};
use serde_json::Value;
use serde_norway::Value as Yaml;

pub(crate) const KEY: &str = "test-key";

/// The whole spec as YAML (key order kept).
fn spec_yaml() -> &'static Yaml {
    document().expect("openapi.yaml parses").yaml()
}

fn deref<'a>(root: &'a Yaml, v: &'a Yaml) -> &'a Yaml {
    resolve(root, v).expect("$ref resolves")
}

/// The schema of query parameter `name` of `method path` in the spec (`$ref`s followed).
pub(crate) fn query_schema(path: &str, method: &str, name: &str) -> Option<Yaml> {
    let root = spec_yaml();
    let params = root
        .get("paths")?
        .get(path)?
        .get(method)?
        .get("parameters")?
        .as_sequence()?
        .clone();
    params
        .iter()
        .map(|p| deref(root, p))
        .find(|p| p.get("name").and_then(Yaml::as_str) == Some(name))
        .and_then(|p| p.get("schema"))
        .map(|s| deref(root, s).clone())
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
            let resp = deref(root, resp);
            let examples = resp
                .get("content")
                .and_then(|c| c.get("application/json"))
                .and_then(|m| m.get("examples"))
                .and_then(Yaml::as_mapping)
                .map(|m| {
                    m.iter()
                        .map(|(name, ex)| {
                            let value = deref(root, ex).get("value").expect("example value");
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

/// A plain HTTP client for 127.0.0.1: no proxy, and no root certificates (the tests never use
/// TLS). Loading the system's roots costs a debug build milliseconds per client, which a test
/// that builds one per request, 10,000 times, paid for minutes.
pub(crate) fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .tls_certs_only([])
        .build()
        .expect("client")
}

/// A mock for tests: frozen clock at its epoch unless told, quick webhook retries.
/// A browser's CORS preflight of `url` from a page on `http://localhost:5173`, asking for a POST
/// with the headers an app sends.
pub(crate) async fn preflight(url: &str) -> reqwest::Response {
    client()
        .request(reqwest::Method::OPTIONS, url)
        .header("Origin", "http://localhost:5173")
        .header("Access-Control-Request-Method", "POST")
        .header(
            "Access-Control-Request-Headers",
            "authorization, prefer, content-type",
        )
        .send()
        .await
        .expect("preflight")
}

pub(crate) async fn mock(config: MockConfig) -> MockServer {
    let config = config
        .webhook_backoff(Duration::from_millis(10))
        .webhook_timeout(Duration::from_secs(2));
    MockServer::try_start(config)
        .await
        .expect("the mock starts")
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

/// A request written byte for byte over its own TCP connection, for what an HTTP client library
/// would refuse to send or would repair (malformed framing, lying lengths, half-closed sockets).
#[derive(Clone, Debug)]
pub(crate) struct Raw {
    pub(crate) method: String,
    /// The request target as sent: `/api/public/v1/byId?task_id=...`.
    pub(crate) target: String,
    /// Headers in order, values as raw bytes (they may be anything the test wants to send).
    pub(crate) headers: Vec<(String, Vec<u8>)>,
    pub(crate) body: Vec<u8>,
    pub(crate) framing: Framing,
    /// Shut down the sending side once the request is out (`nc -N`, some HTTP/1.0 clients).
    pub(crate) half_close: bool,
}

/// How a [`Raw`] request's body is delimited on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Framing {
    /// `Content-Length` with the body's true length (none for an empty body of a GET).
    Length,
    /// `Content-Length: n` whatever the body's length.
    Says(u64),
    /// `Transfer-Encoding: chunked`, in chunks of this many bytes.
    Chunked(usize),
    /// Nothing added: the headers given say (or do not say) how the body ends.
    AsIs,
}

impl Raw {
    pub(crate) fn new(method: &str, target: &str) -> Raw {
        Raw {
            method: method.to_owned(),
            target: target.to_owned(),
            headers: Vec::new(),
            body: Vec::new(),
            framing: Framing::Length,
            half_close: false,
        }
    }

    /// Adds a header (after those already there).
    pub(crate) fn header(mut self, name: &str, value: impl AsRef<[u8]>) -> Raw {
        self.headers
            .push((name.to_owned(), value.as_ref().to_vec()));
        self
    }

    /// Removes every header of this name.
    pub(crate) fn without(mut self, name: &str) -> Raw {
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        self
    }

    /// Replaces every header of this name with one of this value.
    pub(crate) fn set(self, name: &str, value: impl AsRef<[u8]>) -> Raw {
        self.without(name).header(name, value)
    }

    pub(crate) fn body(mut self, body: impl Into<Vec<u8>>) -> Raw {
        self.body = body.into();
        self
    }

    pub(crate) fn framing(mut self, framing: Framing) -> Raw {
        self.framing = framing;
        self
    }

    pub(crate) fn half_close(mut self) -> Raw {
        self.half_close = true;
        self
    }

    /// The request as it goes on the wire.
    pub(crate) fn wire(&self) -> Vec<u8> {
        let mut out = format!(
            "{} {} HTTP/1.1\r\nHost: 127.0.0.1\r\n",
            self.method, self.target
        )
        .into_bytes();
        for (name, value) in &self.headers {
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(b": ");
            out.extend_from_slice(value);
            out.extend_from_slice(b"\r\n");
        }
        match self.framing {
            Framing::Length if self.body.is_empty() && self.method == "GET" => {}
            Framing::Length => {
                out.extend_from_slice(
                    format!("Content-Length: {}\r\n", self.body.len()).as_bytes(),
                );
            }
            Framing::Says(n) => {
                out.extend_from_slice(format!("Content-Length: {n}\r\n").as_bytes());
            }
            Framing::Chunked(_) => out.extend_from_slice(b"Transfer-Encoding: chunked\r\n"),
            Framing::AsIs => {}
        }
        out.extend_from_slice(b"\r\n");
        match self.framing {
            Framing::Chunked(size) => {
                for chunk in self.body.chunks(size.max(1)) {
                    out.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
                    out.extend_from_slice(chunk);
                    out.extend_from_slice(b"\r\n");
                }
                out.extend_from_slice(b"0\r\n\r\n");
            }
            _ => out.extend_from_slice(&self.body),
        }
        out
    }
}

/// One answer read off a raw connection.
#[derive(Clone, Debug)]
pub(crate) struct RawAnswer {
    pub(crate) status: u16,
    /// Names in lower case.
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
}

impl RawAnswer {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub(crate) fn json(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }

    /// The body, for messages.
    pub(crate) fn text(&self) -> String {
        let text = String::from_utf8_lossy(&self.body);
        if text.chars().count() > 300 {
            let head: String = text.chars().take(300).collect();
            format!("{head}… ({} bytes)", self.body.len())
        } else {
            text.into_owned()
        }
    }
}

/// Sends `request` over a new connection to `addr` and reads the first final answer (1xx answers
/// are skipped), giving up after `timeout`. The request is written while the answer is read, so a
/// server that answers before reading the whole body is seen answering; write errors after that
/// (the server closed its side) are expected and ignored. The sending side stays open until the
/// answer is in, unless the request half-closes.
pub(crate) async fn exchange(
    addr: SocketAddr,
    request: &Raw,
    timeout: Duration,
) -> Result<RawAnswer, String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let stream = tokio::net::TcpStream::connect(addr)
        .await
        .map_err(|e| format!("connect to {addr}: {e}"))?;
    let (mut reader, mut writer) = stream.into_split();
    let wire = request.wire();
    let half_close = request.half_close;
    // The write half is handed back, not dropped: dropping it would half-close the connection.
    let sending = tokio::spawn(async move {
        let written = writer.write_all(&wire).await;
        if half_close {
            let _ = writer.shutdown().await;
        }
        (writer, written.is_ok())
    });
    let read = async {
        let mut buf = Vec::with_capacity(4096);
        let mut chunk = [0u8; 16 * 1024];
        loop {
            match parse_answer(&buf) {
                Parsed::Final(answer) => return Ok(answer),
                Parsed::Interim(used) => {
                    buf.drain(..used);
                    continue;
                }
                Parsed::Incomplete => {}
            }
            match reader.read(&mut chunk).await {
                Ok(0) => {
                    return Err(format!(
                        "the connection closed after {} bytes of answer: {:?}",
                        buf.len(),
                        String::from_utf8_lossy(&buf[..buf.len().min(200)])
                    ));
                }
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
                Err(e) => {
                    return Err(format!(
                        "reading the answer failed after {} bytes: {e}",
                        buf.len()
                    ));
                }
            }
        }
    };
    let answer = match tokio::time::timeout(timeout, read).await {
        Ok(answer) => answer,
        Err(_) => Err(format!("no complete answer within {timeout:?}")),
    };
    sending.abort();
    answer
}

enum Parsed {
    Final(RawAnswer),
    /// A 1xx answer of this many bytes.
    Interim(usize),
    Incomplete,
}

/// One answer at the start of `buf`, if it is all there: `Content-Length` or chunked bodies (the
/// mock sends no answer delimited by the connection's end but its own, which hyper frames).
fn parse_answer(buf: &[u8]) -> Parsed {
    let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
        return Parsed::Incomplete;
    };
    let head = String::from_utf8_lossy(&buf[..end]);
    let mut lines = head.split("\r\n");
    let status: u16 = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let body_at = end + 4;
    if (100..200).contains(&status) {
        return Parsed::Interim(body_at);
    }
    let find = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    };
    let rest = &buf[body_at..];
    let body = if let Some(len) = find("content-length").and_then(|v| v.parse::<usize>().ok()) {
        if rest.len() < len {
            return Parsed::Incomplete;
        }
        rest[..len].to_vec()
    } else if find("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        let mut body = Vec::new();
        let mut at = 0;
        loop {
            let Some(line_end) = rest[at..].windows(2).position(|w| w == b"\r\n") else {
                return Parsed::Incomplete;
            };
            let size_text = String::from_utf8_lossy(&rest[at..at + line_end]);
            let Ok(size) =
                usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
            else {
                return Parsed::Incomplete;
            };
            at += line_end + 2;
            if size == 0 {
                break;
            }
            if rest.len() < at + size + 2 {
                return Parsed::Incomplete;
            }
            body.extend_from_slice(&rest[at..at + size]);
            at += size + 2;
        }
        body
    } else {
        Vec::new()
    };
    Parsed::Final(RawAnswer {
        status,
        headers,
        body,
    })
}
