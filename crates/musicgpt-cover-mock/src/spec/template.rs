//! Response templates compiled from the spec's schemas and examples, and their rendering.
//!
//! A template is the ordered list of a schema's properties. Each property is either one the mock
//! fills with live data (a [`Field`] of its vocabulary, looked up by the property's name) or one it
//! copies from the spec's examples. Rendering writes JSON straight into a byte buffer: no
//! `serde_json::Value` tree is built per response.

use serde_json::Value as Json;
use serde_norway::Value as Yaml;

use super::json::{json_string, write_json};
use super::operations::Operation;
use super::reader::{Kind, Schema, find, named_examples, read};

/// Declares [`Field`] and the property name each variant means, once.
macro_rules! fields {
    ($($field:ident = $name:literal,)*) => {
        /// The names the mock fills with live data. A property whose name is not here is copied
        /// from the spec's examples (or echoes the request, [`Fill::named`]), so a field added to
        /// the spec shows up in the responses without code changes.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub(crate) enum Field {
            $($field,)*
        }

        impl Field {
            /// The spec's property name of the field.
            pub(crate) fn name(self) -> &'static str {
                match self {
                    $(Field::$field => $name,)*
                }
            }

            pub(crate) fn from_name(name: &str) -> Option<Field> {
                match name {
                    $($name => Some(Field::$field),)*
                    _ => None,
                }
            }
        }
    };
}

fields! {
    Success = "success",
    TaskId = "task_id",
    ConversionId = "conversion_id",
    Eta = "eta",
    CreditEstimate = "credit_estimate",
    Message = "message",
    Status = "status",
    Conversion = "conversion",
    ConversionType = "conversion_type",
    StatusMsg = "status_msg",
    VoiceId = "voice_id",
    Pitch = "pitch",
    WebhookUrl = "webhook_url",
    AudioUrl = "audio_url",
    AudioUrlWav = "audio_url_wav",
    ConversionPath = "conversion_path",
    ConversionPathWav = "conversion_path_wav",
    ConversionDuration = "conversion_duration",
    ConversionCost = "conversion_cost",
    CreatedAt = "createdAt",
    UpdatedAt = "updatedAt",
    Voices = "voices",
    VoiceName = "voice_name",
    Limit = "limit",
    Page = "page",
    Total = "total",
    Error = "error",
    Detail = "detail",
}

/// A live value for one field, as a [`Fill`] answers it.
#[derive(Debug)]
pub(crate) enum Val<'a> {
    /// Leave the property out.
    Absent,
    /// Use the spec's example value for it, or leave it out when the spec has none.
    Default,
    Bool(bool),
    Int(i64),
    /// A number given with the count of decimals it is meaningful to (credits: 2).
    Num(f64),
    Str(&'a str),
    Owned(String),
    /// Render the property's nested object template from the same [`Fill`].
    Object,
    /// Render the property's item template once for each of `n` items ([`Fill::item`]).
    Array(usize),
}

/// What a template asks while it renders.
pub(crate) trait Fill {
    fn value(&self, field: Field) -> Val<'_>;
    /// A property with no [`Field`], by its name: the spec's example value unless told otherwise.
    fn named(&self, _name: &str) -> Val<'_> {
        Val::Default
    }
    /// The `index`th item of an array field.
    fn item(&self, _field: Field, _index: usize) -> Option<&dyn Fill> {
        None
    }
}

/// One property of a template.
#[derive(Debug, Clone)]
pub(crate) struct Slot {
    name: String,
    /// `"name":`, escaped once at start-up.
    key: Vec<u8>,
    pub(crate) field: Option<Field>,
    pub(crate) kind: Kind,
    /// The example's (or schema's example/default) value, serialized.
    pub(crate) literal: Option<Vec<u8>>,
    /// Object properties, or the item template of an array.
    pub(crate) nested: Option<Template>,
}

