//! Request matching and verification: `POST /__admin/requests/find`, `count` and `near-misses`
//! pick journalled requests by every kind of condition; `MockServer::verify` reports the nearest
//! misses and why they missed; a matcher with a typo is a 400; matching sees only the bounded
//! journal.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Duration;

use musicgpt_cover_mock::{KEPT_HEADERS, Matcher, MockConfig, MockServer, VerifyError};
use reqwest::Method;
use serde_json::{Value, json};

use crate::common::{admin, client, cover, file_part, get, mock, url_form};

const SONG: &str = "https://www.youtube.com/watch?v=jGflUbPQfW8";

/// Five requests, the clock moved 30 s after the second: a Cover by URL (key `k1`, Drake, pitch
/// 3), a Cover with a 3000-byte file (key `k2`, Joji, pitch 2, `Prefer: outcome=FAILED`), a Cover without a key
/// (401, refused before its form is read), a byId poll and a voice list.
async fn five_requests() -> (MockServer, String) {
    let mock = mock(MockConfig::new().seed(3)).await;
    let form = url_form("Drake", SONG).text("pitch", "3");
    let (status, first) = cover(&mock, Some("k1"), form, None).await;
    assert_eq!(status, 200, "{first}");
    let form = reqwest::multipart::Form::new()
        .text("voice_id", "Joji")
        .text("pitch", "2")
        .part("audio_file", file_part(vec![1; 3000]));
    let prefer = Some("outcome=FAILED");
    let (status, second) = cover(&mock, Some("k2"), form, prefer).await;
    assert_eq!(status, 200, "{second}");
    let later = mock.state().advance_clock(Duration::from_secs(30));
    assert_eq!(
        cover(&mock, None, url_form("Drake", SONG), None).await.0,
        401
    );
    let task_id = first["task_id"].as_str().expect("a task_id");
    let poll = format!("/v1/byId?conversionType=COVER&task_id={task_id}");
    assert_eq!(get(&mock, &poll, Some("k1")).await.0, 200);
    assert_eq!(
        get(&mock, "/v1/getAllVoices?limit=5", Some("k1")).await.0,
        200
    );
    (mock, later)
}

/// The seqs of the requests `matcher` (as JSON) picks, by `find`, checked against `count`.
async fn picked(mock: &MockServer, matcher: Value) -> Vec<u64> {
    let (status, found) = admin(mock, Method::POST, "/requests/find", Some(matcher.clone())).await;
    assert_eq!(status, 200, "{matcher}: {found}");
    let seqs: Vec<u64> = (found["requests"].as_array().expect("requests").iter())
        .map(|e| e["seq"].as_u64().expect("a seq"))
        .collect();
    let (status, counted) =
        admin(mock, Method::POST, "/requests/count", Some(matcher.clone())).await;
    assert_eq!(status, 200, "{matcher}: {counted}");
    assert_eq!(
        counted["count"],
        seqs.len(),
        "{matcher}: count and find differ"
    );
    seqs
}

