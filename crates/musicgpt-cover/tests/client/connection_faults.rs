//! What wiremock cannot do: a raw TCP server on 127.0.0.1 that breaks connections (a reset, a
//! close without an answer, a body cut short, an answer dribbled byte by byte) before it answers
//! well. `wait_for_conversion` rides each out; `cover()` is sent once, whatever happens.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use musicgpt_cover::{ApiError, Client, PollOptions};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::retry::{completed, processing, quick, task};
use crate::{API_KEY, BASE_PATH};

/// What the server does with one connection, once it has read the request's head.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    /// Reset the connection (RST, `SO_LINGER` 0).
    Reset,
    /// Close it without a word.
    Close,
    /// Promise the whole body (`Content-Length`), send half, close.
    Truncate,
    /// No `Content-Length`, half the JSON, close: the body ends cleanly but its JSON does not.
    CutJson,
    /// Promise the whole body and send it a byte every 50 ms.
    Dribble,
}

/// A server that meets its first connections with `faults`, in order, then answers every
/// later one with `answer` (a JSON body with status 200).
struct RawServer {
    base_url: String,
    /// The request line of each connection, in order.
    requests: Arc<Mutex<Vec<String>>>,
}

impl RawServer {
    async fn start(faults: Vec<Fault>, answer: serde_json::Value) -> RawServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a port");
        let address = listener.local_addr().expect("the address");
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&requests);
        let body = serde_json::to_vec(&answer).expect("JSON");
        tokio::spawn(async move {
            let mut index = 0;
            while let Ok((stream, _)) = listener.accept().await {
                let fault = faults.get(index).copied();
                index += 1;
                let seen = Arc::clone(&seen);
                let body = body.clone();
                tokio::spawn(async move { serve(stream, fault, &body, &seen).await });
            }
        });
        RawServer {
            base_url: format!("http://{address}{BASE_PATH}"),
            requests,
        }
    }

    fn client(&self) -> Client {
        Client::from_api_key(API_KEY, &self.base_url).expect("a client")
    }

    fn requests(&self) -> Vec<String> {
        self.requests.lock().expect("not poisoned").clone()
    }
}

async fn serve(
    mut stream: TcpStream,
    fault: Option<Fault>,
    body: &[u8],
    seen: &Mutex<Vec<String>>,
) {
    let mut head = Vec::new();
    let mut buffer = [0u8; 4096];
    while !head.windows(4).any(|window| window == b"\r\n\r\n") {
        match stream.read(&mut buffer).await {
            Ok(0) | Err(_) => return,
            Ok(read) => head.extend_from_slice(&buffer[..read]),
        }
    }
    let line = String::from_utf8_lossy(&head)
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned();
    seen.lock().expect("not poisoned").push(line);
    let header = |length: Option<usize>| {
        let length = length.map_or_else(String::new, |length| {
            format!("content-length: {length}\r\n")
        });
        format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n{length}connection: close\r\n\r\n"
        )
    };
    let half = &body[..body.len() / 2];
    // Write errors mean the client has gone, which is what some faults are for.
    match fault {
        Some(Fault::Reset) => {
            let _ = stream.set_zero_linger();
            drop(stream);
        }
        Some(Fault::Close) => {
            let _ = stream.shutdown().await;
        }
        Some(Fault::Truncate) => {
            let _ = stream.write_all(header(Some(body.len())).as_bytes()).await;
            let _ = stream.write_all(half).await;
            let _ = stream.shutdown().await;
        }
        Some(Fault::CutJson) => {
            let _ = stream.write_all(header(None).as_bytes()).await;
            let _ = stream.write_all(half).await;
            let _ = stream.shutdown().await;
        }
        Some(Fault::Dribble) => {
            if stream
                .write_all(header(Some(body.len())).as_bytes())
                .await
                .is_err()
            {
                return;
            }
            for byte in body {
                tokio::time::sleep(Duration::from_millis(50)).await;
                if stream.write_all(&[*byte]).await.is_err() {
                    return;
                }
            }
        }
        None => {
            let _ = stream.write_all(header(Some(body.len())).as_bytes()).await;
            let _ = stream.write_all(body).await;
            let _ = stream.shutdown().await;
        }
    }
}

