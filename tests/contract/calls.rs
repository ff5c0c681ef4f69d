//! One API call described once and sent two ways: raw over HTTP (to keep the mock's whole
//! answer) and through the generated client (to see what a Rust user gets back).

use musicgpt_cover::{ApiError, AudioFile, Client, ResponseValue};
use musicgpt_cover_mock::MockServer;
use serde::Serialize;
use serde_json::{Value, json};

use crate::common::{Captured, Key, client, describe_error, http, spec};

/// A file part.
#[derive(Debug, Clone)]
pub(crate) struct File {
    pub(crate) name: &'static str,
    pub(crate) bytes: Vec<u8>,
    pub(crate) file_name: &'static str,
    pub(crate) content_type: &'static str,
}

/// The request of one operation: form parts for Cover, query pairs for the others.
#[derive(Debug, Clone)]
pub(crate) struct Call {
    /// The `operationId`.
    pub(crate) op: String,
    pub(crate) key: Key,
    pub(crate) prefer: Option<String>,
    /// Text parts (Cover) or query pairs (the GETs), in order. `{task_id}` is replaced by the
    /// task id of the call's [`Setup`].
    pub(crate) pairs: Vec<(&'static str, String)>,
    pub(crate) file: Option<File>,
}

impl Call {
    pub(crate) fn new(op: &str) -> Call {
        Call {
            op: op.to_owned(),
            key: Key::Valid,
            prefer: None,
            pairs: Vec::new(),
            file: None,
        }
    }

    pub(crate) fn key(mut self, key: Key) -> Call {
        self.key = key;
        self
    }

    pub(crate) fn prefer(mut self, prefer: impl Into<String>) -> Call {
        self.prefer = Some(prefer.into());
        self
    }

    pub(crate) fn pair(mut self, name: &'static str, value: impl Into<String>) -> Call {
        self.pairs.push((name, value.into()));
        self
    }

    pub(crate) fn file(mut self, file: File) -> Call {
        self.file = Some(file);
        self
    }

    /// The call with `{task_id}` filled in.
    pub(crate) fn with_task_id(&self, task_id: Option<&str>) -> Call {
        let mut call = self.clone();
        if let Some(id) = task_id {
            for (_, value) in &mut call.pairs {
                *value = value.replace("{task_id}", id);
            }
        }
        call
    }

    /// What is sent, for the snapshot: the method, the path and the parts or query.
    pub(crate) fn summary(&self) -> Value {
        let op = spec().operation(&self.op);
        let mut out = json!({
            "request": format!("{} {}", op.method, op.path),
            "authorization": match self.key {
                Key::Valid => "the accepted key",
                Key::Missing => "(none)",
                Key::Refused => "a refused key",
            },
        });
        if let Some(prefer) = &self.prefer {
            out["prefer"] = json!(prefer);
        }
        let pairs: Vec<Value> = self
            .pairs
            .iter()
            .map(|(name, value)| json!(format!("{name}={value}")))
            .collect();
        out[if op.method == "GET" { "query" } else { "form" }] = json!(pairs);
        if let Some(file) = &self.file {
            out["file"] = json!(format!(
                "{}: {} ({}, {} bytes)",
                file.name,
                file.file_name,
                file.content_type,
                file.bytes.len()
            ));
        }
        out
    }

    /// Sends the call over plain HTTP and keeps the whole answer.
    pub(crate) async fn send_raw(&self, mock: &MockServer) -> Captured {
        let op = spec().operation(&self.op);
        let url = mock.url(&op.path);
        let mut request = match op.method.as_str() {
            "GET" => http().get(url).query(&self.pairs),
            "POST" => {
                let mut form = reqwest::multipart::Form::new();
                for (name, value) in &self.pairs {
                    form = form.text(*name, value.clone());
                }
                if let Some(file) = &self.file {
                    let part = reqwest::multipart::Part::bytes(file.bytes.clone())
                        .file_name(file.file_name)
                        .mime_str(file.content_type)
                        .expect("a MIME type");
                    form = form.part(file.name, part);
                }
                http().post(url).multipart(form)
            }
            other => panic!("no raw sender for {other}"),
        };
        if let Some(key) = self.key.value() {
            request = request.header("authorization", key);
        }
        if let Some(prefer) = &self.prefer {
            request = request.header("prefer", prefer);
        }
        Captured::read(request.send().await.expect("the mock answers")).await
    }

    /// Sends the call through the generated client. `Err(why)` when the typed client cannot
    /// express it (it refuses before sending, or the builder has no way to say it): `why` is
    /// the client's own refusal.
    pub(crate) async fn send_client(&self, base_url: &str) -> Result<ClientOutcome, String> {
        let client = client(base_url, self.key, self.prefer.as_deref());
        let result = match self.op.as_str() {
            "cover" => self.cover(&client).await?,
            "getConversionById" => {
                let mut builder = client.get_conversion_by_id();
                for (name, value) in &self.pairs {
                    builder = match *name {
                        "conversionType" => builder.conversion_type(value.as_str()),
                        "task_id" => builder.task_id(value.as_str()),
                        "conversion_id" => builder.conversion_id(value.as_str()),
                        other => return Err(format!("the client has no parameter {other}")),
                    };
                }
                outcome(builder.send().await)
            }
            "getAllVoices" => {
                let mut builder = client.get_all_voices();
                for (name, value) in &self.pairs {
                    builder = match *name {
                        "limit" => builder.limit(number(value)?),
                        "page" => builder.page(number(value)?),
                        other => return Err(format!("the client has no parameter {other}")),
                    };
                }
                outcome(builder.send().await)
            }
            "searchVoices" => {
                let mut builder = client.search_voices();
                for (name, value) in &self.pairs {
                    builder = match *name {
                        "query" => builder.query(value.as_str()),
                        "limit" => builder.limit(number(value)?),
                        "page" => builder.page(number(value)?),
                        other => return Err(format!("the client has no parameter {other}")),
                    };
                }
                outcome(builder.send().await)
            }
            other => return Err(format!("no client call for {other}")),
        };
        match result {
            ClientOutcome::Err { ref error, .. } if error["variant"] == "InvalidRequest" => {
                Err(error["message"].as_str().unwrap_or_default().to_owned())
            }
            other => Ok(other),
        }
    }

