//! The bare server the mock is measured against: axum streaming the multipart body through multer,
//! every field read to its end, nothing checked, a fixed answer.

use std::net::{Ipv4Addr, SocketAddr};

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use axum::routing::post;
use bytes::Bytes;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::request::COVER_PATH;

/// The bare server's answer: the README's sample answer of the mock, so both send as much.
const BARE_ANSWER: &[u8] = br#"{"success":true,"task_id":"847db400-7af1-4b60-8f8f-fdbc8a2fc1ae","conversion_id":"22d4b677-509f-4302-8e2e-0284ea0d2218","eta":62,"credit_estimate":1.11,"message":"Message published to queue","status":"IN_QUEUE"}"#;

/// The bare server's one route: the body streamed through multer, every field read to its end,
/// nothing checked; a fixed JSON answer.
async fn parse_only(request: Request) -> Response {
    let boundary = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| multer::parse_boundary(v).ok());
    let Some(boundary) = boundary else {
        return answer(StatusCode::BAD_REQUEST, Bytes::from_static(b"{}"));
    };
    let mut multipart = multer::Multipart::new(request.into_body().into_data_stream(), boundary);
    loop {
        match multipart.next_field().await {
            Ok(Some(mut field)) => loop {
                match field.chunk().await {
                    Ok(Some(_)) => {}
                    Ok(None) => break,
                    Err(_) => return answer(StatusCode::BAD_REQUEST, Bytes::from_static(b"{}")),
                }
            },
            Ok(None) => break,
            Err(_) => return answer(StatusCode::BAD_REQUEST, Bytes::from_static(b"{}")),
        }
    }
    answer(StatusCode::OK, Bytes::from_static(BARE_ANSWER))
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

/// Starts the bare server on the current runtime; the handle stops it when aborted.
pub(crate) async fn start_bare() -> Result<(SocketAddr, JoinHandle<()>), String> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .await
        .map_err(|e| format!("the bare server cannot listen on 127.0.0.1: {e}"))?;
    let addr = listener
        .local_addr()
        .map_err(|e| format!("the bare server's address: {e}"))?;
    let app = Router::new().route(COVER_PATH, post(parse_only));
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok((addr, task))
}
