//! Streamed uploads: a file from disk and an async stream arrive intact, and a file much larger
//! than the memory the upload uses goes through without being loaded.

use std::path::PathBuf;

use bytes::Bytes;
use musicgpt_cover::{AudioFile, Client};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::{
    API_KEY, BASE_PATH, answer, parse_multipart, received, response_example, server_and_client,
};

/// A file in the temp folder, removed on drop.
struct TempFile(PathBuf);

impl TempFile {
    fn new(extension: &str) -> Self {
        Self(std::env::temp_dir().join(format!(
            "musicgpt-cover-test-{}.{extension}",
            uuid::Uuid::new_v4()
        )))
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Bytes that no off-by-one or reordering can leave unchanged.
fn noise(len: usize) -> Vec<u8> {
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state.to_le_bytes()[0]
        })
        .collect()
}

#[tokio::test]
async fn a_file_from_disk_arrives_intact_with_its_name_and_type() {
    let (server, client) = server_and_client().await;
    answer(
        &server,
        "cover",
        200,
        &response_example("cover", "200", "minimal"),
    )
    .await;
    let file = TempFile::new("flac");
    let content = noise(3 * 1024 * 1024 + 17);
    std::fs::write(&file.0, &content).expect("temp file written");

    let audio = AudioFile::from_path(&file.0).await.expect("opens");
    assert_eq!(audio.len(), Some(content.len() as u64));
    client
        .cover()
        .voice_id("Drake")
        .audio_file(audio)
        .send()
        .await
        .expect("accepted");

    let requests = received(&server).await;
    let parts = parse_multipart(&requests[0]).await;
    let part = parts
        .iter()
        .find(|part| part.name == "audio_file")
        .expect("the file part");
    let expected_name = file
        .0
        .file_name()
        .and_then(|name| name.to_str())
        .expect("a name");
    assert_eq!(part.file_name.as_deref(), Some(expected_name));
    assert_eq!(part.content_type.as_deref(), Some("audio/flac"));
    assert_eq!(part.bytes.len(), content.len());
    assert!(
        part.bytes.as_ref() == content.as_slice(),
        "the bytes differ"
    );
}

#[tokio::test]
async fn a_missing_file_is_an_io_error_naming_the_path() {
    let file = TempFile::new("mp3");
    let error = AudioFile::from_path(&file.0)
        .await
        .expect_err("no such file");
    assert_eq!(error.kind(), std::io::ErrorKind::NotFound);
    assert!(
        error.to_string().contains(&file.0.display().to_string()),
        "{error}"
    );
    let error = musicgpt_cover::ApiError::from(error);
    assert!(matches!(error, musicgpt_cover::ApiError::Io(_)));
}

#[tokio::test]
async fn an_async_stream_of_unknown_length_arrives_intact() {
    let (server, client) = server_and_client().await;
    answer(
        &server,
        "cover",
        200,
        &response_example("cover", "200", "minimal"),
    )
    .await;
    let content = noise(1024 * 1024 + 5);
    let chunks: Vec<Result<Bytes, std::io::Error>> = content
        .chunks(64 * 1024 + 3)
        .map(|chunk| Ok(Bytes::copy_from_slice(chunk)))
        .collect();

    let audio = AudioFile::from_stream(futures::stream::iter(chunks), "live.ogg", None);
    assert_eq!(audio.len(), None);
    client
        .cover()
        .voice_id("Drake")
        .audio_file(audio)
        .send()
        .await
        .expect("accepted");

    let requests = received(&server).await;
    let parts = parse_multipart(&requests[0]).await;
    let part = parts
        .iter()
        .find(|part| part.name == "audio_file")
        .expect("the file part");
    assert_eq!(part.content_type.as_deref(), Some("audio/ogg"));
    assert!(
        part.bytes.as_ref() == content.as_slice(),
        "the bytes differ"
    );
}

/// The process's peak resident memory, in bytes (Linux).
fn peak_rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// Reads one HTTP request, discarding its body, and answers `response_body` as JSON.
/// Returns the number of body bytes received.
async fn discard_one_request(listener: tokio::net::TcpListener, response_body: Vec<u8>) -> u64 {
    let (mut socket, _) = listener.accept().await.expect("a connection");
    let mut buffer = vec![0u8; 256 * 1024];
    let mut head = Vec::new();
    let header_end = loop {
        let read = socket.read(&mut buffer).await.expect("reads");
        assert!(read > 0, "the connection closed before the headers ended");
        head.extend_from_slice(&buffer[..read]);
        if let Some(end) = head.windows(4).position(|window| window == b"\r\n\r\n") {
            break end + 4;
        }
    };
    let headers = String::from_utf8_lossy(&head[..header_end]).to_ascii_lowercase();
    let length: u64 = headers
        .lines()
        .find_map(|line| line.strip_prefix("content-length:"))
        .and_then(|value| value.trim().parse().ok())
        .expect("a file of known length makes a request of known length");
    let mut received = (head.len() - header_end) as u64;
    while received < length {
        let read = socket.read(&mut buffer).await.expect("reads");
        assert!(read > 0, "the body ended early");
        received += read as u64;
    }
    let head = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        response_body.len()
    );
    socket.write_all(head.as_bytes()).await.expect("writes");
    socket.write_all(&response_body).await.expect("writes");
    received
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_far_larger_than_the_memory_used_is_streamed() {
    const SIZE: u64 = 1 << 30;
    // A sparse file: 1 GiB to read, no disk used.
    let file = TempFile::new("wav");
    std::fs::File::create(&file.0)
        .and_then(|f| f.set_len(SIZE))
        .expect("a sparse file");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("binds");
    let address = listener.local_addr().expect("an address");
    let example: Value = response_example("cover", "200", "minimal");
    let server = tokio::spawn(discard_one_request(
        listener,
        serde_json::to_vec(&example).expect("JSON"),
    ));
    let client =
        Client::from_api_key(API_KEY, &format!("http://{address}{BASE_PATH}")).expect("a client");

    let before = peak_rss();
    let started = std::time::Instant::now();
    let accepted = client
        .cover()
        .voice_id("Drake")
        .audio_file(AudioFile::from_path(&file.0).await.expect("opens"))
        .send()
        .await
        .expect("accepted");
    let elapsed = started.elapsed();
    let received = server.await.expect("the server task ends");
    assert_eq!(
        accepted.into_inner().task_id.to_string(),
        example["task_id"]
    );
    assert!(
        received > SIZE,
        "the whole file and the form around it: {received}"
    );
    if let (Some(before), Some(after)) = (before, peak_rss()) {
        // Other tests of this binary run beside this one; none comes near 256 MiB.
        assert!(
            after.saturating_sub(before) < 256 << 20,
            "peak RSS grew by {} MiB uploading {} MiB in {elapsed:?}",
            after.saturating_sub(before) >> 20,
            SIZE >> 20
        );
    }
    eprintln!("uploaded {} MiB in {elapsed:?}", SIZE >> 20);
}
