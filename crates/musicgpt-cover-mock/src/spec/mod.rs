//! Layer 1, the spec model: openapi.yaml, embedded at compile time and compiled once into
//! validators and response templates. It knows nothing of the layers above it.
//!
//! Nothing here runs per request: [`spec()`] parses the file the first time it is asked for and
//! keeps, for each operation the mock serves, the table of its form fields or query parameters
//! (name, type, bounds, required-ness), its documented statuses with every named example already
//! serialized to the exact bytes the mock sends for `Prefer: example=`, and the templates of its
//! live responses. Each file compiles one kind of thing:
//! - `document`: openapi.yaml parsed, once, and `$ref`s followed (or inlined) in it;
//! - `reader`: finding operations and the keywords of a schema in the inlined document;
//! - `operations`: each operation's statuses and examples;
//! - `json`: JSON text written into byte buffers;
//! - `forms`: form-field and parameter rules, and the checks of a value against them;
//! - `params`: a query string checked against the parameter rules;
//! - `template`: the templates of the live responses and the webhook payload;
//! - `validate`: requests and answers held against the spec, reported rather than refused (the
//!   proxy mode).

pub(crate) mod document;
mod forms;
mod json;
mod operations;
mod params;
mod reader;
pub(crate) mod shapes;
mod template;
pub(crate) mod validate;

use std::ops::RangeInclusive;
use std::sync::OnceLock;

use serde::Deserialize;
use serde_json::Value as Json;
use serde_norway::Value as Yaml;

pub(crate) use forms::{Checked, FormSpec, MULTIPART, Rule, URLENCODED, Value, ValueKind, quoted};
pub(crate) use json::json_string;
pub(crate) use operations::{Example, Operation};
pub(crate) use params::{Param, parse_query};
pub(crate) use template::{Field, Fill, Template, Val};

use document::Document;
pub(crate) use document::document;

/// The text of openapi.yaml this crate was built with: the crate's own `openapi.yaml`, a symlink to
/// the workspace's in a checkout and the file itself in a packaged crate.
pub const OPENAPI_YAML: &str = include_str!("../../openapi.yaml");

/// Returns the compiled spec, parsing it on first use.
pub(crate) fn spec() -> Result<&'static Spec, String> {
    static SPEC: OnceLock<Result<Spec, String>> = OnceLock::new();
    SPEC.get_or_init(|| Spec::compile(document()?))
        .as_ref()
        .map_err(Clone::clone)
}

/// The compiled spec.
#[derive(Debug)]
pub(crate) struct Spec {
    pub(crate) title: String,
    pub(crate) version: String,
    /// `/api/public`: the path of the spec's loopback server, under which the operations live.
    pub(crate) base_path: String,
    /// `http://127.0.0.1:4010`: where the spec says the local mock listens.
    pub(crate) default_origin: String,
    /// The spec's other `servers` (the real API's base URLs), in its order.
    pub(crate) api_servers: Vec<String>,
    pub(crate) cover: Operation,
    pub(crate) by_id: Operation,
    pub(crate) all_voices: Operation,
    pub(crate) search_voices: Operation,
    /// 200 of `POST /v1/Cover`.
    pub(crate) cover_ok: Template,
    /// 200 of `GET /v1/byId`.
    pub(crate) conversion_ok: Template,
    /// 200 of the voice lists.
    pub(crate) voices_ok: Template,
    /// The `coverCompleted` callback's payload.
    pub(crate) webhook: Template,
    /// The form field the callback's URL expression names (`webhook_url`).
    pub(crate) webhook_field: String,
    /// The Cover form's fields the mock reads, by their slots.
    pub(crate) cover_fields: CoverFields,
    /// byId's query parameters, by their slots.
    pub(crate) by_id_params: ByIdParams,
    /// The voice pages' query parameters, by their slots.
    pub(crate) all_voices_params: PageParams,
    pub(crate) search_voices_params: PageParams,
    /// The shared `Error` schema, for errors the spec has no status for (an unknown route).
    pub(crate) error: Template,
    /// `status_msg` and `message` per conversion status, from the byId examples.
    pub(crate) status_texts: Vec<StatusText>,
    /// The voices of the voice list's example, which open the mock's catalogue.
    pub(crate) example_voices: Vec<(String, String)>,
    /// `ConversionStatus`'s `x-known-values`: the statuses a client must expect (the domain
    /// checks at start-up that it shows no other).
    pub(crate) known_statuses: Vec<String>,
    /// `ConversionStatus`'s `x-final-values`: the statuses a task ends in.
    pub(crate) final_statuses: Vec<String>,
    /// The bounds of the Cover form's `pitch`: the semitones a result is shifted by.
    pub(crate) pitch: RangeInclusive<i64>,
    /// Its default, when the form leaves it out.
    pub(crate) pitch_default: i64,
    /// The `conversionType` with which byId finds the conversions Cover starts (`COVER`): that
    /// parameter's example, as the client's `COVER_CONVERSION_TYPE` is.
    pub(crate) cover_conversion_type: String,
    /// What a Cover costs: the first 200 example of Cover that shows both an `eta` and a
    /// `credit_estimate` (71 s for 1.27 credits), as (seconds, credits).
    pub(crate) cover_rate: (u64, f64),
}

