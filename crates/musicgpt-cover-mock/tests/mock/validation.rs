//! The Cover form checked against the spec: each violation answered with the documented status
//! and a text saying exactly what was wrong.

use musicgpt_cover_mock::{AudioSource, MockConfig};
use reqwest::multipart::{Form, Part};

use crate::common::{KEY, cover, example, file_part, mock};

#[tokio::test]
async fn form_violations_say_what_was_wrong() {
    let mock = mock(MockConfig::new().seed(20)).await;
    let url = "https://x.example/a.mp3";
    let cases: Vec<(Form, &str)> = vec![
        (
            Form::new()
                .text("voice_id", "Drake")
                .text("audio_url", url)
                .text("pitch", "13"),
            "pitch must be an integer between -12 and 12, got \"13\"",
        ),
        (
            Form::new()
                .text("voice_id", "Drake")
                .text("audio_url", url)
                .text("pitch", "-13"),
            "pitch must be an integer between -12 and 12, got \"-13\"",
        ),
        (
            Form::new()
                .text("voice_id", "Drake")
                .text("audio_url", url)
                .text("pitch", "1.5"),
            "pitch must be an integer between -12 and 12, got \"1.5\"",
        ),
        (
            Form::new()
                .text("voice_id", "Drake")
                .text("audio_url", url)
                .text("pitch", ""),
            "pitch must be an integer between -12 and 12, got \"\"",
        ),
        (Form::new().text("audio_url", url), "voice_id is required"),
        (
            Form::new().text("voice_id", "").text("audio_url", url),
            "voice_id must not be empty",
        ),
        (
            Form::new()
                .text("voice_id", "Drake")
                .text("audio_url", url)
                .text("pitch", "1")
                .text("pitch", "2"),
            "field pitch was given more than once",
        ),
        (
            Form::new()
                .text("voice_id", "Drake")
                .text("audio_file", "not a file"),
            "audio_file must be a file upload (a part with a filename), got a text field",
        ),
        (
            Form::new()
                .text("voice_id", "Drake")
                .part("audio_file", file_part(vec![1]))
                .part("audio_file", file_part(vec![2])),
            "field audio_file was given more than once",
        ),
    ];
    for (form, expected) in cases {
        let (status, body) = cover(&mock, Some(KEY), form, None).await;
        assert_eq!(status, 422, "{expected}");
        assert_eq!(
            body,
            serde_json::json!({ "success": false, "error": expected })
        );
    }
    // Neither audio: the documented body, word for word (also for an empty audio_url).
    let no_audio = example("/v1/Cover", "post", 422);
    for form in [
        Form::new().text("voice_id", "Drake"),
        Form::new().text("voice_id", "Drake").text("audio_url", ""),
    ] {
        assert_eq!(
            cover(&mock, Some(KEY), form, None).await,
            (422, no_audio.clone())
        );
    }
    // An empty, nameless file part (a browser form with no file chosen) counts as no file.
    let empty = Part::bytes(Vec::new())
        .file_name("")
        .mime_str("application/octet-stream")
        .expect("mime");
    let form = Form::new()
        .text("voice_id", "Drake")
        .part("audio_file", empty);
    assert_eq!(cover(&mock, Some(KEY), form, None).await, (422, no_audio));
    // Wrong content type.
    let resp = crate::common::client()
        .post(mock.url("/v1/Cover"))
        .header("Authorization", KEY)
        .json(&serde_json::json!({ "voice_id": "Drake", "audio_url": url }))
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status().as_u16(), 422);
    let body: serde_json::Value = resp.json().await.expect("json");
    assert_eq!(
        body["error"],
        "Content-Type must be multipart/form-data, got \"application/json\""
    );
}

#[tokio::test]
async fn audio_rules() {
    let mock = mock(MockConfig::new().seed(21)).await;
    let download_failed = example("/v1/Cover", "post", 400);
    for bad in [
        "ftp://x.example/a.mp3",
        "https://song.invalid/a.mp3",
        "<AUDIO_URL>",
        "http://",
    ] {
        let form = Form::new().text("voice_id", "Drake").text("audio_url", bad);
        assert_eq!(
            cover(&mock, Some(KEY), form, None).await,
            (400, download_failed.clone()),
            "{bad}"
        );
    }
    // Both given: the file wins and the URL is not looked at.
    let form = Form::new()
        .text("voice_id", "Drake")
        .text("audio_url", "https://song.invalid/a.mp3")
        .part("audio_file", file_part(vec![9; 100]));
    assert_eq!(cover(&mock, Some(KEY), form, None).await.0, 200);
    assert!(matches!(
        mock.state().tasks().pop().map(|t| t.source),
        Some(AudioSource::File { size: 100, .. })
    ));
    // Unknown fields are ignored (FastAPI does the same), but journalled.
    let form = Form::new()
        .text("voice_id", "Drake")
        .text("audio_url", "https://x.example/a")
        .text("genre", "pop");
    assert_eq!(cover(&mock, Some(KEY), form, None).await.0, 200);
    let last = mock
        .state()
        .journal()
        .pop()
        .and_then(|e| e.request)
        .and_then(|r| r.form)
        .expect("form");
    assert!(
        last.fields
            .iter()
            .any(|f| f.name == "genre" && f.value == "pop")
    );
    // Pitch defaults to the spec's default, 0; bounds are inclusive.
    for pitch in ["-12", "12", "+3"] {
        let form = Form::new()
            .text("voice_id", "Drake")
            .text("audio_url", "https://x.example/a")
            .text("pitch", pitch);
        assert_eq!(cover(&mock, Some(KEY), form, None).await.0, 200, "{pitch}");
    }
    let form = Form::new()
        .text("voice_id", "Drake")
        .text("audio_url", "https://x.example/a");
    cover(&mock, Some(KEY), form, None).await;
    assert_eq!(mock.state().tasks().pop().map(|t| t.pitch), Some(0));
}
