//! What one form field becomes in the generated builder: its stored type and initial value, its
//! setter (the spec's bounds checked and documented), its constants, its part of the form.

use heck::ToShoutySnakeCase;
use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote};
use serde_norway::Value;

use super::model::{Bound, FieldKind, FormField};

impl FormField {
    fn value_type(&self) -> TokenStream {
        match self.kind {
            FieldKind::File => quote! { ::reqwest::multipart::Part },
            FieldKind::Text { .. } => quote! { ::std::string::String },
            FieldKind::Integer { .. } => quote! { i64 },
            FieldKind::Number { .. } => quote! { f64 },
            FieldKind::Boolean => quote! { bool },
        }
    }

    pub(super) fn stored_type(&self) -> TokenStream {
        let value = self.value_type();
        if self.required {
            quote! { Result<#value, String> }
        } else {
            quote! { Result<Option<#value>, String> }
        }
    }

    pub(super) fn initial(&self) -> TokenStream {
        if self.required {
            let message = format!("{} was not initialized", self.ident);
            quote! { Err(#message.to_string()) }
        } else {
            quote! { Ok(None) }
        }
    }

    /// Statements that return `Err(message)` when `value` breaks a bound of the spec.
    fn checks(&self) -> Vec<TokenStream> {
        let name = &self.name;
        match &self.kind {
            FieldKind::File | FieldKind::Boolean => Vec::new(),
            FieldKind::Text {
                min_length,
                max_length,
                allowed,
            } => {
                let mut checks = Vec::new();
                if let Some(min) = min_length {
                    let message = if *min == 1 {
                        format!("{name} must not be empty")
                    } else {
                        format!("{name} must be at least {min} characters long")
                    };
                    let min = Literal::u64_suffixed(*min);
                    checks.push(quote! {
                        if (value.chars().count() as u64) < #min {
                            return Err(#message.to_string());
                        }
                    });
                }
                if let Some(max) = max_length {
                    let message = format!("{name} must be at most {max} characters long");
                    let max = Literal::u64_suffixed(*max);
                    checks.push(quote! {
                        if (value.chars().count() as u64) > #max {
                            return Err(#message.to_string());
                        }
                    });
                }
                if !allowed.is_empty() {
                    let message = format!("{name} must be one of {allowed:?}, got {{value:?}}");
                    checks.push(quote! {
                        if ![#(#allowed),*].contains(&value.as_str()) {
                            return Err(format!(#message));
                        }
                    });
                }
                checks
            }
            FieldKind::Integer { minimum, maximum } => {
                range_checks(name, *minimum, *maximum, Literal::i64_suffixed)
            }
            FieldKind::Number { minimum, maximum } => {
                range_checks(name, *minimum, *maximum, Literal::f64_suffixed)
            }
        }
    }

    pub(super) fn setter(&self) -> TokenStream {
        let ident = &self.ident;
        let doc = self.setter_doc();
        if matches!(self.kind, FieldKind::File) {
            let failure = format!("conversion to a file part for {} failed: {{e}}", self.name);
            let stored = if self.required {
                quote! { part }
            } else {
                quote! { Some(part) }
            };
            return quote! {
                #[doc = #doc]
                pub fn #ident<V>(mut self, value: V) -> Self
                where
                    V: ::std::convert::TryInto<::reqwest::multipart::Part>,
                    V::Error: ::std::fmt::Display,
                {
                    self.#ident = value
                        .try_into()
                        .map(|part| #stored)
                        .map_err(|e| format!(#failure));
                    self
                }
            };
        }
        let value_type = self.value_type();
        let failure = format!(
            "conversion to `{}` for {} failed",
            value_type.to_string().replace(' ', ""),
            self.name
        );
        let checks = self.checks();
        let stored = if self.required {
            quote! { value }
        } else {
            quote! { Some(value) }
        };
        quote! {
            #[doc = #doc]
            pub fn #ident<V>(mut self, value: V) -> Self
            where
                V: ::std::convert::TryInto<#value_type>,
            {
                self.#ident = value
                    .try_into()
                    .map_err(|_| #failure.to_string())
                    .and_then(|value| {
                        #(#checks)*
                        Ok(#stored)
                    });
                self
            }
        }
    }

    fn setter_doc(&self) -> String {
        let mut doc = self
            .description
            .clone()
            .unwrap_or_default()
            .trim_end()
            .to_owned();
        let mut facts = vec![format!(
            "Form part `{}`, {}.",
            self.name,
            if self.required {
                "required"
            } else {
                "optional"
            }
        )];
        match &self.kind {
            FieldKind::File => facts.push(
                "A file part: pass a `reqwest::multipart::Part`, or anything that converts into one, carrying the file name and content type; a failed conversion makes `send()` fail with an `InvalidRequest` error.".to_owned(),
            ),
            FieldKind::Text {
                min_length,
                max_length,
                allowed,
            } => {
                match min_length {
                    Some(1) => facts.push("Must not be empty.".to_owned()),
                    Some(min) => facts.push(format!("At least {min} characters.")),
                    None => {}
                }
                if let Some(max) = max_length {
                    facts.push(format!("At most {max} characters."));
                }
                if !allowed.is_empty() {
                    facts.push(format!("One of {allowed:?}."));
                }
            }
            FieldKind::Integer { minimum, maximum } => facts.extend(bound_doc(*minimum, *maximum)),
            FieldKind::Number { minimum, maximum } => facts.extend(bound_doc(*minimum, *maximum)),
            FieldKind::Boolean => {}
        }
        if let Some(default) = &self.default {
            facts.push(format!(
                "When not set, the part is not sent and the server uses the default, `{}`.",
                yaml_scalar(default)
            ));
        }
        if !self.checks().is_empty() {
            facts.push("A value out of these bounds makes `send()` fail with an `InvalidRequest` error before anything is sent.".to_owned());
        }
        if !doc.is_empty() {
            doc.push_str("\n\n");
        }
        doc.push_str(&facts.join(" "));
        doc
    }

    /// Associated constants for the field's bounds and default, for callers that build UIs or
    /// checks of their own.
    pub(super) fn constants(&self) -> Vec<TokenStream> {
        let prefix = self.name.to_shouty_snake_case();
        let value_type = self.value_type();
        let mut constants = Vec::new();
        let mut push = |suffix: &str, doc: String, ty: TokenStream, value: TokenStream| {
            let ident = format_ident!("{}_{}", prefix, suffix);
            constants.push(quote! {
                #[doc = #doc]
                pub const #ident: #ty = #value;
            });
        };
        let bounds = match &self.kind {
            FieldKind::Integer { minimum, maximum } => {
                bound_constants(&self.name, *minimum, *maximum, Literal::i64_suffixed)
            }
            FieldKind::Number { minimum, maximum } => {
                bound_constants(&self.name, *minimum, *maximum, Literal::f64_suffixed)
            }
            FieldKind::Text { .. } | FieldKind::File | FieldKind::Boolean => Vec::new(),
        };
        for (suffix, doc, value) in bounds {
            push(suffix, doc, value_type.clone(), quote! { #value });
        }
        if let Some(default) = &self.default {
            let doc = format!(
                "The server's default for `{}` when the part is not sent.",
                self.name
            );
            let value = match self.kind {
                FieldKind::Integer { .. } => default.as_i64().map(|v| {
                    let v = Literal::i64_suffixed(v);
                    quote! { #v }
                }),
                FieldKind::Number { .. } => default.as_f64().map(|v| {
                    let v = Literal::f64_suffixed(v);
                    quote! { #v }
                }),
                FieldKind::Boolean => default.as_bool().map(|v| quote! { #v }),
                FieldKind::Text { .. } => default.as_str().map(|v| quote! { #v }),
                FieldKind::File => None,
            };
            let ty = match self.kind {
                FieldKind::Text { .. } => quote! { &'static str },
                _ => value_type,
            };
            if let Some(value) = value {
                push("DEFAULT", doc, ty, value);
            }
        }
        constants
    }

    /// Adds the field to `form` (a local of `send()`).
    pub(super) fn append(&self) -> TokenStream {
        let ident = &self.ident;
        let name = &self.name;
        let add = match self.kind {
            FieldKind::File => quote! { form = form.part(#name, value); },
            FieldKind::Text { .. } => quote! { form = form.text(#name, value); },
            _ => quote! { form = form.text(#name, value.to_string()); },
        };
        if self.required {
            quote! {
                let value = #ident;
                #add
            }
        } else {
            quote! {
                if let Some(value) = #ident {
                    #add
                }
            }
        }
    }

    /// An expression that is true when the field is present (and at least `min_length` long).
    pub(super) fn presence(&self, min_length: Option<u64>) -> TokenStream {
        let ident = &self.ident;
        match (self.required, min_length) {
            (true, None) => quote! { true },
            (false, None) => quote! { #ident.is_some() },
            (true, Some(min)) => {
                let min = Literal::u64_suffixed(min);
                quote! { (#ident.chars().count() as u64) >= #min }
            }
            (false, Some(min)) => {
                let min = Literal::u64_suffixed(min);
                quote! { #ident.as_deref().is_some_and(|value| (value.chars().count() as u64) >= #min) }
            }
        }
    }
}

fn exclusive_note(exclusive: bool) -> &'static str {
    if exclusive {
        " (exclusive)"
    } else {
        " (inclusive)"
    }
}

/// The `MIN` and `MAX` constants of a numeric field: suffix, doc and value.
fn bound_constants<T: Copy>(
    name: &str,
    minimum: Option<Bound<T>>,
    maximum: Option<Bound<T>>,
    literal: fn(T) -> Literal,
) -> Vec<(&'static str, String, Literal)> {
    [("MIN", "lower", minimum), ("MAX", "upper", maximum)]
        .into_iter()
        .filter_map(|(suffix, side, bound)| {
            let bound = bound?;
            let doc = format!(
                "The {side} bound of `{name}`{}.",
                exclusive_note(bound.exclusive)
            );
            Some((suffix, doc, literal(bound.value)))
        })
        .collect()
}

fn range_checks<T: Copy + std::fmt::Display>(
    name: &str,
    minimum: Option<Bound<T>>,
    maximum: Option<Bound<T>>,
    literal: fn(T) -> Literal,
) -> Vec<TokenStream> {
    match (minimum, maximum) {
        (Some(min), Some(max)) if !min.exclusive && !max.exclusive => {
            let message = format!(
                "{name} must be between {} and {} (inclusive), got {{value}}",
                min.value, max.value
            );
            let (lo, hi) = (literal(min.value), literal(max.value));
            vec![quote! {
                if !(#lo..=#hi).contains(&value) {
                    return Err(format!(#message));
                }
            }]
        }
        _ => {
            let mut checks = Vec::new();
            if let Some(min) = minimum {
                let lo = literal(min.value);
                let (test, message) = if min.exclusive {
                    (
                        quote! { value <= #lo },
                        format!("{name} must be greater than {}, got {{value}}", min.value),
                    )
                } else {
                    (
                        quote! { value < #lo },
                        format!("{name} must be at least {}, got {{value}}", min.value),
                    )
                };
                checks.push(quote! { if #test { return Err(format!(#message)); } });
            }
            if let Some(max) = maximum {
                let hi = literal(max.value);
                let (test, message) = if max.exclusive {
                    (
                        quote! { value >= #hi },
                        format!("{name} must be less than {}, got {{value}}", max.value),
                    )
                } else {
                    (
                        quote! { value > #hi },
                        format!("{name} must be at most {}, got {{value}}", max.value),
                    )
                };
                checks.push(quote! { if #test { return Err(format!(#message)); } });
            }
            checks
        }
    }
}

fn bound_doc<T: std::fmt::Display>(
    minimum: Option<Bound<T>>,
    maximum: Option<Bound<T>>,
) -> Vec<String> {
    let mut facts = Vec::new();
    if let Some(min) = minimum {
        facts.push(format!(
            "Minimum {}{}.",
            min.value,
            exclusive_note(min.exclusive)
        ));
    }
    if let Some(max) = maximum {
        facts.push(format!(
            "Maximum {}{}.",
            max.value,
            exclusive_note(max.exclusive)
        ));
    }
    facts
}

fn yaml_scalar(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Number(number) => number.to_string(),
        Value::Bool(flag) => flag.to_string(),
        other => serde_norway::to_string(other)
            .unwrap_or_default()
            .trim()
            .to_owned(),
    }
}
