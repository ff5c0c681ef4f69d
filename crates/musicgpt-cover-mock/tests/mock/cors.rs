//! A browser app on another port can call every route, preflight included.

use musicgpt_cover_mock::MockConfig;
use reqwest::Method;

use crate::common::{KEY, client, mock, preflight};

#[tokio::test]
async fn preflight_and_actual_requests_carry_cors_headers() {
    let mock = mock(MockConfig::new().seed(8)).await;
    for path in [
        mock.url("/v1/Cover"),
        mock.url("/v1/byId"),
        format!("{}/reset", mock.admin_url()),
    ] {
        let resp = preflight(&path).await;
        assert!(resp.status().is_success(), "{path}: {}", resp.status());
        let h = resp.headers();
        assert_eq!(h["access-control-allow-origin"], "*");
        let allowed = h["access-control-allow-headers"]
            .to_str()
            .expect("text")
            .to_ascii_lowercase();
        assert!(
            allowed.contains("authorization") && allowed.contains("prefer"),
            "{allowed}"
        );
        assert!(
            h["access-control-allow-methods"]
                .to_str()
                .expect("text")
                .contains("POST")
        );
    }
    let resp = client()
        .get(mock.url("/v1/getAllVoices"))
        .header("Origin", "http://localhost:5173")
        .header("Authorization", KEY)
        .send()
        .await
        .expect("get");
    assert_eq!(resp.headers()["access-control-allow-origin"], "*");
    let exposed = resp.headers()["access-control-expose-headers"]
        .to_str()
        .expect("text")
        .to_owned();
    assert!(
        exposed.contains("content-range") && exposed.contains("preference-applied"),
        "{exposed}"
    );
}

#[tokio::test]
async fn the_admin_api_refuses_pages_from_other_machines() {
    let mock = mock(MockConfig::new().seed(9)).await;
    let journal = format!("{}/journal", mock.admin_url());
    let reset = format!("{}/reset", mock.admin_url());
    // A page on a website, open in the developer's browser: neither its preflight nor its
    // simple requests get anything, and nothing is done.
    mock.state().set_credits("someone", 5.0);
    for (method, url) in [
        (Method::OPTIONS, &journal),
        (Method::GET, &journal),
        (Method::POST, &reset),
    ] {
        let resp = client()
            .request(method.clone(), url)
            .header("Origin", "https://evil.example")
            .header("Access-Control-Request-Method", "GET")
            .send()
            .await
            .expect("send");
        assert_eq!(resp.status().as_u16(), 403, "{method} {url}");
        assert!(resp.headers().get("access-control-allow-origin").is_none());
        let body: serde_json::Value = resp.json().await.expect("json");
        assert_eq!(
            body["error"],
            "the admin API answers pages on loopback origins only (localhost, 127.0.0.0/8, [::1]), not Origin \"https://evil.example\""
        );
    }
    assert_eq!(mock.state().credits("someone"), Some(5.0), "not reset");
    // A page on this machine, and a client that sends no Origin, pass.
    for origin in [
        Some("http://localhost:5173"),
        Some("http://127.0.0.1:3000"),
        None,
    ] {
        let mut request = client().get(&journal);
        if let Some(origin) = origin {
            request = request.header("Origin", origin);
        }
        let resp = request.send().await.expect("send");
        assert_eq!(resp.status().as_u16(), 200, "{origin:?}");
    }
    // The API itself stays open to any origin.
    let resp = client()
        .get(mock.url("/v1/getAllVoices"))
        .header("Origin", "https://evil.example")
        .header("Authorization", KEY)
        .send()
        .await
        .expect("get");
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(resp.headers()["access-control-allow-origin"], "*");
}
