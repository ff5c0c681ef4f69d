//! Client-side validation: values the spec forbids fail before any request is sent.

use musicgpt_cover::builder::Cover;
use musicgpt_cover::{ApiError, AudioFile, Client};

use crate::{answer, received, response_example, server_and_client};

/// Sends a Cover request, expecting a client-side refusal; returns its message.
async fn refused(request: musicgpt_cover::builder::Cover<'_>) -> String {
    match request.send().await {
        Err(ApiError::InvalidRequest { message, .. }) => message,
        other => panic!("expected InvalidRequest, got {other:?}"),
    }
}

#[tokio::test]
async fn out_of_range_pitch_and_missing_audio_never_reach_the_server() {
    let (server, client) = server_and_client().await;
    answer(
        &server,
        "cover",
        200,
        &response_example("cover", "200", "minimal"),
    )
    .await;
    let song = || AudioFile::from_bytes(vec![0u8; 16], "song.mp3");

    for pitch in [Cover::PITCH_MAX + 1, Cover::PITCH_MIN - 1, i64::MAX] {
        let message = refused(
            client
                .cover()
                .voice_id("Drake")
                .audio_file(song())
                .pitch(pitch),
        )
        .await;
        assert_eq!(
            message,
            format!("pitch must be between -12 and 12 (inclusive), got {pitch}")
        );
    }
    let message = refused(client.cover().voice_id("Drake")).await;
    assert_eq!(
        message,
        "the request needs at least one of: `audio_file`, or a non-empty `audio_url`"
    );
    let message = refused(client.cover().voice_id("Drake").audio_url("")).await;
    assert!(message.contains("non-empty `audio_url`"), "{message}");
    let message = refused(
        client
            .cover()
            .voice_id("")
            .audio_url("https://example.com/a.mp3"),
    )
    .await;
    assert_eq!(message, "voice_id must not be empty");
    let message = refused(client.cover().audio_url("https://example.com/a.mp3")).await;
    assert_eq!(message, "voice_id was not initialized");
    let message = refused(
        client
            .cover()
            .voice_id("Drake")
            .audio_file(song().with_content_type("not a mime type")),
    )
    .await;
    assert!(
        message.starts_with("conversion to a file part for audio_file failed"),
        "{message}"
    );

    assert_eq!(received(&server).await.len(), 0, "nothing was sent");
}

#[tokio::test]
async fn the_bounds_themselves_are_accepted() {
    let (server, client) = server_and_client().await;
    answer(
        &server,
        "cover",
        200,
        &response_example("cover", "200", "minimal"),
    )
    .await;
    assert_eq!(
        (Cover::PITCH_MIN, Cover::PITCH_MAX, Cover::PITCH_DEFAULT),
        (-12, 12, 0)
    );
    for pitch in [Cover::PITCH_MIN, Cover::PITCH_DEFAULT, Cover::PITCH_MAX] {
        client
            .cover()
            .voice_id("Drake")
            .audio_url("https://example.com/a.mp3")
            .pitch(pitch)
            .send()
            .await
            .unwrap_or_else(|e| panic!("pitch {pitch} is in bounds: {e}"));
    }
    // An empty audio_url beside a file is what the reference page's Python sample sends.
    client
        .cover()
        .voice_id("Drake")
        .audio_url("")
        .audio_file(AudioFile::from_bytes(vec![1], "a.wav"))
        .send()
        .await
        .expect("a file makes the empty URL irrelevant");
    assert_eq!(received(&server).await.len(), 4);
}

#[test]
fn a_bad_api_key_is_refused_by_the_constructor() {
    for key in ["", "  ", "line\nbreak"] {
        let error = Client::from_api_key(key, musicgpt_cover::servers::LOCAL).expect_err("refused");
        assert!(
            matches!(error, ApiError::InvalidRequest { .. }),
            "{error:?}"
        );
    }
}

/// The mock's own bounds (`x-mock` in the spec: `limit` 1 to 100, `page` 0 to 1000000, a
/// non-empty `query`) are not the API's: the client sends such values as given and leaves the
/// verdict to the server.
#[tokio::test]
async fn the_mocks_own_limits_are_not_enforced_by_the_client() {
    let (server, client) = server_and_client().await;
    let list = response_example("getAllVoices", "200", "first_page");
    answer(&server, "getAllVoices", 200, &list).await;
    answer(&server, "searchVoices", 200, &list).await;
    for (limit, page) in [(0, 0), (101, 0), (1000, -1), (20, 1_000_001)] {
        client
            .get_all_voices()
            .limit(limit)
            .page(page)
            .send()
            .await
            .unwrap_or_else(|e| panic!("limit {limit}, page {page} is sent: {e}"));
    }
    client
        .search_voices()
        .query("")
        .send()
        .await
        .expect("an empty query is sent");
    let sent: Vec<String> = received(&server)
        .await
        .iter()
        .map(|request| request.url.query().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(
        sent,
        [
            "limit=0&page=0",
            "limit=101&page=0",
            "limit=1000&page=-1",
            "limit=20&page=1000001",
            "query="
        ]
    );
}
