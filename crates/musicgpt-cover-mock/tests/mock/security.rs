//! The safe defaults: the mock listens on loopback unless told otherwise, and its admin API (whose
//! journal holds every key sent) answers only this machine, or the bearer of the admin token.

use std::process::Command;
use std::time::Duration;

use musicgpt_cover_mock::{MockConfig, MockServer, describe};
use reqwest::Method;

use crate::common::{KEY, client, get};

const TOKEN: &str = "s3cret-admin-token-0123";

#[test]
fn the_binary_refuses_an_address_other_machines_can_reach_without_allow_remote() {
    for addr in ["0.0.0.0:4599", "[::]:4599"] {
        let out = Command::new(env!("CARGO_BIN_EXE_musicgpt-cover-mock"))
            .args(["--addr", addr])
            .output()
            .expect("the mock binary runs");
        // Refused before anything is bound: a bad setting, status 2.
        assert_eq!(out.status.code(), Some(2), "{addr}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("--allow-remote"), "{addr}: {stderr}");
        assert!(
            out.stdout.is_empty(),
            "{addr}: it printed a banner, so it listened"
        );
    }
}

#[test]
fn the_default_address_is_loopback() {
    assert!(musicgpt_cover_mock::default_addr().ip().is_loopback());
}

#[tokio::test]
async fn with_an_admin_token_the_admin_api_answers_only_its_bearer() {
    let mock = MockServer::builder().admin_token(TOKEN).start().await;
    let url = format!("{}/journal", mock.admin_url());
    let without = client().get(&url).send().await.expect("admin");
    assert_eq!(without.status(), 401);
    assert!(without.headers().contains_key("www-authenticate"));
    let body: serde_json::Value = without.json().await.expect("JSON");
    assert_eq!(body["success"], false);
    assert!(
        body["error"]
            .as_str()
            .is_some_and(|e| e.contains("admin token"))
    );

    let wrong = client()
        .get(&url)
        .bearer_auth("s3cret-admin-token-0124")
        .send()
        .await
        .expect("admin");
    assert_eq!(wrong.status(), 401);
    let bearer = client()
        .get(&url)
        .bearer_auth(TOKEN)
        .send()
        .await
        .expect("admin");
    assert_eq!(bearer.status(), 200);
    let own = client()
        .request(Method::POST, format!("{}/reset", mock.admin_url()))
        .header("X-Admin-Token", TOKEN)
        .send()
        .await
        .expect("admin");
    assert_eq!(own.status(), 200);
    // The API itself is not behind the token.
    assert_eq!(get(&mock, "/v1/getAllVoices", Some(KEY)).await.0, 200);
}

#[tokio::test]
async fn requiring_a_token_generates_one_and_the_banner_names_it() {
    let mock = MockServer::builder().start().await;
    assert_eq!(mock.state().admin_token(), None);
    let token = mock.state().require_admin_token();
    assert_eq!(token.len(), 32);
    assert!(token.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(
        mock.state().require_admin_token(),
        token,
        "stable once made"
    );
    let banner = describe(mock.state(), mock.origin());
    assert!(banner.contains(&format!("Bearer {token}")), "{banner}");
    let status = client()
        .get(format!("{}/tasks", mock.admin_url()))
        .timeout(Duration::from_secs(5))
        .send()
        .await
        .expect("admin")
        .status();
    assert_eq!(status, 401);
}

#[test]
fn a_weak_admin_token_is_refused_at_start() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let started = runtime.block_on(musicgpt_cover_mock::MockServer::try_start(
        MockConfig::new().admin_token("short"),
    ));
    let Err(e) = started else {
        panic!("a 5-character admin token was accepted")
    };
    assert!(e.to_string().contains("at least 16"), "{e}");
}

#[tokio::test]
async fn the_admin_api_refuses_a_request_sent_to_another_name() {
    // What a page on a DNS-rebound site sends: its own name as Host, no Origin (same-origin GET).
    let mock = MockServer::builder().start().await;
    let raw = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client");
    let rebound = raw
        .get(format!("{}/journal", mock.admin_url()))
        .header("Host", format!("evil.example:{}", mock.addr().port()))
        .send()
        .await
        .expect("admin");
    assert_eq!(rebound.status(), 403);
    let body: serde_json::Value = rebound.json().await.expect("JSON");
    assert!(
        body["error"].as_str().is_some_and(|e| e.contains("Host")),
        "{body}"
    );
    for host in ["localhost", "127.0.0.1", "[::1]"] {
        let status = raw
            .get(format!("{}/journal", mock.admin_url()))
            .header("Host", format!("{host}:{}", mock.addr().port()))
            .send()
            .await
            .expect("admin")
            .status();
        assert_eq!(status, 200, "{host}");
    }
    // The API itself answers whatever the name.
    let api = raw
        .get(mock.url("/v1/getAllVoices"))
        .header("Host", "evil.example")
        .header("Authorization", KEY)
        .send()
        .await
        .expect("api");
    assert_eq!(api.status(), 200);
}
