//! Slow and stuck peers: clients that stall in a request's head or body, webhook receivers that
//! hang or go away, a burst of webhooks all due at once, and a stop under load. None of them may
//! hold the mock up, and no webhook may be lost.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::net::{Ipv4Addr, SocketAddr};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use futures::StreamExt;
use musicgpt_cover_mock::{DeliveryState, MockConfig, MockServer};
use reqwest::multipart::Form;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::common::{KEY, Receiver, client, cover, mock, str_of};

/// Reads until the peer closes (or `within` passes); the bytes read, and whether it closed.
async fn read_until_closed(stream: &mut TcpStream, within: Duration) -> (Vec<u8>, bool) {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return (out, true),
            Ok(Ok(n)) => out.extend_from_slice(&buf[..n]),
            Err(_) => return (out, false),
        }
    }
}

fn status_of(answer: &[u8]) -> Option<u16> {
    let text = String::from_utf8_lossy(answer);
    text.strip_prefix("HTTP/1.1 ")?.get(..3)?.parse().ok()
}

fn body_of(answer: &[u8]) -> serde_json::Value {
    let text = String::from_utf8_lossy(answer);
    let body = text.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    serde_json::from_str(body).unwrap_or_else(|_| panic!("a JSON body, got {text:?}"))
}

async fn start_task(mock: &MockServer, hook: &str) -> String {
    let form = Form::new()
        .text("voice_id", "Drake")
        .text("audio_url", "https://x.example/a")
        .text("webhook_url", hook.to_owned());
    let (status, body) = cover(mock, Some(KEY), form, None).await;
    assert_eq!(status, 200, "{body}");
    str_of(&body, "task_id").to_owned()
}

