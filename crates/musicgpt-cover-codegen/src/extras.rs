//! Items progenitor does not emit but the spec states: the servers and the `conversionType`
//! that polls a Cover conversion.

use heck::ToShoutySnakeCase;
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
    // `format_ident!` makes the constant, and panics on what is no identifier.
    if syn::parse_str::<syn::Ident>(&name).is_err() || name == "ALL" {
        return Err(CodegenError::Unsupported(format!(
            "server `{url}`: `{label}` cannot name a constant"
        )));
    }
    Ok(name)
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
