//! Items progenitor does not emit but the spec states: the servers, the known and final values
//! of open string enumerations (`x-known-values` / `x-final-values`), and the `conversionType`
//! that polls a Cover conversion.

use heck::{ToShoutySnakeCase, ToSnakeCase, ToUpperCamelCase};
use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use crate::CodegenError;
use crate::spec::{self, Spec};

/// The operation that polls a conversion and its parameter naming the conversion's kind; the
/// parameter's `example` is the value for Cover conversions.
const POLL_OPERATION_ID: &str = "getConversionById";
const POLL_KIND_PARAMETER: &str = "conversionType";

/// `pub mod servers`: one constant per entry of the spec's `servers`, named after its host.
pub(crate) fn servers(spec: &Spec<'_>) -> Result<TokenStream, CodegenError> {
    let Some(servers) = spec.root().get("servers").and_then(|s| s.as_sequence()) else {
        return Ok(quote! {});
    };
    let mut names: Vec<String> = Vec::new();
    let mut items = Vec::new();
    let mut urls = Vec::new();
    for server in servers {
        let url = spec::string(server, "url")
            .ok_or_else(|| CodegenError::Spec("a server has no `url`".into()))?;
        let name = server_name(url)?;
        if names.contains(&name) {
            return Err(CodegenError::Spec(format!(
                "two servers would both be named `{name}` (named after the host's domain)"
            )));
        }
        let mut doc = spec::string(server, "description")
            .unwrap_or("")
            .trim()
            .to_owned();
        if !doc.is_empty() {
            doc.push_str("\n\n");
        }
        doc.push_str(&format!("`{url}`"));
        let ident = format_ident!("{}", name);
        items.push(quote! {
            #[doc = #doc]
            pub const #ident: &str = #url;
        });
        urls.push(quote! { #ident });
        names.push(name);
    }
    Ok(quote! {
        /// The base URLs of the spec's `servers`, each named after its host's domain (a
        /// loopback host is `LOCAL`).
        pub mod servers {
            #(#items)*
            /// Every server, in the spec's order.
            pub const ALL: &[&str] = &[#(#urls),*];
        }
    })
}

fn server_name(url: &str) -> Result<String, CodegenError> {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split('/').next().unwrap_or(rest);
    let host = if let Some(bracketed) = authority.strip_prefix('[') {
        bracketed.split(']').next().unwrap_or(bracketed)
    } else {
        authority.split(':').next().unwrap_or(authority)
    };
    if host == "localhost" || host.parse::<std::net::IpAddr>().is_ok() {
        return Ok("LOCAL".to_owned());
    }
    let labels: Vec<&str> = host.split('.').filter(|label| !label.is_empty()).collect();
    let label = match labels.as_slice() {
        [] => return Err(CodegenError::Spec(format!("server `{url}` has no host"))),
        [only] => *only,
        [.., domain, _tld] => *domain,
    };
    let name = label.to_shouty_snake_case();
    if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) || name == "ALL" {
        return Err(CodegenError::Unsupported(format!(
            "server `{url}`: `{label}` cannot name a constant"
        )));
    }
    Ok(name)
}

/// Impls for the `types` module: constants and predicates for every component schema with
/// `x-known-values` (and `x-final-values`).
pub(crate) fn known_values(spec: &Spec<'_>) -> Result<TokenStream, CodegenError> {
    let mut impls = Vec::new();
    for (name, schema) in spec::mapping(spec::mapping_value(spec.root(), "components"), "schemas") {
        let name = spec::key_text(name).unwrap_or_default();
        let context = format!("schema `{name}`");
        let known = spec::strings(schema, "x-known-values", &context)?;
        let finals = spec::strings(schema, "x-final-values", &context)?;
        if known.is_empty() {
            if !finals.is_empty() {
                return Err(CodegenError::Spec(format!(
                    "{context}: `x-final-values` without `x-known-values`"
                )));
            }
            continue;
        }
        if spec::string(schema, "type") != Some("string") || schema.get("enum").is_some() {
            return Err(CodegenError::Unsupported(format!(
                "{context}: `x-known-values` on anything but a plain string (no `enum`)"
            )));
        }
        if let Some(stray) = finals.iter().find(|value| !known.contains(value)) {
            return Err(CodegenError::Spec(format!(
                "{context}: final value `{stray}` is not among `x-known-values`"
            )));
        }
        let ty = format_ident!("{}", name.to_upper_camel_case());
        let mut constants = Vec::new();
        let mut predicates = Vec::new();
        let mut const_idents = Vec::new();
        for value in &known {
            let const_name = value.to_shouty_snake_case();
            if const_name.is_empty()
                || const_name.starts_with(|c: char| c.is_ascii_digit())
                || ["KNOWN_VALUES", "FINAL_VALUES"].contains(&const_name.as_str())
                || const_idents
                    .iter()
                    .any(|ident: &syn::Ident| *ident == const_name)
            {
                return Err(CodegenError::Unsupported(format!(
                    "{context}: the value `{value}` cannot name a distinct constant"
                )));
            }
            let const_ident = format_ident!("{}", const_name);
            let predicate = format_ident!("is_{}", value.to_snake_case());
            let const_doc = format!("The value `{value}`.");
            let predicate_doc = format!("Whether the value is `{value}`.");
            constants.push(quote! {
                #[doc = #const_doc]
                pub const #const_ident: &'static str = #value;
            });
            predicates.push(quote! {
                #[doc = #predicate_doc]
                pub fn #predicate(&self) -> bool {
                    self.0 == Self::#const_ident
                }
            });
            const_idents.push(const_ident);
        }
        let final_items = if finals.is_empty() {
            quote! {}
        } else {
            let final_idents = finals
                .iter()
                .map(|value| format_ident!("{}", value.to_shouty_snake_case()));
            quote! {
                /// The values after which it no longer changes (`x-final-values` in the spec).
                pub const FINAL_VALUES: &'static [&'static str] = &[#(Self::#final_idents),*];

                /// Whether the value is final (one of [`Self::FINAL_VALUES`]).
                pub fn is_final(&self) -> bool {
                    Self::FINAL_VALUES.contains(&self.0.as_str())
                }
            }
        };
        impls.push(quote! {
            impl #ty {
                #(#constants)*

                /// Every value the spec names (`x-known-values`); others may still arrive and
                /// decode.
                pub const KNOWN_VALUES: &'static [&'static str] = &[#(Self::#const_idents),*];

                #final_items

                /// Whether the value is one of [`Self::KNOWN_VALUES`].
                pub fn is_known(&self) -> bool {
                    Self::KNOWN_VALUES.contains(&self.0.as_str())
                }

                #(#predicates)*
            }

            impl ::std::cmp::PartialEq<str> for #ty {
                fn eq(&self, other: &str) -> bool {
                    self.0 == other
                }
            }

            impl ::std::cmp::PartialEq<&str> for #ty {
                fn eq(&self, other: &&str) -> bool {
                    self.0 == *other
                }
            }
        });
    }
    Ok(quote! { #(#impls)* })
}

/// `COVER_CONVERSION_TYPE`: the `conversionType` with which the poll operation finds Cover
/// conversions, taken from that parameter's `example`.
pub(crate) fn cover_conversion_type(spec: &Spec<'_>) -> Result<TokenStream, CodegenError> {
    for (_, item) in spec::mapping(spec.root(), "paths") {
        let item = spec.resolve(item)?;
        for method in spec::METHODS {
            let Some(operation) = item.get(method) else {
                continue;
            };
            if spec::string(operation, "operationId") != Some(POLL_OPERATION_ID) {
                continue;
            }
            let parameters = operation.get("parameters").and_then(|p| p.as_sequence());
            for parameter in parameters.into_iter().flatten() {
                let parameter = spec.resolve(parameter)?;
                if spec::string(parameter, "name") != Some(POLL_KIND_PARAMETER) {
                    continue;
                }
                let example = parameter
                    .get("example")
                    .or_else(|| parameter.get("schema").and_then(|schema| schema.get("example")))
                    .and_then(|example| example.as_str())
                    .ok_or_else(|| {
                        CodegenError::Spec(format!(
                            "`{POLL_KIND_PARAMETER}` of `{POLL_OPERATION_ID}` has no string `example` (the value for Cover conversions)"
                        ))
                    })?;
                let doc = format!(
                    "The `{POLL_KIND_PARAMETER}` with which `{POLL_OPERATION_ID}` finds a Cover conversion (the parameter's example in the spec)."
                );
                return Ok(quote! {
                    #[doc = #doc]
                    pub const COVER_CONVERSION_TYPE: &str = #example;
                });
            }
        }
    }
    Err(CodegenError::Spec(format!(
        "no operation `{POLL_OPERATION_ID}` with a parameter `{POLL_KIND_PARAMETER}`"
    )))
}
