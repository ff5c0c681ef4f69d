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
        "Content-Type must be multipart/form-data or application/x-www-form-urlencoded, got \"application/json\""
    );
}

/// POSTs a url-encoded body, as `requests.post(url, data=payload)` does.
async fn urlencoded(
    mock: &musicgpt_cover_mock::MockServer,
    body: &str,
) -> (u16, serde_json::Value) {
    let resp = crate::common::client()
        .post(mock.url("/v1/Cover"))
        .header("Authorization", KEY)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(body.to_owned())
        .send()
        .await
        .expect("send");
    let status = resp.status().as_u16();
    (status, resp.json().await.expect("json"))
}

#[tokio::test]
async fn a_url_encoded_form_follows_the_same_rules() {
    let mock = mock(MockConfig::new().seed(22)).await;
    let error = |text: &str| serde_json::json!({ "success": false, "error": text });
    // Accepted: decoded (`+` and `%XX`), pitch read as an integer, the URL as the source.
    let (status, body) = urlencoded(
        &mock,
        "voice_id=Taylor+Swift&pitch=-3&audio_url=https%3A%2F%2Fx.example%2Fa.mp3%3Fv%3D1&&webhook_url=",
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let task = mock.state().tasks().pop().expect("a task");
    assert_eq!(task.voice_id, "Taylor Swift");
    assert_eq!(task.pitch, -3);
    assert!(matches!(
        task.source,
        AudioSource::Url { ref url } if url == "https://x.example/a.mp3?v=1"
    ));
    assert_eq!(task.webhook_url, None);
    // An `audio_file` value is the file's bytes, percent-encoded: counted, not kept.
    assert_eq!(
        urlencoded(&mock, "voice_id=Drake&audio_file=ID3%00%01abc")
            .await
            .0,
        200
    );
    assert!(matches!(
        mock.state().tasks().pop().map(|t| t.source),
        Some(AudioSource::File {
            size: 8,
            filename: None,
            ..
        })
    ));
    // The same violations, the same answers as in a multipart form.
    let no_audio = example("/v1/Cover", "post", 422);
    for (body, expected) in [
        (
            "voice_id=Drake&audio_url=https://x.example/a&pitch=13",
            error("pitch must be an integer between -12 and 12, got \"13\""),
        ),
        (
            "audio_url=https://x.example/a",
            error("voice_id is required"),
        ),
        (
            "voice_id=Drake&voice_id=Joji&audio_url=https://x.example/a",
            error("field voice_id was given more than once"),
        ),
        ("voice_id=Drake", no_audio.clone()),
        ("voice_id=Drake&audio_url=", no_audio.clone()),
        ("", error("voice_id is required")),
    ] {
        assert_eq!(urlencoded(&mock, body).await, (422, expected), "{body}");
    }
    assert_eq!(
        urlencoded(&mock, "voice_id=Drake&audio_url=%3CAUDIO_URL%3E").await,
        (400, example("/v1/Cover", "post", 400))
    );
    // `audio_file=` is given, if empty: the schema's `anyOf` asks no more of it.
    assert_eq!(
        urlencoded(&mock, "voice_id=Drake&audio_url=&audio_file=")
            .await
            .0,
        200
    );
    assert!(matches!(
        mock.state().tasks().pop().map(|t| t.source),
        Some(AudioSource::File { size: 0, .. })
    ));
    // Only the three accepted forms made a task.
    assert_eq!(mock.state().tasks().len(), 3);
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

#[tokio::test]
async fn a_url_encoded_file_over_the_limit_is_413() {
    let mock = mock(MockConfig::new().seed(23).max_upload_bytes(16)).await;
    let documented = example("/v1/Cover", "post", 413);
    // 17 bytes, 11 of them percent-encoded: over the limit of 16 only once decoded bytes count.
    let body = "voice_id=Drake&audio_file=%00%01%02%03%04%05%06%07%08%09%0A123456";
    assert_eq!(urlencoded(&mock, body).await, (413, documented));
    let small = "voice_id=Drake&audio_file=%00%01%02%03%04%05%06%07%08%09%0A12345";
    assert_eq!(urlencoded(&mock, small).await.0, 200);
}
