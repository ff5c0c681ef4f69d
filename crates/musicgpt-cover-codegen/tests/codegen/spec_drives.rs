//! The spec drives the multipart generator: edits of a copy of openapi.yaml show up in the
//! generated Cover builder on the next generation, and constructs it cannot handle are named.

use musicgpt_cover_codegen::{CodegenError, generate, generate_file};
use serde_norway::{Mapping, Value};

/// The spec with `edit` applied to the Cover form schema.
fn edited(edit: impl FnOnce(&mut Mapping)) -> String {
    let mut spec: Value = serde_norway::from_str(&crate::spec_yaml()).expect("the spec is YAML");
    let form = spec["components"]["schemas"]["CoverRequest"]
        .as_mapping_mut()
        .expect("the Cover form schema");
    edit(form);
    serde_norway::to_string(&spec).expect("YAML again")
}

fn yaml(text: &str) -> Value {
    serde_norway::from_str(text).expect("YAML")
}

/// The branches of the form's `anyOf` rule, beside `properties` or in `allOf`.
fn audio_rule(form: &mut Mapping) -> &mut Vec<Value> {
    let rule = if form.contains_key("anyOf") {
        form.get_mut("anyOf")
    } else {
        form.get_mut("allOf")
            .and_then(|all_of| all_of.get_mut(0))
            .and_then(|member| member.get_mut("anyOf"))
    };
    rule.and_then(Value::as_sequence_mut)
        .expect("the audio rule")
}

/// The form with its `anyOf` rule moved beside `properties`, or into `allOf` as `members`
/// copies of one member, wherever it was.
fn move_rule(form: &mut Mapping, members: usize) {
    let rule = form
        .shift_remove("anyOf")
        .or_else(|| {
            form.shift_remove("allOf")
                .and_then(|all_of| all_of.get(0).and_then(|m| m.get("anyOf")).cloned())
        })
        .expect("the audio rule");
    if members == 0 {
        form.insert("anyOf".into(), rule);
    } else {
        let member = Value::Mapping(Mapping::from_iter([("anyOf".into(), rule)]));
        form.insert("allOf".into(), Value::Sequence(vec![member; members]));
    }
}

fn properties(form: &mut Mapping) -> &mut Mapping {
    form.get_mut("properties")
        .and_then(Value::as_mapping_mut)
        .expect("the form has properties")
}

