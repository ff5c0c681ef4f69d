//! The generated builder's `send()`: every field checked and added to the form, the `anyOf` rule,
//! the request through the client's hooks, and the documented statuses matched to a result.

use heck::ToSnakeCase;
use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote};

use super::model::{BodyType, FormField, FormOperation, StatusMatch};

/// Local names of the generated `send()`; a form field with one of these names would shadow them.
pub(super) const RESERVED: [&str; 10] = [
    "client",
    "value",
    "url",
    "form",
    "header_map",
    "request",
    "info",
    "result",
    "response",
    "send",
];

fn body_type(body: &BodyType) -> TokenStream {
    match body {
        BodyType::Unit => quote! { () },
        BodyType::Named(name) => {
            let ident = format_ident!("{}", name);
            quote! { types::#ident }
        }
    }
}

impl FormOperation {
    /// The message of the `InvalidRequest` error when no `anyOf` alternative holds.
    fn any_of_message(&self) -> String {
        let alternatives: Vec<String> = self
            .any_of
            .iter()
            .map(|branch| {
                branch
                    .requirements
                    .iter()
                    .map(|(name, min_length)| match min_length {
                        Some(1) => format!("a non-empty `{name}`"),
                        Some(min) => format!("`{name}` of at least {min} characters"),
                        None => format!("`{name}`"),
                    })
                    .collect::<Vec<_>>()
                    .join(" and ")
            })
            .collect();
        format!(
            "the request needs at least one of: {}",
            alternatives.join(", or ")
        )
    }

    /// The builder's `send()`: the fields checked and added to the form, the request sent through
    /// the client's hooks, the answer matched against the documented statuses.
    pub(super) fn send(&self) -> TokenStream {
        let idents: Vec<&syn::Ident> = self.fields.iter().map(|field| &field.ident).collect();
        let appends: Vec<TokenStream> = self.fields.iter().map(FormField::append).collect();
        let any_of_check = if self.any_of.is_empty() {
            quote! {}
        } else {
            let alternatives = self.any_of.iter().map(|branch| {
                let parts = branch.requirements.iter().map(|(name, min_length)| {
                    self.fields
                        .iter()
                        .find(|field| &field.name == name)
                        .map(|field| field.presence(*min_length))
                        .unwrap_or_else(|| quote! { false })
                });
                quote! { (#(#parts)&&*) }
            });
            let message = self.any_of_message();
            quote! {
                if !(#(#alternatives)||*) {
                    return Err(Error::InvalidRequest(#message.to_string()));
                }
            }
        };
        let url_format = format!("{{}}{}", self.path);
        let http_method = match self.method.as_str() {
            "get" | "post" | "put" | "delete" | "patch" | "head" => {
                let verb = format_ident!("{}", self.method);
                quote! { .#verb(url) }
            }
            other => {
                let verb = format_ident!("{}", other.to_uppercase());
                quote! { .request(::reqwest::Method::#verb, url) }
            }
        };
        let operation_id = self.operation_id.to_snake_case();
        let send_doc = format!(
            "Sends a `{}` request to `{}`",
            self.method.to_uppercase(),
            self.path
        );
        let success_type = body_type(&self.success_type);
        let error_type = body_type(&self.error_type);
        let arms = self.responses.iter().map(|case| {
            let pattern = match case.status {
                StatusMatch::Code(code) => {
                    let code = Literal::u16_suffixed(code);
                    quote! { #code }
                }
                StatusMatch::Range(class) => {
                    let (lo, hi) = (Literal::u16_suffixed(class * 100), Literal::u16_suffixed(class * 100 + 99));
                    quote! { #lo..=#hi }
                }
            };
            let value = if case.has_body {
                quote! { ResponseValue::from_response(response).await }
            } else {
                quote! { Ok(ResponseValue::empty(response)) }
            };
            if case.success {
                quote! { #pattern => #value, }
            } else if case.has_body {
                quote! { #pattern => Err(Error::ErrorResponse(ResponseValue::from_response(response).await?)), }
            } else {
                quote! { #pattern => Err(Error::ErrorResponse(ResponseValue::empty(response))), }
            }
        });
        quote! {
            #[doc = #send_doc]
            pub async fn send(self) -> Result<ResponseValue<#success_type>, Error<#error_type>> {
                let Self { client, #(#idents),* } = self;
                #(let #idents = #idents.map_err(Error::InvalidRequest)?;)*
                #any_of_check
                let url = format!(#url_format, client.baseurl);
                let mut form = ::reqwest::multipart::Form::new();
                #(#appends)*
                let mut header_map = ::reqwest::header::HeaderMap::with_capacity(1usize);
                header_map.append(
                    ::reqwest::header::HeaderName::from_static("api-version"),
                    ::reqwest::header::HeaderValue::from_static(super::Client::api_version()),
                );
                #[allow(unused_mut)]
                let mut request = client
                    .client
                    #http_method
                    .header(
                        ::reqwest::header::ACCEPT,
                        ::reqwest::header::HeaderValue::from_static("application/json"),
                    )
                    .multipart(form)
                    .headers(header_map)
                    .build()?;
                let info = OperationInfo {
                    operation_id: #operation_id,
                };
                client.pre(&mut request, &info).await?;
                let result = client.exec(request, &info).await;
                client.post(&result, &info).await?;
                let response = result?;
                match response.status().as_u16() {
                    #(#arms)*
                    _ => Err(Error::UnexpectedResponse(response)),
                }
            }
        }
    }
}
