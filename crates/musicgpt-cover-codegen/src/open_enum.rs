//! Open string enumerations: a `type: string` schema with `x-known-values` (and optionally
//! `x-final-values`) becomes a Rust enum with a variant per known value and `Other(String)` for
//! any other, in place of the newtype progenitor makes of a plain string.
//!
//! The schema stays a plain string on purpose (a value the spec does not list must still
//! decode), so progenitor sees a string; its newtype and that newtype's impls are taken out of
//! the `types` module and this enum put in. Everything about the values comes from the spec: a
//! value added to `x-known-values` is a variant on the next generation.

use heck::{ToSnakeCase, ToUpperCamelCase};
use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use crate::CodegenError;
use crate::spec::{self, Spec};

/// The variant that holds every value the spec does not name.
const OTHER: &str = "Other";

/// One schema with `x-known-values`.
pub(crate) struct OpenEnum {
    /// The type's name, as progenitor names the component.
    pub(crate) ident: syn::Ident,
    description: Option<String>,
    /// `(value, variant)` in the spec's order.
    known: Vec<(String, syn::Ident)>,
    /// The final values' variants, in the spec's order.
    finals: Vec<syn::Ident>,
}

/// Every component schema with `x-known-values`, checked.
pub(crate) fn find(spec: &Spec<'_>) -> Result<Vec<OpenEnum>, CodegenError> {
    let mut found = Vec::new();
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
        let mut variants: Vec<(String, syn::Ident)> = Vec::new();
        for value in &known {
            let variant = variant_ident(value, &context)?;
            if let Some((other, _)) = variants.iter().find(|(_, seen)| *seen == variant) {
                return Err(CodegenError::Unsupported(format!(
                    "{context}: the values `{other}` and `{value}` would both be the variant `{variant}`"
                )));
            }
            variants.push((value.clone(), variant));
        }
        let finals = finals
            .iter()
            .filter_map(|value| {
                variants
                    .iter()
                    .find(|(known, _)| known == value)
                    .map(|(_, variant)| variant.clone())
            })
            .collect();
        found.push(OpenEnum {
            ident: syn::parse_str(&name.to_upper_camel_case())?,
            description: spec::string(schema, "description").map(str::to_owned),
            known: variants,
            finals,
        });
    }
    Ok(found)
}

/// The variant for `value`, refused when it cannot be a distinct Rust identifier or would
/// clash with `Other` or with the generated `is_final` / `is_known`.
fn variant_ident(value: &str, context: &str) -> Result<syn::Ident, CodegenError> {
    let name = value.to_upper_camel_case();
    let predicate = format!("is_{}", value.to_snake_case());
    let refused = || {
        CodegenError::Unsupported(format!(
            "{context}: the value `{value}` cannot name a distinct variant (`{name}`)"
        ))
    };
    if name == OTHER || ["is_final", "is_known"].contains(&predicate.as_str()) {
        return Err(refused());
    }
    // The predicate is made with `format_ident!`, which panics on what is no identifier.
    syn::parse_str::<syn::Ident>(&predicate).map_err(|_| refused())?;
    syn::parse_str::<syn::Ident>(&name).map_err(|_| refused())
}