/// The generated `builder::Cover` struct and impl, rendered alone.
fn cover_builder(spec_yaml: &str) -> String {
    let file = generate_file(spec_yaml).expect("the spec generates");
    let items = file
        .items
        .into_iter()
        .find_map(|item| match item {
            syn::Item::Mod(module) if module.ident == "builder" => module.content.map(|c| c.1),
            _ => None,
        })
        .expect("a builder module")
        .into_iter()
        .filter(|item| match item {
            syn::Item::Struct(item) => item.ident == "Cover",
            syn::Item::Impl(item) => {
                matches!(&*item.self_ty, syn::Type::Path(path) if path.path.segments.last().is_some_and(|s| s.ident == "Cover"))
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
}

#[test]
fn a_new_form_field_gets_a_setter_and_a_part() {
    let before = cover_builder(&crate::spec_yaml());
    assert!(!before.contains("fn mood"));

    let spec = edited(|form| {
        properties(form).insert(
            "mood".into(),
            yaml("{type: string, description: How the cover should feel.}"),
        );
    });
    let after = cover_builder(&spec);
    assert!(
        after.contains("pub fn mood<V>(mut self, value: V) -> Self"),
        "{after}"
    );
    assert!(
        after.contains("mood: Result<Option<::std::string::String>, String>"),
        "{after}"
    );
    assert!(
        after.contains("form = form.text(\"mood\", value);"),
        "{after}"
    );
    insta::assert_snapshot!("cover_builder_with_mood", after);
}

#[test]
fn new_pitch_bounds_change_the_generated_check() {
    let before = cover_builder(&crate::spec_yaml());
    assert!(
        before.contains("if !(-12i64..=12i64).contains(&value)"),
        "{before}"
    );

    let spec = edited(|form| {
        let pitch = properties(form)
            .get_mut("pitch")
            .and_then(Value::as_mapping_mut)
            .expect("pitch");
        pitch.insert("minimum".into(), Value::from(-6));
        pitch.insert("maximum".into(), Value::from(6));
    });
    let after = cover_builder(&spec);
    assert!(
        after.contains("if !(-6i64..=6i64).contains(&value)"),
        "{after}"
    );
    assert!(
        after.contains("pitch must be between -6 and 6 (inclusive), got {value}"),
        "{after}"
    );
    assert!(
        after.contains("pub const PITCH_MIN: i64 = -6i64;"),
        "{after}"
    );
    assert!(
        !after.contains("12i64"),
        "no trace of the old bounds: {after}"
    );
}

#[test]
fn a_required_integer_with_one_exclusive_bound_is_checked_as_written() {
    let spec = edited(|form| {
        properties(form).insert(
            "seconds".into(),
            yaml("{type: integer, minimum: 0, exclusiveMinimum: true}"),
        );
        form.get_mut("required")
            .and_then(Value::as_sequence_mut)
            .expect("a required list")
            .push("seconds".into());
    });
    let builder = cover_builder(&spec);
    assert!(
        builder.contains("seconds: Result<i64, String>"),
        "{builder}"
    );
    assert!(builder.contains("if value <= 0i64"), "{builder}");
    assert!(
        builder.contains("seconds must be greater than 0, got {value}"),
        "{builder}"
    );
    assert!(builder.contains("seconds was not initialized"), "{builder}");
}

#[test]
fn unsupported_constructs_are_named_rather_than_guessed() {
    let spec = edited(|form| {
        properties(form).insert("tags".into(), yaml("{type: array, items: {type: string}}"));
    });
    let error = generate(&spec).expect_err("arrays are not form fields it knows");
    assert!(matches!(error, CodegenError::Unsupported(_)), "{error:?}");
    assert!(error.to_string().contains("field `tags`"), "{error}");

    let spec = edited(|form| {
        audio_rule(form).push(yaml("{required: [no_such_field]}"));
    });
    let error = generate(&spec).expect_err("the rule names a field that does not exist");
    assert!(
        error
            .to_string()
            .contains("`no_such_field` is not a field of the form"),
        "{error}"
    );

    let spec = edited(|form| move_rule(form, 2));
    let error = generate(&spec).expect_err("two rules in allOf");
    assert!(matches!(error, CodegenError::Unsupported(_)), "{error:?}");
    assert!(
        error.to_string().contains("other than one member"),
        "{error}"
    );

    let spec = edited(|form| {
        audio_rule(form)[0]["properties"]["audio_file"]["format"] = "byte".into();
    });
    let error = generate(&spec).expect_err("a branch restates audio_file as another type");
    assert!(
        error
            .to_string()
            .contains("the `format` of `audio_file` differs from the property's"),
        "{error}"
    );
}

/// The rule reads the same beside `properties` (a bare `anyOf`) and in `allOf`.
#[test]
fn the_rule_reads_the_same_beside_the_properties_and_in_all_of() {
    let beside = cover_builder(&edited(|form| move_rule(form, 0)));
    let in_all_of = cover_builder(&edited(|form| move_rule(form, 1)));
    assert_eq!(beside, in_all_of);
    assert!(
        beside.contains("at least one of: `audio_file`, or a non-empty `audio_url`"),
        "{beside}"
    );
}

#[test]
fn the_form_schema_is_not_left_to_progenitor() {
    let source = generate(&crate::spec_yaml()).expect("the spec generates");
    assert!(
        !source.contains("CoverRequest"),
        "no unused anyOf type for the form"
    );
    assert!(source.contains("pub fn cover(&self) -> builder::Cover<'_>"));
}
