//! Uploads are streamed and counted, limited with a 413, and hostile bodies get a 4xx JSON answer.
//! Also the router without a socket.

use axum::body::Body;
use axum::http::Request;
use futures::StreamExt;
use musicgpt_cover_mock::{MockConfig, MockState, router};
use reqwest::multipart::{Form, Part};
use tower::ServiceExt;

use crate::common::{KEY, client, cover, example, file_part, mock};

#[tokio::test]
async fn an_upload_over_the_limit_is_413() {
    let mock = mock(MockConfig::new().seed(16).max_upload_bytes(10_000)).await;
    let ok = Form::new()
        .text("voice_id", "Drake")
        .part("audio_file", file_part(vec![1; 10_000]));
    assert_eq!(cover(&mock, Some(KEY), ok, None).await.0, 200);
    let big = Form::new()
        .text("voice_id", "Drake")
        .part("audio_file", file_part(vec![1; 10_001]));
    let (status, body) = cover(&mock, Some(KEY), big, None).await;
    assert_eq!((status, body), (413, example("/v1/Cover", "post", 413)));
    // Declared too large: refused before the body is read.
    let resp = client()
        .post(mock.url("/v1/Cover"))
        .header("Authorization", KEY)
        .header("Content-Type", "multipart/form-data; boundary=x")
        .header("Content-Length", "999999999")
        .body(vec![b'x'; 10])
        .send()
        .await;
    if let Ok(resp) = resp {
        assert_eq!(resp.status().as_u16(), 413);
    }
    let journal = mock.state().journal();
    let rejected = journal
        .iter()
        .find(|e| e.request.as_ref().is_some_and(|r| r.status == 413))
        .expect("413 journalled");
    let form = rejected
        .request
        .as_ref()
        .and_then(|r| r.form.as_ref())
        .expect("form");
    assert!(
        form.error
            .as_deref()
            .is_some_and(|e| e.contains("upload limit"))
    );
}

#[tokio::test]
async fn a_large_upload_streams_through_and_is_counted() {
    let mock = mock(MockConfig::new().seed(17)).await;
    const CHUNK: usize = 64 * 1024;
    const CHUNKS: usize = 256; // 16 MiB
    let stream = futures::stream::iter(
        (0..CHUNKS).map(|i| Ok::<_, std::io::Error>(vec![(i % 251) as u8; CHUNK])),
    );
    let part = Part::stream(reqwest::Body::wrap_stream(stream))
        .file_name("big.wav")
        .mime_str("audio/wav")
        .expect("mime");
    let form = Form::new()
        .text("voice_id", "Drake")
        .part("audio_file", part);
    let (status, body) = cover(&mock, Some(KEY), form, None).await;
    assert_eq!(status, 200, "{body}");
    let task = mock.state().tasks().pop().expect("task");
    assert!(
        matches!(task.source, musicgpt_cover_mock::AudioSource::File { size, .. } if size == (CHUNK * CHUNKS) as u64)
    );
}

/// Sends raw bytes as a Cover body with `content_type`.
async fn raw(
    mock: &musicgpt_cover_mock::MockServer,
    content_type: &str,
    body: Vec<u8>,
) -> (u16, serde_json::Value) {
    let resp = client()
        .post(mock.url("/v1/Cover"))
        .header("Authorization", KEY)
        .header("Content-Type", content_type)
        .body(body)
        .send()
        .await
        .expect("send");
    let status = resp.status().as_u16();
    let bytes = resp.bytes().await.expect("body");
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or_else(|_| panic!("not JSON: {bytes:?}")),
    )
}

