//! Keys (401, 403) and credits (each Cover charges its estimate; 402 when short; the admin API
//! sets balances).

use musicgpt_cover_mock::MockConfig;
use reqwest::Method;
use serde_json::json;

use crate::common::{KEY, admin, client, cover, example, mock, url_form};

#[tokio::test]
async fn keys() {
    let open = mock(MockConfig::new().seed(22)).await;
    let form = || url_form("Drake", "https://x.example/a");
    let unauthorized = example("/v1/Cover", "post", 401);
    let forbidden = example("/v1/Cover", "post", 403);
    assert_eq!(
        cover(&open, None, form(), None).await,
        (401, unauthorized.clone())
    );
    assert_eq!(
        cover(&open, Some("   "), form(), None).await,
        (401, unauthorized)
    );
    // The API takes the raw key: a Bearer prefix is refused, in the documented shape, with the
    // documented words first and then what to send instead.
    for bearer in ["Bearer abc", "bearer abc"] {
        let (status, body) = cover(&open, Some(bearer), form(), None).await;
        assert_eq!(status, 403, "{bearer}: {body}");
        assert_eq!(body["success"], forbidden["success"], "{body}");
        let text = body["error"].as_str().unwrap_or_default();
        let documented = forbidden["error"].as_str().expect("a documented text");
        assert!(text.starts_with(documented), "{text}");
        assert!(
            text.contains("raw key") && text.contains("without the \"Bearer \" prefix"),
            "the 403 for {bearer:?} does not say to send the raw key: {text}"
        );
        let keys = |v: &serde_json::Value| {
            let mut k: Vec<String> = v
                .as_object()
                .into_iter()
                .flatten()
                .map(|(k, _)| k.clone())
                .collect();
            k.sort();
            k
        };
        assert_eq!(keys(&body), keys(&forbidden), "{body}");
    }
    // A key the mock refuses for itself keeps the documented text: the hint is for the prefix.
    assert_eq!(cover(&open, Some("anything"), form(), None).await.0, 200);

    let closed = mock(
        MockConfig::new()
            .seed(22)
            .api_key("alpha")
            .funded_api_key("beta", 5.0),
    )
    .await;
    assert_eq!(cover(&closed, Some("alpha"), form(), None).await.0, 200);
    assert_eq!(
        cover(&closed, Some("gamma"), form(), None).await,
        (403, forbidden)
    );
    // A balance set through the admin API admits the key.
    let (status, _) = admin(
        &closed,
        Method::PUT,
        "/credits/gamma",
        Some(json!({ "credits": 3 })),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(cover(&closed, Some("gamma"), form(), None).await.0, 200);
}

#[tokio::test]
async fn credits_run_down_to_402() {
    let mock = mock(MockConfig::new().seed(23).funded_api_key("k", 4.0)).await;
    let insufficient = example("/v1/Cover", "post", 402);
    let mut balance = 4.0;
    let mut accepted = 0;
    loop {
        let (status, body) = cover(
            &mock,
            Some("k"),
            url_form("Drake", "https://x.example/a"),
            None,
        )
        .await;
        if status == 402 {
            assert_eq!(body, insufficient);
            break;
        }
        assert_eq!(status, 200, "{body}");
        let estimate = body["credit_estimate"].as_f64().expect("estimate");
        balance -= estimate;
        accepted += 1;
        let left = mock.state().credits("k").expect("balance");
        assert!((left - balance).abs() < 0.005, "{left} vs {balance}");
        assert!(accepted < 100);
    }
    assert!(
        accepted >= 2,
        "4 credits buy at least two covers of at most 1.61"
    );
    // No task for the refused request; the balance is unchanged by it.
    assert_eq!(mock.state().tasks().len(), accepted);
    let (status, body) = admin(&mock, Method::GET, "/credits/k", None).await;
    assert_eq!(status, 200);
    assert!((body["credits"].as_f64().expect("credits") - balance).abs() < 0.005);
    // Topped up through the admin API.
    let resp = client()
        .put(format!("{}/credits/k?credits=100", mock.admin_url()))
        .send()
        .await
        .expect("put");
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(
        cover(
            &mock,
            Some("k"),
            url_form("Drake", "https://x.example/a"),
            None
        )
        .await
        .0,
        200
    );
    let (status, body) = admin(
        &mock,
        Method::PUT,
        "/credits/k",
        Some(json!({ "credits": -1 })),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["success"], false);
    let (_, all) = admin(&mock, Method::GET, "/credits", None).await;
    assert_eq!(all["restricted"], true);
    let _ = KEY;
}
