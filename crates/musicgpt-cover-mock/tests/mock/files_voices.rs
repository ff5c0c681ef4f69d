//! Result files (real WAV and MP3, ranges for the audio element) and the voice catalogue.

use std::time::Duration;

use musicgpt_cover_mock::MockConfig;

use crate::common::{KEY, client, cover, get, mock, str_of, url_form};

#[tokio::test]
async fn result_files_are_real_audio_with_ranges() {
    let mock = mock(MockConfig::new().seed(24).time_scale(1.0)).await;
    let (_, body) = cover(
        &mock,
        Some(KEY),
        url_form("Drake", "https://x.example/a"),
        None,
    )
    .await;
    let cid = str_of(&body, "conversion_id").to_owned();
    let url = |ext: &str| format!("{}/files/{cid}.{ext}", mock.origin());

    // Not finished: no file yet.
    let resp = client().get(url("mp3")).send().await.expect("get");
    assert_eq!(resp.status().as_u16(), 404);
    assert_eq!(
        resp.json::<serde_json::Value>().await.expect("json")["success"],
        false
    );

    mock.state().advance_clock(Duration::from_secs(3600));
    let mp3 = client().get(url("mp3")).send().await.expect("get");
    assert_eq!(mp3.status().as_u16(), 200);
    assert_eq!(mp3.headers()["content-type"], "audio/mpeg");
    assert_eq!(mp3.headers()["accept-ranges"], "bytes");
    let len: usize = mp3.headers()["content-length"]
        .to_str()
        .expect("len")
        .parse()
        .expect("number");
    let bytes = mp3.bytes().await.expect("bytes");
    assert_eq!(bytes.len(), len);
    assert!(
        bytes
            .windows(2)
            .any(|w| w[0] == 0xFF && w[1] & 0xE0 == 0xE0),
        "MP3 frame sync"
    );

    let wav = client()
        .get(url("wav"))
        .header("Range", "bytes=0-43")
        .send()
        .await
        .expect("get");
    assert_eq!(wav.status().as_u16(), 206);
    assert_eq!(wav.headers()["content-type"], "audio/wav");
    let total = wav.headers()["content-range"]
        .to_str()
        .expect("range")
        .to_owned();
    let header = wav.bytes().await.expect("bytes");
    assert_eq!(&header[..4], b"RIFF");
    assert_eq!(&header[8..12], b"WAVE");
    assert!(total.starts_with("bytes 0-43/"));

    let bad = client()
        .get(url("wav"))
        .header("Range", "bytes=999999999-")
        .send()
        .await
        .expect("get");
    assert_eq!(bad.status().as_u16(), 416);
    let head = client().head(url("mp3")).send().await.expect("head");
    assert_eq!(head.status().as_u16(), 200);
    assert_eq!(
        client()
            .get(format!("{}/files/nope.mp3", mock.origin()))
            .send()
            .await
            .expect("get")
            .status()
            .as_u16(),
        404
    );
    assert_eq!(
        client()
            .get(format!("{}/files/{cid}.ogg", mock.origin()))
            .send()
            .await
            .expect("get")
            .status()
            .as_u16(),
        404
    );
}

#[tokio::test]
async fn voices_page_and_search_ignoring_case() {
    let mock = mock(MockConfig::new().seed(25)).await;
    let (status, first) = get(&mock, "/v1/getAllVoices", Some(KEY)).await;
    assert_eq!(status, 200);
    let total = first["total"].as_u64().expect("total");
    assert!(total >= 36, "{total}");
    assert_eq!(first["limit"], 20);
    assert_eq!(first["page"], 0);
    assert_eq!(first["voices"].as_array().map(Vec::len), Some(20));
    assert_eq!(
        first["voices"][0],
        serde_json::json!({ "voice_id": "Drake", "voice_name": "Drake" })
    );

    // Paging covers every voice exactly once.
    let mut names = Vec::new();
    for page in 0.. {
        let (_, body) = get(
            &mock,
            &format!("/v1/getAllVoices?limit=7&page={page}"),
            Some(KEY),
        )
        .await;
        let voices = body["voices"].as_array().expect("voices").clone();
        if voices.is_empty() {
            break;
        }
        names.extend(voices.into_iter().map(|v| v["voice_name"].clone()));
    }
    assert_eq!(names.len() as u64, total);

    let (_, max) = get(&mock, "/v1/getAllVoices?limit=100", Some(KEY)).await;
    assert_eq!(
        max["voices"].as_array().map(Vec::len) as Option<usize>,
        Some(total as usize)
    );
    let (status, body) = get(&mock, "/v1/getAllVoices?limit=101", Some(KEY)).await;
    assert_eq!(status, 400);
    assert_eq!(
        body["error"],
        "limit must be an integer between 1 and 100, got \"101\""
    );
    let (status, body) = get(&mock, "/v1/getAllVoices?page=-1", Some(KEY)).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (
            400,
            Some("page must be an integer between 0 and 1000000, got \"-1\"")
        )
    );

    let (_, drake) = get(&mock, "/v1/searchVoices?query=DRAKE", Some(KEY)).await;
    let found: Vec<&str> = drake["voices"]
        .as_array()
        .expect("voices")
        .iter()
        .filter_map(|v| v["voice_name"].as_str())
        .collect();
    assert!(
        found.contains(&"Drake") && found.iter().all(|n| n.to_lowercase().contains("drake")),
        "{found:?}"
    );
    assert_eq!(drake["total"], found.len());
    let (_, b) = get(&mock, "/v1/searchVoices?query=BEYONC%C3%89", Some(KEY)).await;
    assert_eq!(b["voices"][0]["voice_name"], "Beyoncé");
    let (_, none) = get(&mock, "/v1/searchVoices?query=zzzz", Some(KEY)).await;
    assert_eq!(
        (
            none["total"].as_u64(),
            none["voices"].as_array().map(Vec::len)
        ),
        (Some(0), Some(0))
    );
    let (status, body) = get(&mock, "/v1/searchVoices?query=", Some(KEY)).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("query must not be empty"))
    );
}
