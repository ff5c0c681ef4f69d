//! Unit tests of the generated `types::ConversionStatus`: the spec's known values are its
//! variants, in the spec's order, each round-tripping through serde as its text; any other
//! value decodes into `Other` and serializes back unchanged; `is_final()` is `x-final-values`.

use serde_json::json;

use crate::types::ConversionStatus;

/// `x-known-values` or `x-final-values` of the `ConversionStatus` schema, read from the spec
/// the crate was built from.
fn spec_values(key: &str) -> Vec<String> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi.yaml");
    let text = std::fs::read_to_string(path).expect("openapi.yaml is readable");
    let spec: serde_norway::Value = serde_norway::from_str(&text).expect("openapi.yaml is YAML");
    spec["components"]["schemas"]["ConversionStatus"][key]
        .as_sequence()
        .expect("a list")
        .iter()
        .map(|value| value.as_str().expect("a string").to_owned())
        .collect()
}

/// The text of each variant, written out here on purpose, with no wildcard: when the spec gains
/// a value, the rebuilt enum gains a variant and this match stops compiling, naming it. Add it
/// here, and check that the code handling statuses (`poll`, which stops at `is_final()`) is
/// right for it.
fn text_of(status: &ConversionStatus) -> Option<&'static str> {
    match status {
        ConversionStatus::InQueue => Some("IN_QUEUE"),
        ConversionStatus::Processing => Some("PROCESSING"),
        ConversionStatus::InProgress => Some("IN_PROGRESS"),
        ConversionStatus::Completed => Some("COMPLETED"),
        ConversionStatus::Failed => Some("FAILED"),
        ConversionStatus::Error => Some("ERROR"),
        ConversionStatus::Other(_) => None,
    }
}

#[test]
fn the_known_values_are_the_variants_in_the_spec_s_order() {
    let known: Vec<&str> = ConversionStatus::KNOWN_VALUES
        .iter()
        .map(ConversionStatus::as_str)
        .collect();
    assert_eq!(known, spec_values("x-known-values"));
    let texts: Vec<Option<&str>> = ConversionStatus::KNOWN_VALUES.iter().map(text_of).collect();
    let expected: Vec<Option<&str>> = known.iter().copied().map(Some).collect();
    assert_eq!(texts, expected);
}

#[test]
fn is_final_is_the_spec_s_final_values() {
    let finals: Vec<&str> = ConversionStatus::KNOWN_VALUES
        .iter()
        .filter(|status| status.is_final())
        .map(ConversionStatus::as_str)
        .collect();
    assert_eq!(finals, spec_values("x-final-values"));
    let listed: Vec<&str> = ConversionStatus::FINAL_VALUES
        .iter()
        .map(ConversionStatus::as_str)
        .collect();
    assert_eq!(listed, finals);
}

#[test]
fn every_known_value_round_trips_through_serde_as_its_variant() {
    for status in ConversionStatus::KNOWN_VALUES {
        let text = status.as_str();
        let decoded: ConversionStatus =
            serde_json::from_value(json!(text)).expect("a string decodes");
        assert_eq!(text_of(&decoded), Some(text), "{text}");
        assert!(decoded.is_known());
        assert_eq!(
            serde_json::to_value(&decoded).expect("serializes"),
            json!(text)
        );
        assert_eq!(text.parse::<ConversionStatus>(), Ok(decoded.clone()));
        assert_eq!(String::from(decoded), text);
    }
}

#[test]
fn an_unknown_value_decodes_into_other_and_serializes_back_unchanged() {
    let body = json!({"task_id": "t", "status": "CANCELLED_BY_A_NEW_API"});
    let conversion: crate::types::Conversion =
        serde_json::from_value(body.clone()).expect("an unknown status still decodes");
    assert_eq!(
        conversion.status,
        ConversionStatus::Other("CANCELLED_BY_A_NEW_API".to_owned())
    );
    assert!(!conversion.status.is_known());
    assert!(!conversion.status.is_final());
    assert_eq!(conversion.status.to_string(), "CANCELLED_BY_A_NEW_API");
    assert_eq!(
        serde_json::to_value(&conversion).expect("serializes"),
        body,
        "the value is kept as sent"
    );
    // Case matters: the API's values are upper case, and a near miss is another value.
    assert!(matches!(
        ConversionStatus::from("completed"),
        ConversionStatus::Other(_)
    ));
    assert!(serde_json::from_value::<ConversionStatus>(json!(3)).is_err());
}

#[test]
fn an_other_made_by_hand_with_a_known_text_is_that_value() {
    let by_hand = ConversionStatus::Other("COMPLETED".to_owned());
    assert_eq!(by_hand, ConversionStatus::Completed);
    assert!(by_hand.is_final() && by_hand.is_known() && by_hand.is_completed());
    let mut seen = std::collections::HashSet::new();
    seen.insert(ConversionStatus::Completed);
    assert!(seen.contains(&by_hand));
}
