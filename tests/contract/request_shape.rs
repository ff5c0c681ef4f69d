//! The requests the generated client sends, caught by wiremock and held against openapi.yaml:
//! the method and path, the `Authorization` header of the security scheme, the Cover form's part
//! names, file part and values validated against `CoverRequest`, and every query parameter
//! validated against its parameter schema. (The client crate's own tests pin the exact bytes;
//! these check them against the spec, whatever it says after an edit.)

use futures::stream;
use musicgpt_cover::AudioFile;
use musicgpt_cover_contract_tests::schema::SchemaCheck;
use serde_json::{Map, Value, json};
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::common::{KEY, Key, assert_none, client, spec};

/// A text value as the server reads it for a schema: a number for `integer` and `number`, a
/// boolean for `boolean`, the text otherwise (a value that does not parse stays text and fails
/// validation, as it should).
fn typed(text: &str, schema: &Value) -> Value {
    match schema.get("type").and_then(Value::as_str) {
        Some("integer") => text
            .parse::<i64>()
            .map_or_else(|_| json!(text), |n| json!(n)),
        Some("number") => text
            .parse::<f64>()
            .map_or_else(|_| json!(text), |n| json!(n)),
        Some("boolean") => match text {
            "true" => json!(true),
            "false" => json!(false),
            _ => json!(text),
        },
        _ => json!(text),
    }
}

/// A wiremock server answering every request with the first documented 200 example of `op`.
async fn server_answering(op: &str) -> MockServer {
    let server = MockServer::start().await;
    let example = spec()
        .operation(op)
        .response(200)
        .and_then(|r| r.examples.first())
        .map(|(_, v)| v.clone())
        .expect("a 200 example");
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200).set_body_json(example))
        .mount(&server)
        .await;
    server
}

fn base_url(server: &MockServer) -> String {
    format!("{}{}", server.uri(), spec().local_base_path())
}

/// The checks every request shares: method, path, the security scheme's header, Accept.
fn check_common(op: &str, request: &wiremock::Request, problems: &mut Vec<String>) {
    let spec = spec();
    let operation = spec.operation(op);
    if request.method.as_str() != operation.method {
        problems.push(format!(
            "{op}: sent {} instead of {}",
            request.method, operation.method
        ));
    }
    let path = format!("{}{}", spec.local_base_path(), operation.path);
    if request.url.path() != path {
        problems.push(format!(
            "{op}: sent to {} instead of {path}",
            request.url.path()
        ));
    }
    // The scheme the operation (or, failing that, the whole API) requires.
    let requirement = operation
        .raw
        .get("security")
        .or_else(|| spec.root().get("security"))
        .and_then(|s| s.get(0))
        .and_then(Value::as_object)
        .and_then(|r| r.keys().next())
        .expect("the API requires a security scheme");
    let scheme = spec
        .pointer(&format!("#/components/securitySchemes/{requirement}"))
        .expect("the required scheme is defined");
    let header = scheme["name"].as_str().expect("a header name");
    if scheme["type"] != "apiKey" || scheme["in"] != "header" {
        problems.push(format!(
            "{requirement} is not an API key in a header any more"
        ));
    }
    let sent = request.headers.get(header).and_then(|v| v.to_str().ok());
    if sent != Some(KEY) {
        problems.push(format!(
            "{op}: {header} was {sent:?}, the raw key was expected"
        ));
    }
    let accept = request
        .headers
        .get("accept")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let documented = operation
        .response(200)
        .map(|r| r.media_types.clone())
        .unwrap_or_default();
    if !documented.iter().any(|m| accept.contains(m.as_str())) {
        problems.push(format!(
            "{op}: Accept {accept:?} does not name {documented:?}"
        ));
    }
}