#[tokio::test]
async fn hostile_bodies_get_a_4xx_json_answer() {
    let mock = mock(MockConfig::new().seed(18)).await;
    let mp = "multipart/form-data; boundary=XyZ";
    let part = |name: &str, value: &str| {
        format!("--XyZ\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
    };
    let many: String = (0..70)
        .map(|i| part(&format!("f{i}"), "v"))
        .collect::<String>()
        + "--XyZ--\r\n";
    let cases: Vec<(&str, String, Vec<u8>)> = vec![
        (
            "garbage",
            mp.to_owned(),
            b"\x00\xff garbage \r\n\r\n--".to_vec(),
        ),
        ("empty body", mp.to_owned(), Vec::new()),
        (
            "no boundary parameter",
            "multipart/form-data".to_owned(),
            part("voice_id", "Drake").into_bytes(),
        ),
        (
            "JSON body",
            "application/json".to_owned(),
            br#"{"voice_id":"Drake"}"#.to_vec(),
        ),
        (
            "url-encoded body",
            "application/x-www-form-urlencoded".to_owned(),
            b"voice_id=Drake".to_vec(),
        ),
        (
            "cut off mid part",
            mp.to_owned(),
            b"--XyZ\r\nContent-Disposition: form-data; name=\"voice_id\"\r\n\r\nDra".to_vec(),
        ),
        (
            "part without a name",
            mp.to_owned(),
            b"--XyZ\r\nContent-Disposition: form-data\r\n\r\nx\r\n--XyZ--\r\n".to_vec(),
        ),
        ("no boundary in 2 MiB", mp.to_owned(), vec![b'a'; 2 << 20]),
        (
            "headers never end",
            mp.to_owned(),
            [b"--XyZ\r\n".as_slice(), &vec![b'h'; 2 << 20]].concat(),
        ),
        ("too many parts", mp.to_owned(), many.into_bytes()),
        (
            "huge text field",
            mp.to_owned(),
            (part("voice_id", &"D".repeat(100_000)) + "--XyZ--\r\n").into_bytes(),
        ),
    ];
    for (what, content_type, body) in cases {
        let (status, json) = raw(&mock, &content_type, body).await;
        assert!((400..500).contains(&status), "{what}: {status}");
        assert_eq!(json["success"], false, "{what}");
        assert!(
            json["error"].as_str().is_some_and(|e| !e.is_empty()),
            "{what}: {json}"
        );
    }
    // Still serving.
    let ok = Form::new()
        .text("voice_id", "Drake")
        .text("audio_url", "https://x.example/a");
    assert_eq!(cover(&mock, Some(KEY), ok, None).await.0, 200);
}

#[tokio::test]
async fn the_router_works_without_a_socket() {
    let state = MockState::new(MockConfig::new().seed(19)).expect("state");
    let app = router(state.clone());
    let response = app
        .oneshot(
            Request::get("/api/public/v1/searchVoices?query=JOJI")
                .header("Authorization", KEY)
                .body(Body::empty())
                .expect("request"),
        )
        .await
        .expect("response");
    assert_eq!(response.status(), 200);
    let mut body = response.into_body().into_data_stream();
    let mut bytes = Vec::new();
    while let Some(chunk) = body.next().await {
        bytes.extend_from_slice(&chunk.expect("chunk"));
    }
    let json: serde_json::Value = serde_json::from_slice(&bytes).expect("json");
    assert_eq!(json["voices"][0]["voice_name"], "Joji");
    assert_eq!(json["total"], 1);
    assert_eq!(state.journal().len(), 1);
}

/// A 16-bit mono WAV of a sine tone.
fn tone_wav(hz: f64, seconds: f64, rate: u32) -> Vec<u8> {
    let frames = (f64::from(rate) * seconds) as u32;
    let mut out = Vec::with_capacity(44 + 2 * frames as usize);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + 2 * frames).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&rate.to_le_bytes());
    out.extend_from_slice(&(2 * rate).to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&16u16.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&(2 * frames).to_le_bytes());
    for i in 0..frames {
        let s = (2.0 * std::f64::consts::PI * hz * f64::from(i) / f64::from(rate)).sin();
        out.extend_from_slice(&((s * 0.5 * f64::from(i16::MAX)) as i16).to_le_bytes());
    }
    out
}

/// (sample rate, channels, samples of the first channel) of a 16-bit PCM WAV.
fn read_wav(bytes: &[u8]) -> (u32, u16, Vec<f64>) {
    assert_eq!(&bytes[..4], b"RIFF");
    let mut at = 12;
    let (mut rate, mut channels) = (0, 0);
    while at + 8 <= bytes.len() {
        let id = &bytes[at..at + 4];
        let len = u32::from_le_bytes(bytes[at + 4..at + 8].try_into().expect("4 bytes")) as usize;
        let body = &bytes[at + 8..(at + 8 + len).min(bytes.len())];
        if id == b"fmt " {
            channels = u16::from_le_bytes([body[2], body[3]]);
            rate = u32::from_le_bytes(body[4..8].try_into().expect("4 bytes"));
        } else if id == b"data" {
            let step = 2 * usize::from(channels);
            let samples = body
                .chunks_exact(step)
                .map(|f| f64::from(i16::from_le_bytes([f[0], f[1]])))
                .collect();
            return (rate, channels, samples);
        }
        at += 8 + len + (len & 1);
    }
    panic!("no data chunk")
}