#[tokio::test]
async fn each_kind_of_condition_picks_its_requests() {
    let (mock, later) = five_requests().await;
    let cases = [
        (json!({}), vec![1, 2, 3, 4, 5]),
        (json!({"operation": "cover"}), vec![1, 2, 3]),
        (json!({"operation": "getConversionById"}), vec![4]),
        (
            json!({"method": "get", "path": "/api/public/v1/getAllVoices"}),
            vec![5],
        ),
        (json!({"method": "POST"}), vec![1, 2, 3]),
        (json!({"status": 401}), vec![3]),
        (
            json!({"headers": {"Prefer": {"equals": "outcome=FAILED"}}}),
            vec![2],
        ),
        (
            json!({"headers": {"content-type": {"contains": "multipart/form-data"}}}),
            vec![1, 2, 3],
        ),
        (
            json!({"headers": {"authorization": {"absent": true}}}),
            vec![3],
        ),
        (json!({"headers": {"prefer": {"absent": false}}}), vec![2]),
        (json!({"query": {"limit": {"equals": "5"}}}), vec![5]),
        (
            json!({"query": {"conversionType": {"contains": "COV"}}}),
            vec![4],
        ),
        // The 401 was refused before its body: no form was read, so none is journalled.
        (json!({"form": {"voice_id": {"equals": "Drake"}}}), vec![1]),
        (
            json!({"form": {"voice_id": {"equals": "Drake"}, "pitch": {"equals": "3"}}}),
            vec![1],
        ),
        (
            json!({"form": {"audio_url": {"contains": "youtube.com"}}}),
            vec![1],
        ),
        (
            json!({"operation": "cover", "form": {"audio_url": {"absent": true}}}),
            vec![2, 3],
        ),
        (
            json!({"upload": {"filename": {"equals": "song.wav"}}}),
            vec![2],
        ),
        (
            json!({"upload": {"field": "audio_file", "size": 3000}}),
            vec![2],
        ),
        (json!({"upload": {"min_size": 3001}}), vec![]),
        (json!({"upload": {"max_size": 3000}}), vec![2]),
        (json!({"since": later}), vec![3, 4, 5]),
        (json!({"before": later}), vec![1, 2]),
        (json!({"key": "k1"}), vec![1, 4, 5]),
        (
            json!({"operation": "cover", "key": "k1", "status": 200}),
            vec![1],
        ),
    ];
    for (matcher, expected) in cases {
        assert_eq!(picked(&mock, matcher.clone()).await, expected, "{matcher}");
    }

    // A flat matcher's keys work as query parameters too.
    let url = format!(
        "{}/requests/count?operation=cover&status=200",
        mock.admin_url()
    );
    let counted: Value = client()
        .post(url)
        .send()
        .await
        .expect("count")
        .json()
        .await
        .expect("JSON");
    assert_eq!(counted["count"], 2);

    // The Rust methods pick the same.
    let found = mock.received_requests(Matcher::cover().form("voice_id", "Joji").upload_size(3000));
    assert_eq!(found.iter().map(|e| e.seq).collect::<Vec<_>>(), [2]);
    let found = mock.received_requests(Matcher::any().header_absent("authorization"));
    assert_eq!(found.iter().map(|e| e.seq).collect::<Vec<_>>(), [3]);
    mock.verify(
        Matcher::cover()
            .form("voice_id", "Drake")
            .form("pitch", "3"),
        1,
    );
    mock.verify(
        Matcher::operation("getAllVoices")
            .query("limit", "5")
            .key("k1"),
        1,
    );
    mock.verify(Matcher::cover().since(later.as_str()), 1..=1);
    mock.verify(Matcher::any(), 5..);
    mock.verify(
        Matcher::cover()
            .form_contains("voice_id", "Drak")
            .upload_name("x.wav"),
        0,
    );
}

#[tokio::test]
async fn a_failed_verification_names_the_nearest_misses_and_why() {
    let (mock, _) = five_requests().await;
    let journal = mock.state().journal();
    let at = |seq: u64| journal[seq as usize - 1].at.clone();
    let matcher = Matcher::cover()
        .form("voice_id", "Drake")
        .form("pitch", "2")
        .key("k1");
    let report = match mock.try_verify(&matcher, 1) {
        Err(report @ VerifyError::Count { .. }) => report.to_string(),
        other => panic!("expected a count that fails, got {other:?}"),
    };
    let expected = format!(
        "expected exactly 1 request(s) matching operation cover, form pitch equals \"2\", form voice_id equals \"Drake\", key \"k1\", got 0 (of 5 journalled)
nearest that did not match:
  #1 POST /api/public/v1/Cover -> 200 at {}
    - form pitch equals \"2\": got \"3\"
  #2 POST /api/public/v1/Cover -> 200 at {}
    - form voice_id equals \"Drake\": got \"Joji\"
    - key \"k1\": got \"k2\"
  #3 POST /api/public/v1/Cover -> 401 at {}
    - form pitch equals \"2\": got absent
    - form voice_id equals \"Drake\": got absent
    - key \"k1\": got absent
",
        at(1),
        at(2),
        at(3)
    );
    assert_eq!(report, expected);

    // `verify` panics with the same report.
    let panicked = catch_unwind(AssertUnwindSafe(|| mock.verify(&matcher, 1)));
    let message = panicked
        .err()
        .and_then(|p| p.downcast_ref::<String>().cloned())
        .expect("verify panics with a message");
    assert_eq!(message, expected);

    // Too many: the ones that matched are named.
    let report = mock
        .try_verify(Matcher::cover().status(200), 1)
        .err()
        .map(|e| e.to_string())
        .expect("two Covers answered 200");
    assert!(
        report.starts_with("expected exactly 1 request(s) matching operation cover, status 200, got 2 (of 5 journalled)\nmatched:\n  #1 POST /api/public/v1/Cover -> 200 at ")
            && !report.contains("nearest"),
        "{report}"
    );

    // The admin API answers the same near misses, for clients in other languages.
    let body = json!({"operation": "cover", "key": "k1", "form": {"voice_id": {"equals": "Drake"}, "pitch": {"equals": "2"}}});
    let (status, answer) = admin(&mock, Method::POST, "/requests/near-misses", Some(body)).await;
    assert_eq!(status, 200, "{answer}");
    let misses = answer["near_misses"].as_array().expect("near_misses");
    let seqs: Vec<&Value> = misses.iter().map(|m| &m["entry"]["seq"]).collect();
    assert_eq!(seqs, [1, 2, 3], "{answer}");
    assert_eq!(
        misses[0]["failed"],
        json!([{"condition": "form pitch equals \"2\"", "got": "\"3\""}])
    );
}