/// The query of a GET, held against the operation's parameters.
fn check_query(op: &str, request: &wiremock::Request, problems: &mut Vec<String>) {
    let spec = spec();
    let operation = spec.operation(op);
    let parameters = spec.parameters(operation);
    let pairs: Vec<(String, String)> = request.url.query_pairs().into_owned().collect();
    for (name, value) in &pairs {
        let Some(parameter) = parameters
            .iter()
            .find(|p| p["name"] == name.as_str() && p["in"] == "query")
        else {
            problems.push(format!("{op}: query parameter {name} is not in the spec"));
            continue;
        };
        if pairs.iter().filter(|(n, _)| n == name).count() > 1 {
            problems.push(format!("{op}: {name} sent more than once"));
        }
        let schema = parameter.get("schema").cloned().unwrap_or(Value::Null);
        let check = SchemaCheck::new(spec, &schema).expect("the parameter schema compiles");
        for error in check.errors(&typed(value, spec.resolve(&schema))) {
            problems.push(format!("{op}: {name}={value} breaks its schema at {error}"));
        }
    }
    for parameter in &parameters {
        let name = parameter["name"].as_str().unwrap_or_default();
        if parameter["required"] == true && !pairs.iter().any(|(n, _)| n == name) {
            problems.push(format!("{op}: required parameter {name} was not sent"));
        }
    }
}

struct FormPart {
    name: String,
    file_name: Option<String>,
    content_type: Option<String>,
    bytes: bytes::Bytes,
}

async fn form_parts(request: &wiremock::Request) -> Result<Vec<FormPart>, String> {
    let content_type = request
        .headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .ok_or("no Content-Type")?;
    let boundary = multer::parse_boundary(content_type)
        .map_err(|e| format!("Content-Type {content_type:?}: {e}"))?;
    let body = bytes::Bytes::from(request.body.clone());
    let mut multipart = multer::Multipart::new(
        stream::once(async move { Ok::<_, std::convert::Infallible>(body) }),
        boundary,
    );
    let mut parts = Vec::new();
    while let Some(field) = multipart.next_field().await.map_err(|e| e.to_string())? {
        parts.push(FormPart {
            name: field.name().unwrap_or_default().to_owned(),
            file_name: field.file_name().map(str::to_owned),
            content_type: field.content_type().map(ToString::to_string),
            bytes: field.bytes().await.map_err(|e| e.to_string())?,
        });
    }
    Ok(parts)
}

/// Whether `content_type` is one of the encoding's list (`audio/*, application/octet-stream`).
fn allowed(content_type: &str, list: &str) -> bool {
    list.split(',')
        .map(str::trim)
        .any(|pattern| match pattern.strip_suffix("/*") {
            Some(main) => content_type.split('/').next() == Some(main),
            None => pattern == content_type,
        })
}

