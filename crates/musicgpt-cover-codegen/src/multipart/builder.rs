//! The method on the generated `Client` that starts an operation's builder, and the builder
//! itself: its fields, constants, `new` and setters (its `send()` comes from `send`).

use heck::{ToSnakeCase, ToUpperCamelCase};
use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::model::{FORM_MEDIA_TYPE, FormField, FormOperation};

impl FormOperation {
    fn method_ident(&self) -> syn::Ident {
        format_ident!("{}", self.operation_id.to_snake_case())
    }

    fn builder_ident(&self) -> syn::Ident {
        format_ident!("{}", self.operation_id.to_upper_camel_case())
    }

    /// The method on `Client` that starts the builder.
    pub(crate) fn client_method(&self) -> TokenStream {
        let method = self.method_ident();
        let builder = self.builder_ident();
        let mut doc = String::new();
        if let Some(summary) = &self.summary {
            doc.push_str(summary.trim_end());
            doc.push_str("\n\n");
        }
        if let Some(description) = &self.description {
            doc.push_str(description.trim_end());
            doc.push_str("\n\n");
        }
        doc.push_str(&format!(
            "Sends a `{}` request to `{}` with a `{FORM_MEDIA_TYPE}` body\n\nArguments:\n",
            self.method.to_uppercase(),
            self.path
        ));
        for field in &self.fields {
            let summary = field
                .description
                .as_deref()
                .unwrap_or("")
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ");
            doc.push_str(&format!("- `{}`: {}\n", field.ident, summary));
        }
        doc.push_str(&format!("```ignore\nlet response = client.{method}()\n"));
        for field in &self.fields {
            doc.push_str(&format!("    .{0}({0})\n", field.ident));
        }
        doc.push_str("    .send()\n    .await;\n```");
        quote! {
            impl Client {
                #[doc = #doc]
                pub fn #method(&self) -> builder::#builder<'_> {
                    builder::#builder::new(self)
                }
            }
        }
    }

    /// The builder struct and its impl, for the generated `builder` module.
    pub(crate) fn builder(&self) -> TokenStream {
        let method = self.method_ident();
        let builder = self.builder_ident();
        let struct_doc = format!(
            "Builder for [`Client::{method}`]\n\n[`Client::{method}`]: super::Client::{method}"
        );
        let idents: Vec<&syn::Ident> = self.fields.iter().map(|field| &field.ident).collect();
        let stored: Vec<TokenStream> = self.fields.iter().map(FormField::stored_type).collect();
        let initial: Vec<TokenStream> = self.fields.iter().map(FormField::initial).collect();
        let constants: Vec<TokenStream> =
            self.fields.iter().flat_map(FormField::constants).collect();
        let setters: Vec<TokenStream> = self.fields.iter().map(FormField::setter).collect();
        let send = self.send();
        quote! {
            #[doc = #struct_doc]
            #[derive(Debug)]
            pub struct #builder<'a> {
                client: &'a super::Client,
                #(#idents: #stored,)*
            }

            impl<'a> #builder<'a> {
                #(#constants)*

                pub fn new(client: &'a super::Client) -> Self {
                    Self {
                        client: client,
                        #(#idents: #initial,)*
                    }
                }

                #(#setters)*

                #send
            }
        }
    }
}