/// The Cover form's fields the mock reads, by their slots in its form (in the multipart form and
/// in the url-encoded one, which carries the same fields in the same order): each name is written
/// here once, and a spec without one fails to compile.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CoverFields {
    pub(crate) audio_url: usize,
    pub(crate) audio_file: usize,
    pub(crate) voice_id: usize,
    pub(crate) pitch: usize,
    /// [`Spec::webhook_field`]'s.
    pub(crate) webhook_url: usize,
}

impl CoverFields {
    /// What a Cover `form` that gives no song is told (the 422's reason).
    pub(crate) fn no_song(&self, form: &FormSpec) -> String {
        let name = |slot: usize| form.fields.get(slot).map_or("", |f| f.name.as_str());
        format!(
            "neither {} nor {} was given",
            name(self.audio_url),
            name(self.audio_file)
        )
    }
}

/// byId's query parameters, by their slots among [`Operation::query`] (and `parse_query`'s).
#[derive(Debug, Clone, Copy)]
pub(crate) struct ByIdParams {
    pub(crate) task_id: usize,
    pub(crate) conversion_id: usize,
    pub(crate) conversion_type: usize,
}

/// A voice page's query parameters, by their slots among [`Operation::query`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct PageParams {
    /// The text a search looks for (none: every voice).
    pub(crate) query: Option<usize>,
    pub(crate) limit: usize,
    pub(crate) page: usize,
}

/// The slot of the query parameter `name` of `op`; an error naming it when the spec has none.
fn param(op: &Operation, name: &str) -> Result<usize, String> {
    (op.query_index(name)).ok_or_else(|| {
        format!(
            "openapi.yaml's {} has no query parameter {name}",
            op.operation_id
        )
    })
}

/// The members of the document's head the mock reads.
#[derive(Deserialize)]
struct Head {
    info: Info,
    #[serde(default)]
    servers: Vec<Server>,
}

#[derive(Deserialize)]
struct Info {
    title: String,
    version: String,
}

#[derive(Deserialize)]
struct Server {
    url: String,
}

/// Texts the byId examples show for one status.
#[derive(Debug, Clone)]
pub(crate) struct StatusText {
    pub(crate) status: String,
    pub(crate) status_msg: Option<String>,
    pub(crate) message: Option<String>,
}

impl Spec {
    pub(crate) fn operations(&self) -> [&Operation; 4] {
        [
            &self.cover,
            &self.by_id,
            &self.all_voices,
            &self.search_voices,
        ]
    }