/// An object's properties in the spec's order.
#[derive(Debug, Clone, Default)]
pub(crate) struct Template {
    pub(crate) slots: Vec<Slot>,
}

impl Template {
    pub(crate) fn push(
        &mut self,
        name: &str,
        kind: Kind,
        literal: Option<Vec<u8>>,
        nested: Option<Template>,
    ) {
        let mut key = json_string(name);
        key.push(b':');
        self.slots.push(Slot {
            name: name.to_owned(),
            key,
            field: Field::from_name(name),
            kind,
            literal,
            nested,
        });
    }

    /// Renders the object into a new buffer.
    pub(crate) fn render(&self, fill: &dyn Fill) -> Vec<u8> {
        let mut out = Vec::with_capacity(512);
        self.render_into(&mut out, fill);
        out
    }

    pub(crate) fn render_into(&self, out: &mut Vec<u8>, fill: &dyn Fill) {
        out.push(b'{');
        let mut first = true;
        for slot in &self.slots {
            let val = match slot.field {
                Some(field) => fill.value(field),
                None => fill.named(&slot.name),
            };
            let start = out.len();
            if !first {
                out.push(b',');
            }
            out.extend_from_slice(&slot.key);
            if write_val(out, slot, val, fill) {
                first = false;
            } else {
                out.truncate(start);
            }
        }
        out.push(b'}');
    }
}

/// Writes one value; false when the property is to be left out.
fn write_val(out: &mut Vec<u8>, slot: &Slot, val: Val<'_>, fill: &dyn Fill) -> bool {
    match val {
        Val::Absent => return false,
        Val::Default => match &slot.literal {
            Some(lit) => out.extend_from_slice(lit),
            None => return false,
        },
        Val::Bool(b) => out.extend_from_slice(if b { b"true" } else { b"false" }),
        Val::Int(i) => match slot.kind {
            Kind::String => write_json(out, &i.to_string()),
            _ => write_json(out, &i),
        },
        Val::Num(x) => match slot.kind {
            // The API sends costs as strings with two decimals ("0.88").
            Kind::String => write_json(out, &format!("{x:.2}")),
            Kind::Integer => write_json(out, &(x.round() as i64)),
            _ => write_json(out, &x),
        },
        Val::Str(s) => write_json(out, s),
        Val::Owned(s) => write_json(out, &s),
        Val::Object => match &slot.nested {
            Some(t) => t.render_into(out, fill),
            None => return false,
        },
        Val::Array(n) => {
            let Some(item_template) = &slot.nested else {
                return false;
            };
            out.push(b'[');
            let field = slot.field;
            let mut written = 0;
            for i in 0..n {
                let Some(item) = field.and_then(|f| fill.item(f, i)) else {
                    continue;
                };
                if written > 0 {
                    out.push(b',');
                }
                item_template.render_into(out, item);
                written += 1;
            }
            out.push(b']');
        }
    }
    true
}

/// The live-response template of an operation's 200.
pub(super) fn ok_template(root: &Yaml, op: &Operation) -> Result<Template, String> {
    let (_, _, found) = find(root, &op.operation_id)?;
    let response = (found.get("responses"))
        .and_then(|r| r.get("200"))
        .ok_or_else(|| format!("{}: no 200 response", op.operation_id))?;
    let schema = (response.get("content"))
        .and_then(|c| c.get("application/json")?.get("schema"))
        .ok_or_else(|| format!("{}: 200 has no JSON schema", op.operation_id))?;
    let examples = op.ok_examples()?;
    template(schema, &examples.iter().collect::<Vec<_>>())
}

