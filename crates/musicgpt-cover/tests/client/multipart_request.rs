//! The exact request of `client.cover()`: method, path, headers and every multipart part.

use musicgpt_cover::AudioFile;

use crate::{
    API_KEY, BASE_PATH, answer, operation, parse_multipart, received, response_example,
    server_and_client, spec, spec_yaml,
};

/// The form's property names, in the spec's order (read from the YAML, which keeps it).
fn form_fields() -> Vec<String> {
    let (path, method, _) = operation("cover");
    let form = &spec_yaml()["paths"][path][method]["requestBody"]["content"]["multipart/form-data"];
    let schema = musicgpt_cover_mock::openapi_document::resolve(spec_yaml(), &form["schema"]);
    schema.unwrap_or_else(|| panic!("{method} {path}: the form schema resolves"))["properties"]
        .as_mapping()
        .expect("the form has properties")
        .keys()
        .map(|key| key.as_str().expect("a string key").to_owned())
        .collect()
}

#[tokio::test]
async fn cover_sends_every_field_as_the_spec_names_it() {
    let (server, client) = server_and_client().await;
    answer(
        &server,
        "cover",
        200,
        &response_example("cover", "200", "full"),
    )
    .await;
    let song = b"ID3\x04\x00fake mp3 bytes\r\n--not-a-boundary\r\n".to_vec();

    let accepted = client
        .cover()
        .audio_url("https://www.youtube.com/watch?v=jGflUbPQfW8")
        .audio_file(AudioFile::from_bytes(song.clone(), "My Song.mp3"))
        .voice_id("Drake")
        .pitch(-3)
        .webhook_url("http://127.0.0.1:9000/webhook")
        .send()
        .await
        .expect("the example response decodes");
    assert_eq!(accepted.status(), 200);

    let requests = received(&server).await;
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    let (path, method, _) = operation("cover");
    assert_eq!(request.method.as_str(), method.to_uppercase());
    assert_eq!(request.url.path(), format!("{BASE_PATH}{path}"));
    assert_eq!(request.url.query(), None);

    let header = |name: &str| {
        request
            .headers
            .get(name)
            .map(|value| value.to_str().expect("ASCII header").to_owned())
    };
    // The raw key, no `Bearer` prefix (the spec's ApiKeyAuth scheme).
    let scheme = &spec()["components"]["securitySchemes"]["ApiKeyAuth"];
    assert_eq!(scheme["in"], "header");
    assert_eq!(
        header(scheme["name"].as_str().expect("a header name")).as_deref(),
        Some(API_KEY)
    );
    assert_eq!(
        header("api-version"),
        spec()["info"]["version"].as_str().map(str::to_owned)
    );
    assert_eq!(header("accept").as_deref(), Some("application/json"));

    let parts = parse_multipart(request).await;
    let names: Vec<&str> = parts.iter().map(|part| part.name.as_str()).collect();
    assert_eq!(
        names,
        form_fields(),
        "one part per form field, in the spec's order"
    );

    let part = |name: &str| {
        parts
            .iter()
            .find(|part| part.name == name)
            .expect("the part")
    };
    let file = part("audio_file");
    assert_eq!(file.file_name.as_deref(), Some("My Song.mp3"));
    assert_eq!(file.content_type.as_deref(), Some("audio/mpeg"));
    assert_eq!(file.bytes.as_ref(), song.as_slice());
    for (name, value) in [
        ("audio_url", "https://www.youtube.com/watch?v=jGflUbPQfW8"),
        ("voice_id", "Drake"),
        ("pitch", "-3"),
        ("webhook_url", "http://127.0.0.1:9000/webhook"),
    ] {
        let text = part(name);
        assert_eq!(text.bytes.as_ref(), value.as_bytes(), "part {name}");
        assert_eq!(text.file_name, None, "text part {name} has no file name");
        assert_eq!(
            text.content_type, None,
            "text part {name} has no content type"
        );
    }
}

#[tokio::test]
async fn optional_fields_that_are_not_set_are_not_sent() {
    let (server, client) = server_and_client().await;
    answer(
        &server,
        "cover",
        200,
        &response_example("cover", "200", "minimal"),
    )
    .await;

    client
        .cover()
        .voice_id("6f9a2c4e-1b3d-4e5f-8a7b-9c0d1e2f3a4b")
        .audio_url("https://example.com/song.mp3")
        .send()
        .await
        .expect("accepted");

    let requests = received(&server).await;
    let parts = parse_multipart(&requests[0]).await;
    let names: Vec<&str> = parts.iter().map(|part| part.name.as_str()).collect();
    assert_eq!(names, ["audio_url", "voice_id"]);
}

#[tokio::test]
async fn a_file_of_unknown_type_is_sent_as_octet_stream() {
    let (server, client) = server_and_client().await;
    answer(
        &server,
        "cover",
        200,
        &response_example("cover", "200", "minimal"),
    )
    .await;

    client
        .cover()
        .voice_id("Drake")
        .audio_file(AudioFile::from_bytes(vec![1, 2, 3], "take-3.unknownext"))
        .send()
        .await
        .expect("accepted");
    client
        .cover()
        .voice_id("Drake")
        .audio_file(
            AudioFile::from_bytes(vec![4, 5], "song.mp3").with_content_type("audio/x-custom"),
        )
        .send()
        .await
        .expect("accepted");

    let requests = received(&server).await;
    let guessed = parse_multipart(&requests[0]).await;
    assert_eq!(guessed[0].name, "audio_file");
    assert_eq!(
        guessed[0].content_type.as_deref(),
        Some("application/octet-stream")
    );
    assert_eq!(guessed[0].file_name.as_deref(), Some("take-3.unknownext"));
    let chosen = parse_multipart(&requests[1]).await;
    assert_eq!(chosen[0].content_type.as_deref(), Some("audio/x-custom"));
}