    /// The operation whose operationId is `id`.
    pub(crate) fn operation(&self, id: &str) -> Option<&Operation> {
        (self.operations().into_iter()).find(|op| op.operation_id == id)
    }

    /// Every operationId, `cover, getConversionById, ...`, for a text that names them.
    pub(crate) fn operation_ids(&self) -> String {
        self.operations()
            .map(|op| op.operation_id.as_str())
            .join(", ")
    }

    pub(crate) fn status_text(&self, status: &str) -> Option<&StatusText> {
        self.status_texts.iter().find(|t| t.status == status)
    }

    pub(crate) fn compile(document: &Document) -> Result<Spec, String> {
        let raw = document::inline(document.yaml(), document.yaml(), 0)?;
        let head: Head = reader::read(&raw)?;

        let (default_origin, base_path) = (head.servers.iter())
            .find_map(|s| loopback_server(&s.url))
            .ok_or("openapi.yaml lists no http://127.0.0.1 server for the mock")?;
        let api_servers = (head.servers.iter())
            .filter(|s| loopback_server(&s.url).is_none())
            .map(|s| s.url.trim_end_matches('/').to_owned())
            .collect();

        let cover = operations::operation(&raw, "cover")?;
        let by_id = operations::operation(&raw, "getConversionById")?;
        let all_voices = operations::operation(&raw, "getAllVoices")?;
        let search_voices = operations::operation(&raw, "searchVoices")?;

        let cover_ok = template::ok_template(&raw, &cover)?;
        let conversion_ok = template::ok_template(&raw, &by_id)?;
        let voices_ok = template::ok_template(&raw, &all_voices)?;

        let (webhook, webhook_field) = template::webhook(&raw, &cover)?;
        let schema = |name: &str| {
            (raw.get("components"))
                .and_then(|c| c.get("schemas")?.get(name))
                .ok_or(format!("openapi.yaml has no schema {name}"))
        };
        let error = template::template(schema("Error")?, &[])?;

        let status_texts = by_id
            .ok_examples()?
            .iter()
            .filter_map(|e| {
                let c = e.get(Field::Conversion.name())?;
                let text = |f: Field| c.get(f.name()).and_then(Json::as_str).map(str::to_owned);
                Some(StatusText {
                    status: text(Field::Status)?,
                    status_msg: text(Field::StatusMsg),
                    message: text(Field::Message),
                })
            })
            .collect();
        let example_voices = all_voices
            .ok_examples()?
            .iter()
            .filter_map(|e| e.get(Field::Voices.name())?.as_array().cloned())
            .flatten()
            .filter_map(|v| {
                let text = |f: Field| Some(v.get(f.name())?.as_str()?.to_owned());
                Some((text(Field::VoiceId)?, text(Field::VoiceName)?))
            })
            .collect();
        let status_schema = schema("ConversionStatus")?;
        let statuses = |extension: &str| -> Vec<String> {
            (status_schema.get(extension).and_then(Yaml::as_sequence))
                .into_iter()
                .flatten()
                .filter_map(|s| Some(s.as_str()?.to_owned()))
                .collect()
        };
        let form = (cover.form.as_ref()).ok_or("openapi.yaml's Cover has no multipart form")?;
        if let Some(urlencoded) = &cover.urlencoded
            && !(form.fields.iter().map(|f| &f.name)).eq(urlencoded.fields.iter().map(|f| &f.name))
        {
            return Err(
                "openapi.yaml's Cover url-encoded form has other fields than its multipart one"
                    .to_owned(),
            );
        }
        let field = |name: &str| {
            (form.index_of(name))
                .ok_or_else(|| format!("openapi.yaml's Cover form has no field {name}"))
        };
        let cover_fields = CoverFields {
            audio_url: field("audio_url")?,
            audio_file: field("audio_file")?,
            voice_id: field("voice_id")?,
            pitch: field("pitch")?,
            webhook_url: field(&webhook_field)?,
        };
        let by_id_params = ByIdParams {
            task_id: param(&by_id, "task_id")?,
            conversion_id: param(&by_id, "conversion_id")?,
            conversion_type: param(&by_id, "conversionType")?,
        };
        let page = |op: &Operation, query| -> Result<PageParams, String> {
            Ok(PageParams {
                query,
                limit: param(op, "limit")?,
                page: param(op, "page")?,
            })
        };
        let all_voices_params = page(&all_voices, None)?;
        let search_voices_params = page(&search_voices, Some(param(&search_voices, "query")?))?;
        let pitch = &form.fields[cover_fields.pitch];
        let (Some(min), Some(max)) = (pitch.minimum, pitch.maximum) else {
            return Err(format!(
                "openapi.yaml's {} has no minimum or no maximum",
                pitch.name
            ));
        };
        if min > max {
            return Err(format!(
                "openapi.yaml's {}: minimum {min} > maximum {max}",
                pitch.name
            ));
        }
        let pitch_default = pitch.default.unwrap_or(0);
        let conversion_type = &by_id.query[by_id_params.conversion_type];
        let cover_conversion_type = (conversion_type.example.clone()).ok_or_else(|| {
            format!(
                "openapi.yaml's byId has no {} with an example (Cover's)",
                conversion_type.name
            )
        })?;
        let cover_rate = (cover.ok_examples()?.iter())
            .find_map(|e| {
                let eta = e.get(Field::Eta.name())?.as_u64().filter(|&eta| eta > 0)?;
                let credits = e.get(Field::CreditEstimate.name())?.as_f64()?;
                Some((eta, credits)).filter(|_| credits > 0.0)
            })
            .ok_or_else(|| {
                format!(
                    "openapi.yaml's Cover has no 200 example with an {} and a {}",
                    Field::Eta.name(),
                    Field::CreditEstimate.name()
                )
            })?;

        Ok(Spec {
            title: head.info.title,
            version: head.info.version,
            base_path,
            default_origin,
            api_servers,
            webhook,
            webhook_field,
            cover_fields,
            by_id_params,
            all_voices_params,
            search_voices_params,
            cover_ok,
            conversion_ok,
            voices_ok,
            error,
            status_texts,
            example_voices,
            known_statuses: statuses("x-known-values"),
            final_statuses: statuses("x-final-values"),
            pitch: min..=max,
            pitch_default,
            cover_conversion_type,
            cover_rate,
            cover,
            by_id,
            all_voices,
            search_voices,
        })
    }
}

