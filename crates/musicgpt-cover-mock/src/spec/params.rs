//! Query strings checked against an operation's parameter rules.

use std::borrow::Cow;

use super::forms::{Checked, Rule};

/// A checked query parameter.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Param<'q> {
    Text(Cow<'q, str>),
    Integer(i64),
}

impl Param<'_> {
    pub(crate) fn text(&self) -> Option<&str> {
        match self {
            Param::Text(t) => Some(t),
            Param::Integer(_) => None,
        }
    }

    pub(crate) fn integer(&self) -> Option<i64> {
        match self {
            Param::Integer(n) => Some(*n),
            Param::Text(_) => None,
        }
    }
}

/// Checks `query` against `rules`; the result holds one slot per rule (integer defaults filled
/// in). Parameters the spec does not name are ignored. The error says exactly what was wrong.
pub(crate) fn parse_query<'q>(
    rules: &[Rule],
    query: Option<&'q str>,
) -> Result<Vec<Option<Param<'q>>>, String> {
    let mut raw: Vec<Option<Cow<'q, str>>> = vec![None; rules.len()];
    for (name, value) in form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
        let Some(i) = rules.iter().position(|r| r.name == name) else {
            continue;
        };
        if raw[i].is_some() {
            return Err(format!("query parameter {name} was given more than once"));
        }
        raw[i] = Some(value);
    }
    let mut out = Vec::with_capacity(rules.len());
    for (rule, value) in rules.iter().zip(raw) {
        out.push(match value {
            None if rule.required => return Err(format!("{} is required", rule.name)),
            None => rule.default.map(Param::Integer),
            Some(value) => Some(match rule.check(&value)? {
                Checked::Integer(n) => Param::Integer(n),
                Checked::Text(_) => Param::Text(value),
            }),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_the_voice_list_parameters() {
        let spec = crate::spec::spec().expect("spec");
        let rules = &spec.search_voices.query;
        let ok = parse_query(rules, Some("query=dr%20ake&limit=5"));
        let Ok(ok) = ok else { panic!("{ok:?}") };
        assert_eq!(ok[0], Some(Param::Text("dr ake".into())));
        assert_eq!(ok[1], Some(Param::Integer(5)));
        assert_eq!(ok[2], Some(Param::Integer(0)));
        assert_eq!(
            parse_query(rules, Some("limit=5")),
            Err("query is required".to_owned())
        );
        assert_eq!(
            parse_query(rules, Some("query=a&limit=0")),
            Err("limit must be an integer between 1 and 100, got \"0\"".to_owned())
        );
        assert_eq!(
            parse_query(rules, Some("query=")),
            Err("query must not be empty".to_owned())
        );
        assert_eq!(
            parse_query(rules, Some("query=a&query=b")),
            Err("query parameter query was given more than once".to_owned())
        );
        // Ids are plain strings (the mock's UUIDs are its own): any id passes the query check,
        // and one the mock did not issue is then not found.
        let by_id = &spec.by_id.query;
        let checked = parse_query(by_id, Some("conversionType=COVER&task_id=nope"))
            .expect("a task_id that is not a UUID is a valid query");
        assert!(checked.contains(&Some(Param::Text("nope".into()))));
        // conversionType is one of the spec's values, exactly as the API's documentation writes
        // them (upper case); the error names them.
        for bad in ["NOPE", "", "cover", "COVER ", "Cover"] {
            let query = format!("conversionType={}&task_id=a", bad.replace(' ', "+"));
            let why = parse_query(by_id, Some(&query))
                .err()
                .unwrap_or_else(|| panic!("conversionType {bad:?} passed"));
            assert!(
                why.starts_with("conversionType must be one of MUSIC_AI,")
                    && why.contains(", COVER,")
                    && why.ends_with(&format!("got {bad:?}")),
                "{why}"
            );
        }
        assert!(parse_query(by_id, Some("conversionType=MUSIC_AI&task_id=a")).is_ok());
    }
}