impl OpenEnum {
    /// Replaces progenitor's items for this type in `items` (its newtype, and every impl whose
    /// type or trait names it) with `replacement`, where the newtype was; fails unless there
    /// was exactly one such type.
    pub(crate) fn replace_progenitor_items(
        &self,
        items: &mut Vec<syn::Item>,
        replacement: Vec<syn::Item>,
    ) -> Result<(), CodegenError> {
        let is_the_type = |item: &syn::Item| match item {
            syn::Item::Struct(item) => item.ident == self.ident,
            syn::Item::Enum(item) => item.ident == self.ident,
            _ => false,
        };
        let is_progenitor_s = |item: &syn::Item| match item {
            syn::Item::Impl(block) => {
                let named_in_trait = block
                    .trait_
                    .as_ref()
                    .is_some_and(|(path, _)| names(quote!(#path), &self.ident));
                let self_ty = &block.self_ty;
                names(quote!(#self_ty), &self.ident) || named_in_trait
            }
            item => is_the_type(item),
        };
        let types: Vec<usize> = items
            .iter()
            .enumerate()
            .filter(|(_, item)| is_the_type(item))
            .map(|(index, _)| index)
            .collect();
        let [at] = types.as_slice() else {
            return Err(CodegenError::Spec(format!(
                "expected one type `{}` from progenitor to replace with an enum, found {}",
                self.ident,
                types.len()
            )));
        };
        let removed_before = items[..*at]
            .iter()
            .filter(|item| is_progenitor_s(item))
            .count();
        items.retain(|item| !is_progenitor_s(item));
        let at = at - removed_before;
        items.splice(at..at, replacement);
        Ok(())
    }

    /// The enum and its impls, for the `types` module.
    pub(crate) fn tokens(&self, schema_derive: &syn::Path) -> TokenStream {
        let ty = &self.ident;
        let description = self.description.as_deref().unwrap_or("").trim();
        let mut doc = String::new();
        if !description.is_empty() {
            doc.push_str(description);
            doc.push_str("\n\n");
        }
        doc.push_str(
            "A variant per value the spec names (`x-known-values`); any other value is kept, as \
             sent, in `Other`, so an answer never fails to decode because the API added a \
             value. It (de)serializes as the plain string.",
        );
        let values: Vec<&str> = self.known.iter().map(|(value, _)| value.as_str()).collect();
        let variants: Vec<&syn::Ident> = self.known.iter().map(|(_, variant)| variant).collect();
        let variant_docs = self.known.iter().map(|(value, variant)| {
            if self.finals.contains(variant) {
                format!("`{value}` (final: it no longer changes).")
            } else {
                format!("`{value}`.")
            }
        });
        let predicates = self.known.iter().map(|(value, variant)| {
            let predicate = format_ident!("is_{}", value.to_snake_case());
            let predicate_doc = format!("Whether the value is `{value}`.");
            quote! {
                #[doc = #predicate_doc]
                pub fn #predicate(&self) -> bool {
                    matches!(Self::known(self.as_str()), Some(Self::#variant))
                }
            }
        });
        let finals = &self.finals;
        let is_final = if finals.is_empty() {
            quote! { false }
        } else {
            quote! { matches!(Self::known(self.as_str()), Some(#(Self::#finals)|*)) }
        };
        let other = format_ident!("{}", OTHER);
        let name = ty.to_string();
        quote! {
            #[doc = #doc]
            #[derive(Clone, Debug)]
            #[non_exhaustive]
            pub enum #ty {
                #(
                    #[doc = #variant_docs]
                    #variants,
                )*
                /// A value the spec does not name, as sent.
                #other(::std::string::String),
            }

            impl #ty {
                /// Every value the spec names (`x-known-values`), in its order.
                pub const KNOWN_VALUES: &'static [Self] = &[#(Self::#variants),*];

                /// The values after which it no longer changes (`x-final-values`).
                pub const FINAL_VALUES: &'static [Self] = &[#(Self::#finals),*];

                /// The known value written `value`, if the spec names it.
                fn known(value: &str) -> ::std::option::Option<Self> {
                    match value {
                        #(#values => ::std::option::Option::Some(Self::#variants),)*
                        _ => ::std::option::Option::None,
                    }
                }

                /// The value as the API writes it.
                pub fn as_str(&self) -> &str {
                    match self {
                        #(Self::#variants => #values,)*
                        Self::#other(value) => value.as_str(),
                    }
                }

                /// Whether the value is final, one of [`Self::FINAL_VALUES`] (an `Other`
                /// never is).
                pub fn is_final(&self) -> bool {
                    #is_final
                }

                /// Whether the spec names the value (it is not `Other`).
                pub fn is_known(&self) -> bool {
                    Self::known(self.as_str()).is_some()
                }

                #(#predicates)*
            }

            impl ::std::convert::From<&str> for #ty {
                fn from(value: &str) -> Self {
                    Self::known(value).unwrap_or_else(|| Self::#other(value.to_owned()))
                }
            }

            impl ::std::convert::From<::std::string::String> for #ty {
                fn from(value: ::std::string::String) -> Self {
                    Self::known(&value).unwrap_or(Self::#other(value))
                }
            }

            impl ::std::convert::From<#ty> for ::std::string::String {
                fn from(value: #ty) -> Self {
                    match value {
                        #ty::#other(value) => value,
                        known => known.as_str().to_owned(),
                    }
                }
            }

            impl ::std::str::FromStr for #ty {
                type Err = ::std::convert::Infallible;
                fn from_str(value: &str) -> ::std::result::Result<Self, Self::Err> {
                    Ok(Self::from(value))
                }
            }

            impl ::std::fmt::Display for #ty {
                fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                    f.write_str(self.as_str())
                }
            }

            // Equality, hashing and order are the text's, so that an `Other` holding a known
            // value (made by hand) is that value.
            impl ::std::cmp::PartialEq for #ty {
                fn eq(&self, other: &Self) -> bool {
                    self.as_str() == other.as_str()
                }
            }

            impl ::std::cmp::Eq for #ty {}

            impl ::std::hash::Hash for #ty {
                fn hash<H: ::std::hash::Hasher>(&self, state: &mut H) {
                    self.as_str().hash(state);
                }
            }

            impl ::std::cmp::PartialOrd for #ty {
                fn partial_cmp(&self, other: &Self) -> ::std::option::Option<::std::cmp::Ordering> {
                    ::std::option::Option::Some(self.cmp(other))
                }
            }

            impl ::std::cmp::Ord for #ty {
                fn cmp(&self, other: &Self) -> ::std::cmp::Ordering {
                    self.as_str().cmp(other.as_str())
                }
            }

            impl ::serde::Serialize for #ty {
                fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> ::std::result::Result<S::Ok, S::Error> {
                    serializer.serialize_str(self.as_str())
                }
            }

            impl<'de> ::serde::Deserialize<'de> for #ty {
                fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> ::std::result::Result<Self, D::Error> {
                    <::std::string::String as ::serde::Deserialize>::deserialize(deserializer).map(Self::from)
                }
            }

            // The spec's schema, a plain string: the set of values is open.
            impl #schema_derive for #ty {
                fn schema_name() -> ::std::string::String {
                    #name.to_owned()
                }

                fn json_schema(_: &mut schemars::r#gen::SchemaGenerator) -> schemars::schema::Schema {
                    schemars::schema::SchemaObject {
                        metadata: ::std::option::Option::Some(::std::boxed::Box::new(schemars::schema::Metadata {
                            description: ::std::option::Option::Some(#description.to_owned()),
                            ..::std::default::Default::default()
                        })),
                        instance_type: ::std::option::Option::Some(schemars::schema::InstanceType::String.into()),
                        ..::std::default::Default::default()
                    }
                    .into()
                }
            }
        }
    }
}

/// Whether `tokens` hold the identifier `ident` anywhere.
fn names(tokens: TokenStream, ident: &syn::Ident) -> bool {
    tokens.into_iter().any(|token| match token {
        proc_macro2::TokenTree::Ident(found) => found == *ident,
        proc_macro2::TokenTree::Group(group) => names(group.stream(), ident),
        _ => false,
    })
}
