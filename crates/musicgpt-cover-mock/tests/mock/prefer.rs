//! `Prefer: example=` returns the named example byte for byte, `code=` and combinations behave as
//! in Prism, and a name or code the spec lacks is answered with what exists.

use musicgpt_cover_mock::MockConfig;

use crate::common::{KEY, client, documented, mock, url_form};

#[tokio::test]
async fn every_named_example_byte_for_byte() {
    let mock = mock(MockConfig::new().seed(6)).await;
    let mut seen = 0;
    for (path, method, query) in [
        ("/v1/Cover", "post", ""),
        (
            "/v1/byId",
            "get",
            "?conversionType=COVER&task_id=0ec93bdd-6132-40db-a873-676dc314919c",
        ),
        ("/v1/getAllVoices", "get", ""),
        ("/v1/searchVoices", "get", "?query=x"),
    ] {
        for doc in documented(path, method) {
            for (name, text) in &doc.examples {
                let url = mock.url(&format!("{path}{query}"));
                let req = if method == "post" {
                    client()
                        .post(url)
                        .multipart(url_form("Drake", "https://example.com/a.mp3"))
                } else {
                    client().get(url)
                };
                let resp = req
                    .header("Authorization", KEY)
                    .header("Prefer", format!("example={name}"))
                    .send()
                    .await
                    .expect("send");
                assert_eq!(resp.status().as_u16(), doc.status, "{path} {name}");
                assert_eq!(resp.headers()["content-type"], "application/json");
                assert_eq!(
                    resp.headers()["preference-applied"],
                    format!("example={name}").as_str()
                );
                assert_eq!(&resp.text().await.expect("text"), text, "{path} {name}");
                seen += 1;
            }
        }
    }
    assert!(seen >= 20, "only {seen} examples");
    // Replays change nothing.
    assert!(mock.state().tasks().is_empty());
}

#[tokio::test]
async fn code_and_example_together_and_unknown_names() {
    let mock = mock(MockConfig::new().seed(7)).await;
    let post = |prefer: &'static str| {
        client()
            .post(mock.url("/v1/Cover"))
            .header("Authorization", KEY)
            .header("Prefer", prefer)
            .multipart(url_form("Drake", "https://example.com/a.mp3"))
            .send()
    };
    let resp = post("code=402, example=insufficient_credit")
        .await
        .expect("send");
    assert_eq!(resp.status().as_u16(), 402);
    assert_eq!(
        resp.headers()["preference-applied"],
        "code=402, example=insufficient_credit"
    );

    let resp = post("code=200; example=full").await.expect("send");
    assert_eq!(resp.status().as_u16(), 200);
    let full = &documented("/v1/Cover", "post")[0].examples[1];
    assert_eq!(full.0, "full");
    assert_eq!(resp.text().await.expect("text"), full.1);

    let resp = post("example=nope").await.expect("send");
    assert_eq!(resp.status().as_u16(), 422);
    let body: serde_json::Value = resp.json().await.expect("json");
    assert_eq!(body["success"], false);
    let error = body["error"].as_str().expect("error text");
    assert!(
        error.contains("example=nope")
            && error.contains("minimal (200)")
            && error.contains("no_audio (422)"),
        "{error}"
    );

    let resp = post("code=418").await.expect("send");
    assert_eq!(resp.status().as_u16(), 422);
    let body: serde_json::Value = resp.json().await.expect("json");
    assert!(
        body["error"]
            .as_str()
            .is_some_and(|e| e.contains("documented: 200, 400, 401, 402, 403, 413, 422, 429, 500")),
        "{body}"
    );

    let resp = post("code=402, example=full").await.expect("send");
    assert_eq!(resp.status().as_u16(), 422, "an example of another status");

    // A bad outcome is refused, also beside a replay token.
    for prefer in ["outcome=sometimes", "code=200, outcome=sometimes"] {
        let resp = post(prefer).await.expect("send");
        assert_eq!(resp.status().as_u16(), 422, "{prefer}");
        let body: serde_json::Value = resp.json().await.expect("json");
        assert_eq!(
            body["error"], "Prefer: outcome=sometimes must be completed, failed or error",
            "{prefer}"
        );
    }

    // GET operations answer their own validation status, with the API's `message` kept.
    let resp = client()
        .get(mock.url("/v1/getAllVoices"))
        .header("Authorization", KEY)
        .header("Prefer", "code=404")
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status().as_u16(), 400);
    let body: serde_json::Value = resp.json().await.expect("json");
    assert_eq!(body["message"], "Invalid request parameters");
    assert!(
        body["error"]
            .as_str()
            .is_some_and(|e| e.contains("code=404"))
    );

    // Auth comes first: Prefer is for authenticated callers.
    let resp = client()
        .get(mock.url("/v1/getAllVoices"))
        .header("Prefer", "code=200")
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status().as_u16(), 401);
}