/// The callback's payload template and the form field its URL expression names.
pub(super) fn webhook(root: &Yaml, cover: &Operation) -> Result<(Template, String), String> {
    let (_, _, op) = find(root, &cover.operation_id)?;
    let callbacks = op.get("callbacks").and_then(Yaml::as_mapping);
    let (expression, callback) = (callbacks.into_iter().flatten())
        .filter_map(|(_, callback)| callback.as_mapping())
        .flatten()
        .next()
        .ok_or("cover: no callback")?;
    // `{$request.body#/webhook_url}`
    let expression = expression.as_str().unwrap_or_default();
    let field = expression
        .trim_matches(|c| c == '{' || c == '}')
        .strip_prefix("$request.body#/")
        .ok_or_else(|| format!("cover: callback expression {expression} is not $request.body"))?
        .to_owned();
    let body = (callback.get("post"))
        .and_then(|p| p.get("requestBody"))
        .ok_or("cover: callback has no POST body")?;
    let media = (body.get("content"))
        .and_then(|c| c.get("application/json"))
        .ok_or("cover: callback is not JSON")?;
    let schema = media.get("schema").ok_or("cover: callback has no schema")?;
    let examples = named_examples(media)
        .into_iter()
        .map(|(_, value)| read(value))
        .collect::<Result<Vec<Json>, _>>()?;
    Ok((
        template(schema, &examples.iter().collect::<Vec<_>>())?,
        field,
    ))
}

/// Builds the template of an object schema; property values the mock does not fill come from
/// the first example that has them, else from the schema's own example or default.
pub(super) fn template(schema: &Yaml, examples: &[&Json]) -> Result<Template, String> {
    let schema: Schema = read(schema)?;
    let mut out = Template::default();
    for (name, prop) in schema.properties() {
        let values: Vec<&Json> = examples.iter().filter_map(|e| e.get(name)).collect();
        let prop_schema: Schema = read(prop)?;
        let literal_value = (values.first().copied())
            .or(prop_schema.example.as_ref())
            .or(prop_schema.default.as_ref());
        let literal = literal_value.and_then(|v| serde_json::to_vec(v).ok());
        let kind = match literal_value {
            Some(Json::String(_)) => Kind::String,
            Some(Json::Number(n)) if n.is_i64() || n.is_u64() => match prop_schema.kind() {
                Kind::Number => Kind::Number,
                _ => Kind::Integer,
            },
            Some(Json::Number(_)) => Kind::Number,
            Some(Json::Bool(_)) => Kind::Boolean,
            _ => prop_schema.kind(),
        };
        let nested = match (prop_schema.kind(), &prop_schema.items) {
            (Kind::Object, _) if !prop_schema.properties.is_empty() => {
                Some(template(prop, &values)?)
            }
            (Kind::Array, Some(items)) => {
                let firsts: Vec<&Json> = (values.iter())
                    .filter_map(|v| v.as_array().and_then(|a| a.first()))
                    .collect();
                Some(template(items, &firsts)?)
            }
            _ => None,
        };
        out.push(name, kind, literal, nested);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    struct F;
    impl Fill for F {
        fn value(&self, field: Field) -> Val<'_> {
            match field {
                Field::Success => Val::Bool(true),
                Field::TaskId => Val::Str("a\"b"),
                Field::ConversionCost => Val::Num(0.875),
                Field::Eta => Val::Absent,
                _ => Val::Default,
            }
        }
    }

    #[test]
    fn renders_in_order_with_literals_and_omissions() {
        let mut t = Template::default();
        t.push("success", Kind::Boolean, None, None);
        t.push("eta", Kind::Integer, Some(b"3".to_vec()), None);
        t.push("task_id", Kind::String, None, None);
        t.push(
            "conversion_cost",
            Kind::String,
            Some(b"\"0.88\"".to_vec()),
            None,
        );
        t.push("genre", Kind::String, Some(b"\"pop\"".to_vec()), None);
        t.push("message", Kind::String, None, None);
        let out = String::from_utf8(t.render(&F)).unwrap_or_default();
        assert_eq!(
            out,
            r#"{"success":true,"task_id":"a\"b","conversion_cost":"0.88","genre":"pop"}"#
        );
    }
}