#[tokio::test]
async fn cover_sends_the_spec_form() {
    let spec = spec();
    let server = server_answering("cover").await;
    let client = client(&base_url(&server), Key::Valid, None);
    let form = spec
        .request_schema(spec.operation("cover"), "multipart/form-data")
        .expect("Cover takes a multipart form");
    let properties = form["properties"].as_object().expect("form properties");
    let example = |name: &str| match &properties[name]["example"] {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    client
        .cover()
        .audio_url(example("audio_url"))
        .audio_file(AudioFile::from_bytes(vec![1u8; 777], "song.mp3"))
        .voice_id(example("voice_id"))
        .pitch(example("pitch").parse::<i64>().expect("an integer example"))
        .webhook_url(example("webhook_url"))
        .send()
        .await
        .expect("wiremock answers the spec's example");

    let requests = server.received_requests().await.unwrap_or_default();
    assert_eq!(requests.len(), 1, "one request");
    let request = &requests[0];
    let mut problems = Vec::new();
    check_common("cover", request, &mut problems);
    let encoding = spec
        .operation("cover")
        .raw
        .pointer("/requestBody/content/multipart~1form-data/encoding")
        .cloned();
    let parts = form_parts(request)
        .await
        .unwrap_or_else(|e| panic!("not a multipart form: {e}"));

    let mut received = Map::new();
    for part in &parts {
        let Some(schema) = properties.get(&part.name) else {
            problems.push(format!("part {} is not a property of the form", part.name));
            continue;
        };
        if received.contains_key(&part.name) {
            problems.push(format!("part {} sent twice", part.name));
        }
        if schema.get("format") == Some(&json!("binary")) {
            if part.file_name.is_none() {
                problems.push(format!("file part {} has no filename", part.name));
            }
            let content_type = part.content_type.as_deref().unwrap_or_default();
            let list = encoding
                .as_ref()
                .and_then(|e| e.pointer(&format!("/{}/contentType", part.name)))
                .and_then(Value::as_str)
                .unwrap_or("application/octet-stream");
            if !allowed(content_type, list) {
                problems.push(format!(
                    "file part {} is {content_type:?}, the spec allows {list:?}",
                    part.name
                ));
            }
            if part.bytes.len() != 777 {
                problems.push(format!(
                    "file part {} carried {} bytes, 777 were given",
                    part.name,
                    part.bytes.len()
                ));
            }
            // A file has no JSON value; the schema asks only that it be there.
            received.insert(part.name.clone(), json!(""));
        } else {
            match std::str::from_utf8(&part.bytes) {
                Ok(text) => {
                    received.insert(part.name.clone(), typed(text, schema));
                }
                Err(_) => problems.push(format!("text part {} is not UTF-8", part.name)),
            }
        }
    }
    let sent: Vec<&String> = received.keys().collect();
    let documented: Vec<&String> = properties.keys().collect();
    if sent != documented {
        problems.push(format!("every setter was called, yet the parts {sent:?} are not the form's properties {documented:?}"));
    }
    let check = SchemaCheck::new(
        spec,
        &json!({ "$ref": "#/components/schemas/CoverRequest" }),
    )
    .expect("compiles");
    for error in check.errors(&Value::Object(received)) {
        problems.push(format!("the form breaks CoverRequest at {error}"));
    }
    assert_none(&problems, "the Cover request");
}

#[tokio::test]
async fn the_gets_send_spec_parameters() {
    let spec = spec();
    let mut problems = Vec::new();
    let by_id = spec
        .operation("getConversionById")
        .response(200)
        .and_then(|r| r.examples.first())
        .expect("an example");
    let task_id: uuid::Uuid = by_id.1["conversion"]["task_id"]
        .as_str()
        .and_then(|t| t.parse().ok())
        .expect("a task id");
    let text = |v: &Value| {
        v.as_str()
            .map(str::to_owned)
            .unwrap_or_else(|| v.to_string())
    };
    let conversion_type = text(spec.parameter_example("getConversionById", "conversionType"));
    let query = text(spec.parameter_example("searchVoices", "query"));

    for op in ["getConversionById", "getAllVoices", "searchVoices"] {
        let server = server_answering(op).await;
        let client = client(&base_url(&server), Key::Valid, None);
        let result = match op {
            "getConversionById" => client
                .get_conversion_by_id()
                .conversion_type(conversion_type.as_str())
                .task_id(task_id)
                .send()
                .await
                .map(|_| ()),
            "getAllVoices" => client
                .get_all_voices()
                .limit(7u64)
                .page(2u64)
                .send()
                .await
                .map(|_| ()),
            _ => client
                .search_voices()
                .query(query.as_str())
                .limit(3u64)
                .page(0u64)
                .send()
                .await
                .map(|_| ()),
        };
        if let Err(e) = result {
            problems.push(format!("{op}: the spec's own example did not decode: {e}"));
        }
        let requests = server.received_requests().await.unwrap_or_default();
        assert_eq!(requests.len(), 1, "{op}: one request");
        check_common(op, &requests[0], &mut problems);
        check_query(op, &requests[0], &mut problems);
    }
    assert_none(&problems, "the GET requests");
}