/// The tone's frequency from its rising zero crossings.
fn frequency(samples: &[f64], rate: u32) -> f64 {
    let crossings: Vec<usize> = samples
        .windows(2)
        .enumerate()
        .filter(|(_, w)| w[0] < 0.0 && w[1] >= 0.0)
        .map(|(i, _)| i)
        .collect();
    let (first, last) = (crossings[0], crossings[crossings.len() - 1]);
    (crossings.len() - 1) as f64 * f64::from(rate) / (last - first) as f64
}

#[tokio::test]
async fn an_uploaded_song_becomes_the_result_shifted_and_as_long() {
    let mock = mock(MockConfig::new().seed(40)).await;
    let form = Form::new()
        .text("voice_id", "Drake")
        .text("pitch", "12")
        .part("audio_file", file_part(tone_wav(440.0, 1.5, 22_050)));
    let (status, body) = cover(&mock, Some(KEY), form, None).await;
    assert_eq!(status, 200, "{body}");
    let task = body["task_id"].as_str().expect("task_id").to_owned();
    let done = mock.state().complete_task(&task).expect("completes");
    let wav = client()
        .get(format!(
            "{}/files/{}.wav",
            mock.origin(),
            done.conversion_id
        ))
        .send()
        .await
        .expect("the WAV")
        .bytes()
        .await
        .expect("bytes");
    let (rate, _, samples) = read_wav(&wav);
    let seconds = samples.len() as f64 / f64::from(rate);
    assert!(
        (seconds - 1.5).abs() < 0.03,
        "lasts {seconds} s, not the upload's 1.5 s"
    );
    // An octave up: 880 Hz, measured away from the edges.
    let middle = &samples[samples.len() / 4..samples.len() * 3 / 4];
    let hz = frequency(middle, rate);
    assert!((hz / 880.0 - 1.0).abs() < 0.02, "{hz} Hz");
    let conversion = crate::common::by_id(&mock, &task).await;
    let duration = conversion["conversion"]["conversion_duration"]
        .as_f64()
        .expect("a duration");
    assert!(
        (duration - 1.5).abs() < 0.03,
        "conversion_duration {duration}"
    );
    let mp3 = client()
        .get(format!(
            "{}/files/{}.mp3",
            mock.origin(),
            done.conversion_id
        ))
        .send()
        .await
        .expect("the MP3");
    assert_eq!(mp3.status(), 200);
    // The task's record says what was converted.
    let view = mock.state().task(&task).expect("the task");
    assert!(view.audio.is_some(), "{view:?}");
}

#[tokio::test]
async fn an_upload_that_does_not_decode_keeps_the_tune_and_says_why() {
    let mock = mock(MockConfig::new().seed(41)).await;
    let form = Form::new().text("voice_id", "Drake").part(
        "audio_file",
        file_part(b"these bytes are no song at all".repeat(100)),
    );
    let (status, body) = cover(&mock, Some(KEY), form, None).await;
    assert_eq!(status, 200, "{body}");
    let task = body["task_id"].as_str().expect("task_id").to_owned();
    let done = mock.state().complete_task(&task).expect("completes");
    let wav = client()
        .get(format!(
            "{}/files/{}.wav",
            mock.origin(),
            done.conversion_id
        ))
        .send()
        .await
        .expect("the WAV")
        .bytes()
        .await
        .expect("bytes");
    let (rate, _, samples) = read_wav(&wav);
    let seconds = samples.len() as f64 / f64::from(rate);
    assert!(
        (seconds - musicgpt_cover_mock::RESULT_AUDIO_SECONDS).abs() < 0.05,
        "{seconds}"
    );
    let view = mock.state().task(&task).expect("the task");
    assert!(
        view.audio.is_some_and(|why| !why.is_empty()),
        "the record says nothing"
    );
}
