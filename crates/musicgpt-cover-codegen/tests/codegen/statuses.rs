//! The spec drives the status enum: a value added to `x-known-values` is a variant on the next
//! generation (final when `x-final-values` lists it), and values that cannot be distinct
//! variants are named rather than guessed.

use musicgpt_cover_codegen::{CodegenError, generate, generate_file};
use serde_norway::Value;

/// The spec with `edit` applied to the `ConversionStatus` schema.
fn edited(edit: impl FnOnce(&mut Value)) -> String {
    let mut spec: Value = serde_norway::from_str(&crate::spec_yaml()).expect("the spec is YAML");
    edit(&mut spec["components"]["schemas"]["ConversionStatus"]);
    serde_norway::to_string(&spec).expect("YAML again")
}

fn push(schema: &mut Value, key: &str, value: &str) {
    schema[key]
        .as_sequence_mut()
        .expect("a list")
        .push(value.into());
}

/// The generated `types::ConversionStatus` enum and its inherent impl, rendered alone, with
/// every run of whitespace made one space (prettyplease breaks long lines where it likes).
fn status_enum(spec_yaml: &str) -> String {
    let file = generate_file(spec_yaml).expect("the spec generates");
    let items = file
        .items
        .into_iter()
        .find_map(|item| match item {
            syn::Item::Mod(module) if module.ident == "types" => module.content.map(|c| c.1),
            _ => None,
        })
        .expect("a types module")
        .into_iter()
        .filter(|item| match item {
            syn::Item::Enum(item) => item.ident == "ConversionStatus",
            syn::Item::Struct(item) => item.ident == "ConversionStatus",
            syn::Item::Impl(item) => {
                item.trait_.is_none()
                    && matches!(&*item.self_ty, syn::Type::Path(path) if path.path.is_ident("ConversionStatus"))
            }
            _ => false,
        })
        .collect();
    prettyplease::unparse(&syn::File {
        shebang: None,
        frontmatter: None,
        attrs: Vec::new(),
        items,
    })
    .split_whitespace()
    .collect::<Vec<_>>()
    .join(" ")
}

#[test]
fn a_value_added_to_the_spec_is_a_variant_and_a_final_one_is_final() {
    let before = status_enum(&crate::spec_yaml());
    assert!(before.contains("pub enum ConversionStatus"), "{before}");
    assert!(!before.contains("Refunded"), "{before}");
    assert!(!before.contains("pub struct ConversionStatus"), "{before}");

    let spec = edited(|schema| {
        push(schema, "x-known-values", "REFUNDED");
        push(schema, "x-final-values", "REFUNDED");
    });
    let after = status_enum(&spec);
    for expected in [
        "Refunded,",
        "\"REFUNDED\" => ::std::option::Option::Some(Self::Refunded)",
        "Self::Refunded => \"REFUNDED\"",
        "pub fn is_refunded(&self) -> bool",
        "Some(Self::Completed | Self::Failed | Self::Error | Self::Refunded)",
        "Other(::std::string::String)",
    ] {
        assert!(after.contains(expected), "missing {expected:?} in {after}");
    }

    // Known but not final: a variant, left out of is_final().
    let after = status_enum(&edited(|schema| push(schema, "x-known-values", "ON_HOLD")));
    assert!(after.contains("OnHold,"), "{after}");
    assert!(
        after.contains("Some(Self::Completed | Self::Failed | Self::Error)"),
        "{after}"
    );
}

#[test]
fn values_that_cannot_be_distinct_variants_are_named() {
    for (value, why) in [
        (
            "in_queue",
            "`IN_QUEUE` and `in_queue` would both be the variant `InQueue`",
        ),
        ("OTHER", "the value `OTHER` cannot name a distinct variant"),
        ("FINAL", "the value `FINAL` cannot name a distinct variant"),
        ("3D", "the value `3D` cannot name a distinct variant"),
    ] {
        let spec = edited(|schema| push(schema, "x-known-values", value));
        let error = generate(&spec).expect_err(value);
        assert!(matches!(error, CodegenError::Unsupported(_)), "{error:?}");
        assert!(error.to_string().contains(why), "{value}: {error}");
    }
    let spec = edited(|schema| push(schema, "x-final-values", "REFUNDED"));
    let error = generate(&spec).expect_err("a final value that is not known");
    assert!(
        error
            .to_string()
            .contains("final value `REFUNDED` is not among `x-known-values`"),
        "{error}"
    );
}