/// `http://127.0.0.1:4010/api/public` → (`http://127.0.0.1:4010`, `/api/public`).
fn loopback_server(url: &str) -> Option<(String, String)> {
    let rest = url.strip_prefix("http://")?;
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let host = authority.rsplit_once(':').map_or(authority, |(h, _)| h);
    if host != "127.0.0.1" && host != "localhost" {
        return None;
    }
    let path = format!("/{}", path.trim_end_matches('/'));
    let path = if path == "/" { String::new() } else { path };
    Some((format!("http://{authority}"), path))
}

#[cfg(test)]
mod tests {
    use http::{Method, StatusCode};
    use serde_norway::Value as Yaml;

    use super::*;

    fn spec() -> &'static Spec {
        (super::spec()).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn finds_the_mock_server_and_operations() {
        let s = spec();
        assert_eq!(s.default_origin, "http://127.0.0.1:4010");
        assert_eq!(s.base_path, "/api/public");
        assert_eq!(s.cover.path, "/v1/Cover");
        assert_eq!(s.cover.method, Method::POST);
        assert_eq!(s.cover.invalid_status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(s.by_id.invalid_status, StatusCode::BAD_REQUEST);
        assert_eq!(s.webhook_field, "webhook_url");
    }

    #[test]
    fn the_api_servers_are_the_spec_s_remote_ones() {
        let servers = &spec().api_servers;
        assert!(!servers.is_empty());
        assert!(
            servers.iter().all(|s| s.starts_with("https://")),
            "{servers:?}"
        );
    }

    /// The voice pages' size and number, when a request leaves them out, are the spec's defaults
    /// (the route reads them from here).
    #[test]
    fn the_voice_pages_defaults_are_compiled() {
        let s = spec();
        for (op, slots) in [
            (&s.all_voices, s.all_voices_params),
            (&s.search_voices, s.search_voices_params),
        ] {
            assert_eq!(
                op.query[slots.limit].default,
                Some(20),
                "{}",
                op.operation_id
            );
            assert_eq!(op.query[slots.page].default, Some(0), "{}", op.operation_id);
        }
    }

    /// The Cover form's slots serve both of its forms, so the url-encoded one must carry the
    /// multipart one's fields, in its order.
    #[test]
    fn a_url_encoded_form_with_other_fields_is_an_error() -> Result<(), String> {
        let mut raw = document()?.yaml().clone();
        raw["paths"]["/v1/Cover"]["post"]["requestBody"]["content"]["application/x-www-form-urlencoded"]
            ["schema"] =
            serde_norway::from_str("{type: object, properties: {voice_id: {type: string}}}")
                .map_err(|e| e.to_string())?;
        let text = serde_norway::to_string(&raw).map_err(|e| e.to_string())?;
        let compiled = Spec::compile(&Document::parse(&text)?);
        assert!(
            compiled.is_err_and(|e| e.contains("url-encoded form has other fields")),
            "compiled"
        );
        Ok(())
    }

    /// The conversion type byId finds Cover's conversions by is the parameter's example, read
    /// from the document (as the client's `COVER_CONVERSION_TYPE` is), and follows it.
    #[test]
    fn the_cover_conversion_type_is_the_parameter_s_example() -> Result<(), String> {
        let example = |raw: &Yaml| {
            let params = &raw["paths"]["/v1/byId"]["get"]["parameters"];
            (params.as_sequence().into_iter().flatten())
                .find(|p| p["name"].as_str() == Some("conversionType"))
                .and_then(|p| p["schema"]["example"].as_str())
                .map(str::to_owned)
        };
        let raw = document()?.yaml();
        assert_eq!(example(raw).as_deref(), Some("COVER"));
        assert_eq!(Some(spec().cover_conversion_type.clone()), example(raw));

        let mut changed = raw.clone();
        let params = changed["paths"]["/v1/byId"]["get"]["parameters"]
            .as_sequence_mut()
            .ok_or("byId has no parameters")?;
        for p in params.iter_mut() {
            if p["name"].as_str() == Some("conversionType") {
                p["schema"]["example"] = Yaml::from("REMIX");
            }
        }
        let text = serde_norway::to_string(&changed).map_err(|e| e.to_string())?;
        let compiled = Spec::compile(&Document::parse(&text)?)?;
        assert_eq!(compiled.cover_conversion_type, "REMIX");
        Ok(())
    }

    /// A name the mock reads from the spec (a field of the Cover form, a query parameter) that
    /// the spec does not have stops its compilation with an error naming it: the mock does not
    /// fall back on a default.
    #[test]
    fn a_name_the_mock_reads_that_the_spec_lacks_is_an_error_naming_it() -> Result<(), String> {
        /// Renames `from` as a key, a list item (`required`) and a parameter's `name`, everywhere.
        fn rename(node: &mut Yaml, from: &str) {
            const TO: &str = "renamed";
            match node {
                Yaml::Mapping(map) => {
                    if let Some(name) = map.get_mut("name")
                        && name.as_str() == Some(from)
                    {
                        *name = Yaml::from(TO);
                    }
                    if let Some(value) = map.shift_remove(from) {
                        map.insert(Yaml::from(TO), value);
                    }
                    map.values_mut().for_each(|value| rename(value, from));
                }
                Yaml::Sequence(items) => {
                    for item in items {
                        if item.as_str() == Some(from) {
                            *item = Yaml::from(TO);
                        } else {
                            rename(item, from);
                        }
                    }
                }
                _ => {}
            }
        }
        for name in [
            "audio_url",
            "audio_file",
            "voice_id",
            "pitch",
            "webhook_url",
            "task_id",
            "conversion_id",
            "conversionType",
            "query",
            "limit",
            "page",
        ] {
            let mut raw = document()?.yaml().clone();
            rename(&mut raw, name);
            let text = serde_norway::to_string(&raw).map_err(|e| e.to_string())?;
            match Spec::compile(&Document::parse(&text)?) {
                Ok(_) => return Err(format!("the spec without {name} compiled")),
                Err(e) => assert!(e.split_whitespace().any(|w| w == name), "{name}: {e}"),
            }
        }
        Ok(())
    }

    /// The form the examples fill is the required voice and the first alternative with examples
    /// (the URL: a file has none), and it follows the spec's examples.
    #[test]
    fn the_example_form_is_read_from_the_examples() -> Result<(), String> {
        let example_form = |s: &Spec| -> Option<Vec<(String, String)>> {
            let form = s.cover.form.as_ref()?.example_form()?;
            Some(
                form.iter()
                    .map(|(n, v)| (n.to_string(), v.to_string()))
                    .collect(),
            )
        };
        let raw = document()?.yaml();
        let fields = &raw["components"]["schemas"]["CoverRequest"]["properties"];
        let documented = |name: &str| {
            let example = fields[name]["example"].as_str().unwrap_or_default();
            (name.to_owned(), example.to_owned())
        };
        assert_eq!(
            example_form(spec()),
            Some(vec![documented("voice_id"), documented("audio_url")])
        );

        let mut changed = raw.clone();
        let fields = &mut changed["components"]["schemas"]["CoverRequest"]["properties"];
        fields["voice_id"]["example"] = Yaml::from("Adele");
        let text = serde_norway::to_string(&changed).map_err(|e| e.to_string())?;
        let compiled = Spec::compile(&Document::parse(&text)?)?;
        assert_eq!(
            example_form(&compiled),
            Some(vec![
                ("voice_id".into(), "Adele".into()),
                documented("audio_url")
            ])
        );
        Ok(())
    }

    #[test]
    fn compiles_the_cover_form() {
        let form = spec()
            .cover
            .form
            .as_ref()
            .map(|f| (f.fields.clone(), f.alternatives.clone()));
        let Some((fields, alternatives)) = form else {
            panic!("no form")
        };
        let pitch = fields
            .iter()
            .find(|f| f.name == "pitch")
            .cloned()
            .expect("no pitch");
        assert_eq!(
            (pitch.kind, pitch.minimum, pitch.maximum),
            (ValueKind::Integer, Some(-12), Some(12))
        );
        assert_eq!(
            pitch.check("13"),
            Err("pitch must be an integer between -12 and 12, got \"13\"".to_owned())
        );
        assert_eq!(pitch.check("-12"), Ok(Checked::Integer(-12)));
        let voice = fields.iter().find(|f| f.name == "voice_id").cloned();
        assert!(voice.is_some_and(|v| v.required && v.min_length == 1));
        assert!(
            fields
                .iter()
                .any(|f| f.name == "audio_file" && f.kind == ValueKind::Binary)
        );
        assert_eq!(alternatives.len(), 2);
        assert!(
            alternatives
                .iter()
                .flatten()
                .any(|n| fields[n.field].name == "audio_url" && n.min_length == 1)
        );
    }

    /// The spec with its Cover form schema edited.
    fn with_form(edit: impl FnOnce(&mut serde_norway::Mapping)) -> Result<Spec, String> {
        let mut raw = document()?.yaml().clone();
        let form = raw["components"]["schemas"]["CoverRequest"]
            .as_mapping_mut()
            .ok_or("no CoverRequest")?;
        edit(form);
        let text = serde_norway::to_string(&raw).map_err(|e| e.to_string())?;
        Spec::compile(&Document::parse(&text)?)
    }

    fn needs(spec: &Spec) -> Vec<Vec<(usize, usize)>> {
        spec.cover.form.as_ref().map_or_else(Vec::new, |form| {
            form.alternatives
                .iter()
                .map(|alt| alt.iter().map(|n| (n.field, n.min_length)).collect())
                .collect()
        })
    }

    /// The form with its `anyOf` rule moved beside `properties`, or into `allOf` as `members`
    /// copies of one member, wherever it was.
    fn move_rule(form: &mut serde_norway::Mapping, members: usize) {
        let rule = form.shift_remove("anyOf").or_else(|| {
            form.shift_remove("allOf")
                .and_then(|all_of| all_of.get(0).and_then(|m| m.get("anyOf")).cloned())
        });
        let Some(rule) = rule else { return };
        if members == 0 {
            form.insert("anyOf".into(), rule);
        } else {
            let member = Yaml::Mapping(serde_norway::Mapping::from_iter([("anyOf".into(), rule)]));
            form.insert("allOf".into(), Yaml::Sequence(vec![member; members]));
        }
    }

    #[test]
    fn the_form_rule_reads_the_same_beside_the_properties_and_in_all_of() {
        let [beside, in_all_of] =
            [0, 1].map(|members| match with_form(|f| move_rule(f, members)) {
                Ok(spec) => needs(&spec),
                Err(e) => panic!("{e}"),
            });
        assert!(!beside.is_empty());
        assert_eq!(beside, in_all_of);
    }

    #[test]
    fn a_form_rule_the_mock_cannot_keep_is_an_error_at_start_up() {
        let twice = with_form(|form| move_rule(form, 2));
        assert!(twice.is_err_and(|e| e.contains("form rule")));
        let not_a_rule = with_form(|form| {
            form.shift_remove("anyOf");
            form.insert(
                "allOf".into(),
                serde_norway::from_str("[{required: [pitch]}]").unwrap_or_default(),
            );
        });
        assert!(not_a_rule.is_err_and(|e| e.contains("form allOf")));
    }

    #[test]
    fn examples_keep_the_spec_key_order() {
        let full = spec()
            .cover
            .response(StatusCode::OK)
            .and_then(|r| r.examples.iter().find(|e| e.name == "full"))
            .map(|e| String::from_utf8_lossy(&e.body).into_owned());
        assert_eq!(
            full.as_deref(),
            Some(
                r#"{"success":true,"task_id":"3d137437-4911-4669-b639-9e5701107c25","conversion_id":"b764b4f6-a842-42dd-a55b-818eb8251dc7","eta":71,"credit_estimate":1.27,"message":"Message published to queue","status":"IN_QUEUE"}"#
            )
        );
    }

    #[test]
    fn error_bodies_carry_the_detail() {
        let s = spec();
        let body = s
            .by_id
            .error_body(StatusCode::BAD_REQUEST, Some("task_id is required"));
        assert_eq!(
            body.as_deref(),
            Some(&br#"{"success":false,"message":"Invalid request parameters","error":"task_id is required"}"#[..])
        );
        let body = s.cover.error_body(
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("voice_id is required"),
        );
        assert_eq!(
            body.as_deref(),
            Some(&br#"{"success":false,"error":"voice_id is required"}"#[..])
        );
    }

    #[test]
    fn status_texts_and_voices_come_from_the_examples() {
        let s = spec();
        assert!(
            s.status_text("COMPLETED")
                .is_some_and(|t| t.message.is_some())
        );
        assert!(s.example_voices.iter().any(|(_, n)| n == "Joji"));
        assert!(s.known_statuses.iter().any(|k| k == "IN_QUEUE"));
    }
}