/// The poll meets `fault` once, then the completed answer: it completes, with one request per
/// connection.
async fn rides_out(fault: Fault, options: &PollOptions) {
    let server = RawServer::start(vec![fault], completed()).await;
    let conversion = server
        .client()
        .wait_for_conversion(task(), options)
        .await
        .unwrap_or_else(|error| panic!("{fault:?} was not ridden out: {error:?}"));
    assert!(conversion.status.is_completed(), "{fault:?}");
    let requests = server.requests();
    assert_eq!(requests.len(), 2, "{fault:?}: {requests:?}");
    assert!(
        requests.iter().all(|line| line.starts_with("GET ")),
        "{requests:?}"
    );
}

#[tokio::test]
async fn a_reset_is_ridden_out() {
    rides_out(Fault::Reset, &quick()).await;
}

#[tokio::test]
async fn a_close_without_an_answer_is_ridden_out() {
    rides_out(Fault::Close, &quick()).await;
}

#[tokio::test]
async fn a_body_cut_short_is_ridden_out() {
    rides_out(Fault::Truncate, &quick()).await;
}

#[tokio::test]
async fn json_cut_short_is_ridden_out() {
    rides_out(Fault::CutJson, &quick()).await;
}

/// Headers at once, then a byte every 50 ms: only a timeout over the whole exchange (the body
/// too) catches it.
#[tokio::test]
async fn a_dribbled_answer_hits_the_request_timeout_and_is_polled_again() {
    let options = PollOptions {
        request_timeout: Duration::from_millis(400),
        ..quick()
    };
    let started = Instant::now();
    rides_out(Fault::Dribble, &options).await;
    assert!(started.elapsed() >= options.request_timeout);
}

/// Faults in a row, and a processing answer between them: still only one wait.
#[tokio::test]
async fn faults_in_a_row_are_ridden_out() {
    let faults = vec![Fault::Reset, Fault::Close, Fault::Truncate, Fault::CutJson];
    let server = RawServer::start(faults.clone(), processing()).await;
    let options = PollOptions {
        timeout: Duration::from_millis(400),
        ..quick()
    };
    let error = server
        .client()
        .wait_for_conversion(task(), &options)
        .await
        .expect_err("processing for ever");
    let ApiError::Timeout {
        last_status,
        attempts,
        ..
    } = &error
    else {
        panic!("not a timeout: {error:?}");
    };
    assert_eq!(
        last_status.as_ref().map(|status| status.as_str()),
        Some("PROCESSING"),
        "the polls after the faults were read"
    );
    let requests = server.requests();
    assert!(requests.len() > faults.len(), "{requests:?}");
    assert_eq!(usize::try_from(*attempts).ok(), Some(requests.len()));
}

/// A Cover that meets a fault after it was sent is not sent again: the API may have taken it
/// (and its credits). The error says it is not safe to resend.
#[tokio::test]
async fn a_cover_is_sent_once_whatever_happens_to_it() {
    for fault in [Fault::Reset, Fault::Close, Fault::Truncate, Fault::CutJson] {
        let server = RawServer::start(vec![fault], completed()).await;
        let error = server
            .client()
            .cover()
            .voice_id("Drake")
            .audio_url("https://example.com/song.mp3")
            .send()
            .await
            .map(|_| ())
            .expect_err("the Cover's answer was lost");
        assert!(
            !error.is_safe_to_resend(),
            "{fault:?} gave {error:?}, which does not prove the Cover was not taken"
        );
        let requests = server.requests();
        assert_eq!(requests.len(), 1, "{fault:?}: {requests:?}");
        assert!(requests[0].starts_with("POST "), "{requests:?}");
    }
}

/// Nothing listens: the request was never sent, so sending it again is safe.
#[tokio::test]
async fn a_refused_connection_is_safe_to_resend() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("a port");
    let address = listener.local_addr().expect("the address");
    drop(listener);
    let client =
        Client::from_api_key(API_KEY, &format!("http://{address}{BASE_PATH}")).expect("a client");
    let error = client
        .cover()
        .voice_id("Drake")
        .audio_url("https://example.com/song.mp3")
        .send()
        .await
        .map(|_| ())
        .expect_err("nothing listens");
    assert!(matches!(error, ApiError::Transport { .. }), "{error:?}");
    assert!(error.is_safe_to_resend(), "{error:?}");
    assert!(error.is_retryable());
}
