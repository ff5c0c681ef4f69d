//! Regression tests from the fuzz targets (`cargo xtask fuzz`, `fuzz/`): inputs that once made a
//! target fail, kept as the requests they were.

use musicgpt_cover_mock::MockConfig;
use reqwest::multipart::Form;

use crate::common::{KEY, client, cover, file_part, mock};

/// Found by the `request` target: a 44-byte WAV whose header claims 50,177 channels (`01 c4`).
/// symphonia-format-riff 0.6.1 multiplies the channels by the bytes per sample in a `u16` and
/// panics on the overflow in a debug build (in release it wraps). The mock probes and converts
/// an upload on a blocking thread and takes a panic there for bytes that do not decode: the Cover
/// is accepted, and the result is the generated tune, with the reason on the task.
#[tokio::test]
async fn a_wav_whose_channel_count_overflows_the_decoder_keeps_the_tune() {
    let wav =
        b"RIFF,\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\xc4D\xac\x00\x00\x88X\x01\x00\
\x02\x00\x10\x00data\x08\x00\x00\x00\x00\x00\xff\x7f\x00\x80\x01\x00";
    let mock = mock(MockConfig::new().seed(42)).await;
    let form = Form::new()
        .text("voice_id", "Drake")
        .part("audio_file", file_part(wav.to_vec()));
    let (status, body) = cover(&mock, Some(KEY), form, None).await;
    assert_eq!(status, 200, "{body}");
    let task = body["task_id"].as_str().expect("task_id").to_owned();
    let done = mock.state().complete_task(&task).expect("completes");
    let result = client()
        .get(format!(
            "{}/files/{}.wav",
            mock.origin(),
            done.conversion_id
        ))
        .send()
        .await
        .expect("the WAV");
    assert_eq!(result.status(), 200);
    let view = mock.state().task(&task).expect("the task");
    assert!(
        view.audio.is_some_and(|why| !why.is_empty()),
        "the record says nothing"
    );
    // Still answering.
    let (status, body) = cover(
        &mock,
        Some(KEY),
        Form::new()
            .text("voice_id", "Drake")
            .text("audio_url", "https://www.youtube.com/watch?v=jGflUbPQfW8"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
}