#[tokio::test]
async fn a_matcher_that_cannot_be_read_is_a_400_saying_why() {
    let mock = mock(MockConfig::new().seed(3)).await;
    for (body, says) in [
        (
            json!({"opration": "cover"}),
            "opration: unknown field `opration`, expected one of `operation`",
        ),
        (
            json!({"form": {"pitch": {"equal": "3"}}}),
            "form.pitch: unknown variant `equal`, expected one of `equals`, `contains`, `absent`",
        ),
        (
            json!({"upload": {"bytes": 3}}),
            "upload.bytes: unknown field `bytes`",
        ),
        (
            json!({"upload": [null, null]}),
            "upload: invalid type: sequence, expected an object",
        ),
        (
            json!({"status": "200"}),
            "status: invalid type: string \"200\", expected a whole number up to 65535",
        ),
        (
            json!({"operation": "Cover"}),
            "operation: unknown operation \"Cover\"; give an operationId of the spec (cover, getConversionById, getAllVoices, searchVoices)",
        ),
        (
            json!({"since": "yesterday"}),
            "since: \"yesterday\" is not an RFC 3339 time",
        ),
        (
            json!({"headers": {"X-Request-Id": {"absent": true}}}),
            &*format!(
                "headers: the journal does not keep \"X-Request-Id\", so no request would have it; a header condition takes one of the kept headers ({})",
                KEPT_HEADERS.join(", ")
            ),
        ),
    ] {
        for route in ["/requests/find", "/requests/count", "/requests/near-misses"] {
            let (status, answer) = admin(&mock, Method::POST, route, Some(body.clone())).await;
            assert_eq!(status, 400, "{route} {body}: {answer}");
            let error = answer["error"].as_str().unwrap_or_default();
            assert!(
                error.starts_with(says) && error.contains("; send {\"operation\": \"cover\""),
                "{route} {body}: {error}"
            );
            assert_eq!(answer["success"], false);
        }
    }
    let url = format!("{}/requests/find", mock.admin_url());
    let answer = client().post(url).body("[1]").send().await.expect("find");
    assert_eq!(answer.status(), 400);
    // A Rust test's verify is refused the same way, rather than counting 0.
    let typo = Matcher::any().header("x-request-id", "abc");
    let error = mock
        .try_verify(typo, 0)
        .expect_err("a header the journal does not keep");
    assert!(
        matches!(&error, VerifyError::Matcher(e) if e.to_string().contains("x-request-id")),
        "{error}"
    );
}

#[tokio::test]
async fn matching_sees_only_the_bounded_journal() {
    let mock = mock(MockConfig::new().seed(3).journal_capacity(3)).await;
    for voice in ["a", "b", "c", "d", "e"] {
        assert_eq!(
            cover(&mock, Some("k"), url_form(voice, SONG), None).await.0,
            200
        );
    }
    assert_eq!(
        picked(&mock, json!({"operation": "cover"})).await,
        [3, 4, 5]
    );
    assert_eq!(
        picked(&mock, json!({"form": {"voice_id": {"equals": "a"}}})).await,
        Vec::<u64>::new()
    );
    mock.verify(Matcher::cover(), 3);
    let (status, _) = admin(&mock, Method::DELETE, "/journal", None).await;
    assert_eq!(status, 200);
    mock.verify(Matcher::any(), 0);
    let report = mock
        .try_verify(Matcher::cover(), 1)
        .err()
        .map(|e| e.to_string());
    assert_eq!(
        report.as_deref(),
        Some(
            "expected exactly 1 request(s) matching operation cover, got 0 (of 0 journalled)\nno other request was journalled\n"
        )
    );
}
