//! A browser app on another port can call every route, preflight included.

use musicgpt_cover_mock::MockConfig;
use reqwest::Method;

use crate::common::{KEY, client, mock};

#[tokio::test]
async fn preflight_and_actual_requests_carry_cors_headers() {
    let mock = mock(MockConfig::new().seed(8)).await;
    for path in [
        mock.url("/v1/Cover"),
        mock.url("/v1/byId"),
        format!("{}/reset", mock.admin_url()),
    ] {
        let resp = client()
            .request(Method::OPTIONS, &path)
            .header("Origin", "http://localhost:5173")
            .header("Access-Control-Request-Method", "POST")
            .header(
                "Access-Control-Request-Headers",
                "authorization, prefer, content-type",
            )
            .send()
            .await
            .expect("preflight");
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
