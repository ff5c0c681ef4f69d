//! The bare server the mock is measured against: axum with the mock's routes, each doing only the
//! parsing its request needs and answering a fixed body. The Cover streams the multipart body
//! through multer, every field read to its end, nothing checked; a GET parses its query string.
//! Each answer is the mock's own answer to the same request (taken when the row starts), so both
//! send as many bytes.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use axum::routing::{get, post};
use bytes::Bytes;
use tokio::task::JoinHandle;

use crate::common::serve;
use crate::common::spec::api_path;

/// The fixed answer of each path (the mock's: the spec's, under its base path).
pub(crate) type Answers = Arc<HashMap<String, Bytes>>;

/// The Cover: the body streamed through multer, every field read to its end, nothing checked.
async fn parse_form(State(answers): State<Answers>, request: Request) -> Response {
    let body = answers.get(request.uri().path()).cloned();
    let boundary = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| multer::parse_boundary(v).ok());
    let Some(boundary) = boundary else {
        return answer(StatusCode::BAD_REQUEST, Bytes::from_static(b"{}"));
    };
    let mut multipart = multer::Multipart::new(request.into_body().into_data_stream(), boundary);
    let read = async {
        while let Some(mut field) = multipart.next_field().await? {
            while field.chunk().await?.is_some() {}
        }
        Ok::<_, multer::Error>(())
    };
    match read.await {
        Ok(()) => fixed(body.as_ref()),
        Err(_) => answer(StatusCode::BAD_REQUEST, Bytes::from_static(b"{}")),
    }
}

/// A GET: the query string parsed into its pairs, nothing checked.
async fn parse_query(State(answers): State<Answers>, request: Request) -> Response {
    let pairs: Vec<(String, String)> =
        form_urlencoded::parse(request.uri().query().unwrap_or_default().as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
    std::hint::black_box(pairs);
    fixed(answers.get(request.uri().path()))
}

fn fixed(body: Option<&Bytes>) -> Response {
    match body {
        Some(body) => answer(StatusCode::OK, body.clone()),
        None => answer(StatusCode::NOT_FOUND, Bytes::from_static(b"{}")),
    }
}

fn answer(status: StatusCode, body: Bytes) -> Response {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// Starts the bare server on the current runtime, with the mock's routes; the handle stops it
/// when aborted.
pub(crate) async fn start_bare(answers: Answers) -> Result<(SocketAddr, JoinHandle<()>), String> {
    let app = Router::new()
        .route(&api_path("cover")?, post(parse_form))
        .route(&api_path("getConversionById")?, get(parse_query))
        .route(&api_path("getAllVoices")?, get(parse_query))
        .with_state(answers);
    serve(app, "the bare server").await
}
