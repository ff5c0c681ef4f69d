//! Every status the spec documents is reachable, and its body is the spec's example (read from
//! openapi.yaml here, not copied): by real behaviour wherever the mock has one, and by
//! `Prefer: code=` for every status.

use reqwest::Method;
use reqwest::multipart::Form;
use serde_json::Value;

use musicgpt_cover_mock::{MockConfig, MockServer};

use crate::common::{KEY, client, cover, documented, example, file_part, get, mock, url_form};

const OPERATIONS: [(&str, &str, &str); 4] = [
    ("/v1/Cover", "post", ""),
    (
        "/v1/byId",
        "get",
        "?conversionType=COVER&task_id=0ec93bdd-6132-40db-a873-676dc314919c",
    ),
    ("/v1/getAllVoices", "get", ""),
    ("/v1/searchVoices", "get", "?query=drake"),
];

async fn send(
    mock: &MockServer,
    path: &str,
    method: &str,
    query: &str,
    prefer: &str,
) -> (u16, String) {
    let url = mock.url(&format!("{path}{query}"));
    let req = if method == "post" {
        client()
            .post(url)
            .multipart(url_form("Drake", "https://example.com/song.mp3"))
    } else {
        client().request(Method::GET, url)
    };
    let resp = req
        .header("Authorization", KEY)
        .header("Prefer", prefer)
        .send()
        .await
        .expect("send");
    let status = resp.status().as_u16();
    (status, resp.text().await.expect("text"))
}

#[tokio::test]
async fn prefer_code_reaches_every_documented_status_with_its_example() {
    let mock = mock(MockConfig::new().seed(3)).await;
    let mut checked = 0;
    for (path, method, query) in OPERATIONS {
        for doc in documented(path, method) {
            let (status, body) =
                send(&mock, path, method, query, &format!("code={}", doc.status)).await;
            assert_eq!(status, doc.status, "{method} {path}");
            assert_eq!(body, doc.examples[0].1, "{method} {path} {}", doc.status);
            checked += 1;
        }
    }
    // Guards against an empty loop: each operation documents at least five statuses.
    assert!(checked >= 20, "only {checked} statuses documented?");
}

/// Asserts a real answer is the documented example of its status.
fn is_example(path: &str, method: &str, got: (u16, Value), status: u16) {
    assert_eq!(got.0, status, "{method} {path}: {}", got.1);
    assert_eq!(
        got.1,
        example(path, method, status),
        "{method} {path} {status}"
    );
}

#[tokio::test]
async fn cover_statuses_by_real_behaviour() {
    let p = ("/v1/Cover", "post");
    let open = mock(MockConfig::new().seed(4).max_upload_bytes(1024)).await;

    // 200: the `full` example's shape, with fresh values.
    let (status, body) = cover(
        &open,
        Some(KEY),
        url_form("Drake", "https://example.com/a.mp3"),
        None,
    )
    .await;
    assert_eq!(status, 200);
    let full = example(p.0, p.1, 200);
    let keys = |v: &Value| {
        v.as_object()
            .map(|o| o.keys().cloned().collect::<Vec<_>>())
            .unwrap_or_default()
    };
    let examples = documented(p.0, p.1);
    let full_example: Value = serde_json::from_str(
        &examples
            .iter()
            .find(|d| d.status == 200)
            .expect("200")
            .examples
            .iter()
            .find(|e| e.0 == "full")
            .expect("full")
            .1,
    )
    .expect("json");
    assert_eq!(keys(&body), keys(&full_example));
    assert_ne!(
        body["task_id"], full["task_id"],
        "fresh ids, not the example's"
    );

    is_example(
        p.0,
        p.1,
        cover(
            &open,
            Some(KEY),
            url_form("Drake", "https://song.invalid/a.mp3"),
            None,
        )
        .await,
        400,
    );
    is_example(
        p.0,
        p.1,
        cover(
            &open,
            None,
            url_form("Drake", "https://example.com/a.mp3"),
            None,
        )
        .await,
        401,
    );
    let big = Form::new()
        .text("voice_id", "Drake")
        .part("audio_file", file_part(vec![0; 4096]));
    is_example(p.0, p.1, cover(&open, Some(KEY), big, None).await, 413);
    is_example(
        p.0,
        p.1,
        cover(
            &open,
            Some(KEY),
            Form::new().text("voice_id", "Drake"),
            None,
        )
        .await,
        422,
    );

    let closed = mock(MockConfig::new().seed(4).funded_api_key("poor", 0.0)).await;
    is_example(
        p.0,
        p.1,
        cover(
            &closed,
            Some("poor"),
            url_form("Drake", "https://example.com/a.mp3"),
            None,
        )
        .await,
        402,
    );
    is_example(
        p.0,
        p.1,
        cover(
            &closed,
            Some("stranger"),
            url_form("Drake", "https://example.com/a.mp3"),
            None,
        )
        .await,
        403,
    );
}

#[tokio::test]
async fn get_statuses_by_real_behaviour() {
    let open = mock(MockConfig::new().seed(5)).await;
    let closed = mock(MockConfig::new().seed(5).api_key("only")).await;
    let missing = "/v1/byId?conversionType=COVER&task_id=0ec93bdd-6132-40db-a873-676dc314919c";
    is_example("/v1/byId", "get", get(&open, missing, Some(KEY)).await, 404);
    is_example("/v1/byId", "get", get(&open, missing, None).await, 401);
    is_example(
        "/v1/byId",
        "get",
        get(&closed, missing, Some("nope")).await,
        403,
    );
    for (path, bad) in [
        (
            "/v1/byId",
            "/v1/byId?task_id=0ec93bdd-6132-40db-a873-676dc314919c",
        ),
        ("/v1/getAllVoices", "/v1/getAllVoices?limit=0"),
        ("/v1/searchVoices", "/v1/searchVoices?limit=5"),
    ] {
        // The documented body, plus the text of what was wrong in `error`.
        let (status, body) = get(&open, bad, Some(KEY)).await;
        assert_eq!(status, 400, "{bad}");
        let documented = example(path, "get", 400);
        for (k, v) in documented.as_object().expect("object") {
            assert_eq!(&body[k], v, "{bad}: {k}");
        }
        assert!(
            body["error"].as_str().is_some_and(|e| !e.is_empty()),
            "{body}"
        );
    }
    for path in ["/v1/getAllVoices", "/v1/searchVoices?query=a"] {
        let bare = path.split('?').next().expect("path");
        is_example(bare, "get", get(&open, path, None).await, 401);
        is_example(bare, "get", get(&closed, path, Some("nope")).await, 403);
        assert_eq!(get(&open, path, Some(KEY)).await.0, 200);
    }
}
