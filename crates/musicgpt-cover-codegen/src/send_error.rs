//! One error type from every call: each builder's `send()` in the generated `builder` module,
//! progenitor's and the multipart generator's alike, is rewritten to return [`SEND_ERROR`]
//! instead of progenitor's `Error<E>`, which it converts with `From`.
//!
//! The rewrite is the same for every operation and keeps the generated function as it is, under
//! another name: progenitor's `send()` becomes the builder's private [`INNER`], and a new
//! `send()` calls it and converts its error.

use quote::quote;

use crate::CodegenError;

/// The error type every generated `send()` returns, as the crate that includes the generated
/// file names it. That crate defines it with a `From<progenitor_client::Error<E>>` for the error
/// body `E` of every operation (musicgpt-cover's `ApiError`, which keeps progenitor's error as
/// its `source`).
pub(crate) const SEND_ERROR: &str = "crate::ApiError";

/// The name progenitor's `send()` is kept under, private to its builder.
pub(crate) const INNER: &str = "send_progenitor";

/// Rewrites every `send()` of the top-level `builder` module; fails if there is none, or if one
/// does not return `Result<ResponseValue<_>, Error<_>>` (a progenitor whose output changed).
pub(crate) fn rewrite(file: &mut syn::File) -> Result<(), CodegenError> {
    let send_error: syn::Path = syn::parse_str(SEND_ERROR)?;
    let module = file
        .items
        .iter_mut()
        .find_map(|item| match item {
            syn::Item::Mod(module) if module.ident == "builder" => module.content.as_mut(),
            _ => None,
        })
        .ok_or_else(|| CodegenError::Spec("progenitor emitted no `builder` module".into()))?;
    let mut rewritten = 0usize;
    for item in &mut module.1 {
        let syn::Item::Impl(block) = item else {
            continue;
        };
        let mut added = Vec::new();
        for member in &mut block.items {
            match member {
                syn::ImplItem::Fn(function) if function.sig.ident == "send" => {
                    added.push(wrap_send(function, &send_error)?);
                    rewritten += 1;
                }
                _ => {}
            }
        }
        block.items.extend(added);
    }
    if rewritten == 0 {
        return Err(CodegenError::Spec(
            "the generated `builder` module has no `send()` to rewrite".into(),
        ));
    }
    Ok(())
}

/// Renames `function` (a `send()`) to [`INNER`], private, and returns the new `send()`.
fn wrap_send(
    function: &mut syn::ImplItemFn,
    send_error: &syn::Path,
) -> Result<syn::ImplItem, CodegenError> {
    let shape_error = |function: &syn::ImplItemFn| {
        CodegenError::Unsupported(format!(
            "a generated `send()` returns `{}`, not `Result<ResponseValue<_>, Error<_>>`",
            match &function.sig.output {
                syn::ReturnType::Default => "()".to_owned(),
                syn::ReturnType::Type(_, ty) => quote!(#ty).to_string(),
            }
        ))
    };
    let syn::ReturnType::Type(_, output) = &function.sig.output else {
        return Err(shape_error(function));
    };
    let Some((success, error)) = result_arguments(output) else {
        return Err(shape_error(function));
    };
    if function.sig.asyncness.is_none() || !is_named(&error, "Error") {
        return Err(shape_error(function));
    }
    let docs: Vec<&syn::Attribute> = function
        .attrs
        .iter()
        .filter(|attribute| attribute.path().is_ident("doc"))
        .collect();
    let inner = syn::Ident::new(INNER, function.sig.ident.span());
    let send: syn::ImplItem = syn::parse2(quote! {
        #(#docs)*
        pub async fn send(self) -> Result<#success, #send_error> {
            self.#inner().await.map_err(::std::convert::From::from)
        }
    })?;
    function.sig.ident = inner;
    function.vis = syn::Visibility::Inherited;
    function
        .attrs
        .retain(|attribute| !attribute.path().is_ident("doc"));
    Ok(send)
}

/// `T` and `E` of a `Result<T, E>`.
fn result_arguments(ty: &syn::Type) -> Option<(syn::Type, syn::Type)> {
    let syn::Type::Path(path) = ty else {
        return None;
    };
    let last = path.path.segments.last()?;
    if last.ident != "Result" {
        return None;
    }
    let syn::PathArguments::AngleBracketed(arguments) = &last.arguments else {
        return None;
    };
    let mut types = arguments.args.iter().filter_map(|argument| match argument {
        syn::GenericArgument::Type(ty) => Some(ty.clone()),
        _ => None,
    });
    let (success, error) = (types.next()?, types.next()?);
    if types.next().is_some() || !is_named(&success, "ResponseValue") {
        return None;
    }
    Some((success, error))
}

/// Whether `ty` is a path whose last segment is `name`.
fn is_named(ty: &syn::Type, name: &str) -> bool {
    matches!(ty, syn::Type::Path(path) if path.path.segments.last().is_some_and(|segment| segment.ident == name))
}