#[tokio::test]
async fn a_client_stalled_in_the_request_head_is_disconnected_after_the_header_timeout() {
    let mock = mock(MockConfig::new().header_timeout(Duration::from_millis(300))).await;
    let mut stalled = TcpStream::connect(mock.addr()).await.expect("connect");
    stalled
        .write_all(b"GET /api/public/v1/getAll")
        .await
        .expect("write");
    let started = Instant::now();
    let (_, closed) = read_until_closed(&mut stalled, Duration::from_secs(5)).await;
    assert!(closed, "still open after 5 s");
    assert!(started.elapsed() >= Duration::from_millis(250));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_stalled_connections_do_not_hold_up_other_clients() {
    // Stalled for 5 s each; the other clients must be answered long before that.
    let mock = mock(MockConfig::new().header_timeout(Duration::from_secs(5))).await;
    let mut stalled = Vec::new();
    for _ in 0..1000 {
        let mut s = TcpStream::connect(mock.addr()).await.expect("connect");
        s.write_all(b"POST /api/public/v1/Cover HTTP/1.1\r\nHost: x\r\n")
            .await
            .expect("write");
        stalled.push(s);
    }
    let opened = Instant::now();
    for _ in 0..20 {
        let answer = client()
            .get(mock.url("/v1/getAllVoices"))
            .header("Authorization", KEY)
            .send()
            .await
            .expect("a normal request");
        assert_eq!(answer.status(), 200);
    }
    let form = Form::new()
        .text("voice_id", "Drake")
        .text("audio_url", "https://x.example/a");
    assert_eq!(cover(&mock, Some(KEY), form, None).await.0, 200);
    assert!(
        opened.elapsed() < Duration::from_secs(4),
        "normal requests waited for the stalled ones: {:?}",
        opened.elapsed()
    );
    // And every stalled connection is closed once its head is overdue.
    for s in &mut stalled {
        let (_, closed) = read_until_closed(s, Duration::from_secs(10)).await;
        assert!(closed, "a stalled connection outlived the header timeout");
    }
}

#[tokio::test]
async fn a_body_sent_a_byte_at_a_time_is_answered_408() {
    let mock = mock(
        MockConfig::new()
            .body_timeout(Duration::from_millis(500))
            .min_body_rate(1000),
    )
    .await;
    let mut s = TcpStream::connect(mock.addr()).await.expect("connect");
    let head = format!(
        "POST /api/public/v1/Cover HTTP/1.1\r\nHost: x\r\nAuthorization: {KEY}\r\nContent-Type: multipart/form-data; boundary=b\r\nContent-Length: 100000\r\n\r\n--b\r\nContent-Disposition: form-data; name=\"voice_id\"\r\n\r\n"
    );
    s.write_all(head.as_bytes()).await.expect("write head");
    let started = Instant::now();
    let trickle = async {
        // Ten bytes a second, far below the minimum rate, never pausing past the timeout.
        for _ in 0..100 {
            if s.write_all(b"D").await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    tokio::time::timeout(Duration::from_millis(1500), trickle)
        .await
        .ok();
    let (answer, closed) = read_until_closed(&mut s, Duration::from_secs(5)).await;
    assert_eq!(
        status_of(&answer),
        Some(408),
        "{}",
        String::from_utf8_lossy(&answer)
    );
    assert!(closed, "the connection stays open");
    let body = body_of(&answer);
    assert_eq!(body["success"], false);
    assert!(str_of(&body, "error").contains("stalled"), "{body}");
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(mock.state().task_count(), 0);
}

/// A webhook receiver that accepts connections and never answers.
async fn hanging_receiver() -> (String, tokio::task::JoinHandle<()>) {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let task = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = listener.accept().await {
            held.push(s);
        }
    });
    (format!("http://{addr}/hook"), task)
}

#[tokio::test]
async fn a_hanging_receiver_delays_only_its_own_webhooks() {
    let mock = MockServer::builder()
        .seed(31)
        .webhook_timeout(Duration::from_secs(30))
        .start()
        .await;
    let (hanging, _held) = hanging_receiver().await;
    let good = Receiver::start(vec![], Duration::ZERO).await;
    // More than one receiver's share of the sender, all due before the good one.
    let mut stuck = Vec::new();
    for _ in 0..40 {
        stuck.push(start_task(&mock, &hanging).await);
    }
    let fine = start_task(&mock, &good.url).await;
    mock.state().advance_clock(Duration::from_secs(3600));
    let d = mock
        .wait_for_webhook(&fine, Duration::from_secs(5))
        .await
        .expect("delivered while the other receiver hangs");
    assert_eq!(d.state, DeliveryState::Delivered);
    let pending = stuck
        .iter()
        .filter(|t| {
            mock.state()
                .webhook_delivery(t)
                .is_some_and(|d| d.state == DeliveryState::Pending)
        })
        .count();
    assert_eq!(pending, stuck.len());
}

#[tokio::test]
async fn a_receiver_down_for_ten_seconds_then_back_gets_every_webhook_once() {
    // The default attempts and backoff: retries span 15.5 s.
    let mock = MockServer::builder().seed(32).start().await;
    let port = {
        let l = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind");
        l.local_addr().expect("addr").port()
    };
    let hook = format!("http://127.0.0.1:{port}/hook");
    let mut tasks = Vec::new();
    for _ in 0..5 {
        tasks.push(start_task(&mock, &hook).await);
    }
    mock.state().advance_clock(Duration::from_secs(3600));
    tokio::time::sleep(Duration::from_secs(10)).await;
    assert!(
        tasks.iter().all(|t| mock
            .state()
            .webhook_delivery(t)
            .is_some_and(|d| d.state == DeliveryState::Pending && !d.attempts.is_empty())),
        "every webhook is still being retried"
    );
    let receiver = Receiver::start_on(SocketAddr::from((Ipv4Addr::LOCALHOST, port))).await;
    for t in &tasks {
        let d = mock
            .wait_for_webhook(t, Duration::from_secs(15))
            .await
            .expect("settled");
        assert_eq!(d.state, DeliveryState::Delivered, "{t}");
    }
    let mut got: BTreeMap<String, usize> = BTreeMap::new();
    for r in receiver.received() {
        *got.entry(str_of(&r.body, "task_id").to_owned())
            .or_default() += 1;
    }
    assert_eq!(got.len(), tasks.len());
    assert!(got.values().all(|&n| n == 1), "{got:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_webhooks_due_at_once_are_all_delivered() {
    const TASKS: usize = 10_000;
    let mock = mock(MockConfig::new().seed(33)).await;
    let receiver = Receiver::start(vec![], Duration::ZERO).await;
    let body = format!(
        "--b\r\nContent-Disposition: form-data; name=\"voice_id\"\r\n\r\nDrake\r\n--b\r\nContent-Disposition: form-data; name=\"audio_url\"\r\n\r\nhttps://x.example/a\r\n--b\r\nContent-Disposition: form-data; name=\"webhook_url\"\r\n\r\n{}\r\n--b--\r\n",
        receiver.url
    );
    let sends = futures::stream::iter(0..TASKS).map(|_| {
        let request = client()
            .post(mock.url("/v1/Cover"))
            .header("Authorization", KEY)
            .header("Content-Type", "multipart/form-data; boundary=b")
            .body(body.clone());
        async move { request.send().await.map(|r| r.status().as_u16()) }
    });
    let statuses: Vec<_> = sends.buffer_unordered(32).collect().await;
    assert!(statuses.iter().all(|s| matches!(s, Ok(200))));
    assert_eq!(mock.state().task_count(), TASKS);

    mock.state().advance_clock(Duration::from_secs(3600));
    let deadline = Instant::now() + Duration::from_secs(120);
    while mock.state().webhook_totals().pending > 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let totals = mock.state().webhook_totals();
    assert_eq!(
        (totals.due, totals.delivered, totals.pending),
        (TASKS as u64, TASKS as u64, 0),
        "{totals:?}"
    );
    let received = receiver.received();
    let unique: std::collections::HashSet<&str> = received
        .iter()
        .map(|r| r.body["task_id"].as_str().unwrap_or_default())
        .collect();
    assert_eq!((received.len(), unique.len()), (TASKS, TASKS));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopping_under_load_answers_requests_in_flight_and_lists_undelivered_webhooks() {
    let (hanging, _held) = hanging_receiver().await;
    let mut child = Command::new(env!("CARGO_BIN_EXE_musicgpt-cover-mock"))
        .args([
            "--addr",
            "127.0.0.1:0",
            "--time-scale",
            "0",
            "--webhook-timeout",
            "30",
            "--shutdown-grace",
            "5",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the mock binary starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let origin = lines
        .by_ref()
        .map_while(Result::ok)
        .find_map(|l| l.strip_prefix("Listening on ").map(str::to_owned))
        .expect("the banner names the address");
    let addr: SocketAddr = origin
        .trim_start_matches("http://")
        .parse()
        .expect("an address");

    // Tasks that complete at once and whose webhooks hang.
    let mut tasks = Vec::new();
    for _ in 0..3 {
        let answer = client()
            .post(format!("{origin}/api/public/v1/Cover"))
            .header("Authorization", KEY)
            .multipart(
                Form::new()
                    .text("voice_id", "Drake")
                    .text("audio_url", "https://x.example/a")
                    .text("webhook_url", hanging.clone()),
            )
            .send()
            .await
            .expect("cover");
        let body: serde_json::Value = answer.json().await.expect("JSON");
        tasks.push(str_of(&body, "task_id").to_owned());
    }
    // A request in flight: its head and half its body are out when the stop comes.
    let form_body = "--b\r\nContent-Disposition: form-data; name=\"voice_id\"\r\n\r\nDrake\r\n--b\r\nContent-Disposition: form-data; name=\"audio_url\"\r\n\r\nhttps://x.example/a\r\n--b--\r\n";
    let (first, rest) = form_body.split_at(40);
    let mut in_flight = TcpStream::connect(addr).await.expect("connect");
    let head = format!(
        "POST /api/public/v1/Cover HTTP/1.1\r\nHost: x\r\nAuthorization: {KEY}\r\nContent-Type: multipart/form-data; boundary=b\r\nContent-Length: {}\r\n\r\n{first}",
        form_body.len()
    );
    in_flight.write_all(head.as_bytes()).await.expect("write");
    tokio::time::sleep(Duration::from_millis(200)).await;

    let signalled = Instant::now();
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(killed.success());
    tokio::time::sleep(Duration::from_millis(200)).await;
    in_flight
        .write_all(rest.as_bytes())
        .await
        .expect("the rest");
    let (answer, _) = read_until_closed(&mut in_flight, Duration::from_secs(5)).await;
    assert_eq!(
        status_of(&answer),
        Some(200),
        "{}",
        String::from_utf8_lossy(&answer)
    );

    let status = tokio::task::spawn_blocking(move || child.wait())
        .await
        .expect("join")
        .expect("wait");
    assert!(status.success(), "{status}");
    assert!(
        signalled.elapsed() < Duration::from_secs(8),
        "{:?}",
        signalled.elapsed()
    );
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    let report = rest.join("\n");
    assert!(report.contains("webhook(s) not delivered"), "{report}");
    for t in &tasks {
        assert!(report.contains(t.as_str()), "{t} not listed in {report}");
    }
}