    async fn cover(&self, client: &Client) -> Result<ClientOutcome, String> {
        let mut builder = client.cover();
        for (name, value) in &self.pairs {
            builder = match *name {
                "audio_url" => builder.audio_url(value.as_str()),
                "voice_id" => builder.voice_id(value.as_str()),
                "webhook_url" => builder.webhook_url(value.as_str()),
                "pitch" => builder.pitch(
                    value
                        .parse::<i64>()
                        .map_err(|_| format!("pitch {value:?} is not an i64 the client takes"))?,
                ),
                other => return Err(format!("the client has no form field {other}")),
            };
        }
        if let Some(file) = &self.file {
            if file.name != "audio_file" {
                return Err(format!("the client has no file part {}", file.name));
            }
            builder = builder.audio_file(
                AudioFile::from_bytes(file.bytes.clone(), file.file_name)
                    .with_content_type(file.content_type),
            );
        }
        Ok(outcome(builder.send().await))
    }
}

fn number(value: &str) -> Result<i64, String> {
    value
        .parse()
        .map_err(|_| format!("{value:?} is not a whole number the client takes"))
}

/// What the client returned.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum ClientOutcome {
    /// The decoded value, serialized back to JSON.
    Ok {
        status: u16,
        value: Value,
        /// Prism's `sl-violations` header: what it found wrong with the request.
        #[serde(skip_serializing_if = "Option::is_none")]
        violations: Option<String>,
    },
    /// The `ApiError`, described by [`describe_error`].
    Err {
        error: Value,
        #[serde(skip_serializing_if = "Option::is_none")]
        violations: Option<String>,
    },
}

impl ClientOutcome {
    pub(crate) fn status(&self) -> Option<u16> {
        match self {
            ClientOutcome::Ok { status, .. } => Some(*status),
            ClientOutcome::Err { error, .. } => {
                error["status"].as_u64().and_then(|s| u16::try_from(s).ok())
            }
        }
    }

    /// The body as the client understood it (the decoded value or the error body).
    pub(crate) fn body(&self) -> &Value {
        match self {
            ClientOutcome::Ok { value, .. } => value,
            ClientOutcome::Err { error, .. } => &error["body"],
        }
    }

    /// Prism's complaints about the request, if it had any.
    pub(crate) fn violations(&self) -> Option<&str> {
        match self {
            ClientOutcome::Ok { violations, .. } | ClientOutcome::Err { violations, .. } => {
                violations.as_deref()
            }
        }
    }
}

fn outcome<T: Serialize>(result: Result<ResponseValue<T>, ApiError>) -> ClientOutcome {
    let violations = |headers: &musicgpt_cover::reqwest::header::HeaderMap| {
        headers
            .get("sl-violations")
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
    };
    match result {
        Ok(response) => ClientOutcome::Ok {
            status: response.status().as_u16(),
            violations: violations(response.headers()),
            value: serde_json::to_value(response.into_inner()).expect("a decoded value serializes"),
        },
        Err(error) => ClientOutcome::Err {
            violations: error.headers().and_then(violations),
            error: describe_error(&error),
        },
    }
}

pub(crate) fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The values the calls send, read from the spec's own examples.
pub(crate) struct Inputs {
    pub(crate) voice_id: String,
    pub(crate) audio_url: String,
    pub(crate) pitch: String,
    pub(crate) conversion_type: String,
    pub(crate) query: String,
    /// A conversion the spec documents and a fresh mock does not hold.
    pub(crate) unknown_task_id: String,
    pub(crate) unknown_conversion_id: String,
}

pub(crate) fn inputs() -> Inputs {
    let spec = spec();
    let example = &spec
        .operation("getConversionById")
        .response(200)
        .and_then(|r| r.examples.first())
        .expect("byId documents a 200 example")
        .1["conversion"];
    Inputs {
        voice_id: text(spec.property_example("CoverRequest", "voice_id")),
        audio_url: text(spec.property_example("CoverRequest", "audio_url")),
        pitch: text(spec.property_example("CoverRequest", "pitch")),
        conversion_type: text(spec.parameter_example("getConversionById", "conversionType")),
        query: text(spec.parameter_example("searchVoices", "query")),
        unknown_task_id: text(&example["task_id"]),
        unknown_conversion_id: text(&example["conversion_id"]),
    }
}

/// A call of `op` that the mock accepts (with the setup it needs).
pub(crate) fn valid_call(op: &str, inputs: &Inputs) -> (Option<Call>, Call) {
    match op {
        "cover" => (
            None,
            Call::new("cover")
                .pair("voice_id", &inputs.voice_id)
                .pair("audio_url", &inputs.audio_url)
                .pair("pitch", &inputs.pitch),
        ),
        "getConversionById" => (
            Some(valid_call("cover", inputs).1),
            Call::new(op)
                .pair("conversionType", &inputs.conversion_type)
                .pair("task_id", "{task_id}"),
        ),
        "getAllVoices" => (None, Call::new(op).pair("limit", "5").pair("page", "1")),
        "searchVoices" => (None, Call::new(op).pair("query", &inputs.query)),
        other => panic!("openapi.yaml has an operation {other} this suite has no call for"),
    }
}
