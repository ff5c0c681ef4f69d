//! Every builder's `send()` returns the client's one error type, `crate::ApiError`: the
//! JSON operations progenitor generates and the multipart Cover alike, and an operation added
//! to the spec gets it on the next generation with nothing written for it.

use musicgpt_cover_codegen::generate_file;
use quote::ToTokens;
use serde_norway::Value;

/// `(builder, what its public send() returns)` for every builder of the generated `builder`
/// module, and the names of the private functions beside them.
fn sends(spec_yaml: &str) -> (Vec<(String, String)>, Vec<String>) {
    let file = generate_file(spec_yaml).expect("the spec generates");
    let items = file
        .items
        .into_iter()
        .find_map(|item| match item {
            syn::Item::Mod(module) if module.ident == "builder" => module.content.map(|c| c.1),
            _ => None,
        })
        .expect("a builder module");
    let mut public = Vec::new();
    let mut private = Vec::new();
    for item in items {
        let syn::Item::Impl(block) = item else {
            continue;
        };
        let owner = block.self_ty.to_token_stream().to_string();
        for member in block.items {
            let syn::ImplItem::Fn(function) = member else {
                continue;
            };
            if !matches!(function.vis, syn::Visibility::Public(_)) {
                private.push(function.sig.ident.to_string());
            } else if function.sig.ident == "send" {
                let syn::ReturnType::Type(_, output) = function.sig.output else {
                    panic!("{owner}: send() returns nothing");
                };
                public.push((owner.clone(), output.to_token_stream().to_string()));
            }
        }
    }
    (public, private)
}

fn assert_api_error(sends: &[(String, String)]) {
    for (owner, output) in sends {
        assert!(
            output.ends_with(", crate :: ApiError >"),
            "{owner}: send() returns {output}"
        );
    }
}

#[test]
fn every_send_returns_api_error_and_keeps_progenitor_s_send_private() {
    let (public, private) = sends(&crate::spec_yaml());
    let owners: Vec<&str> = public.iter().map(|(owner, _)| owner.as_str()).collect();
    assert_eq!(
        owners,
        [
            "GetConversionById < 'a >",
            "GetAllVoices < 'a >",
            "SearchVoices < 'a >",
            "Cover < 'a >"
        ]
    );
    assert_api_error(&public);
    assert_eq!(private, ["send_progenitor"; 4]);
}

#[test]
fn an_operation_added_to_the_spec_returns_api_error_too() {
    let mut spec: Value = serde_norway::from_str(&crate::spec_yaml()).expect("the spec is YAML");
    let mut added = spec["paths"]["/v1/getAllVoices"].clone();
    added["get"]["operationId"] = "getFavouriteVoices".into();
    spec["paths"]
        .as_mapping_mut()
        .expect("paths")
        .insert("/v1/getFavouriteVoices".into(), added);
    let (public, _) = sends(&serde_norway::to_string(&spec).expect("YAML again"));
    assert!(
        public
            .iter()
            .any(|(owner, _)| owner == "GetFavouriteVoices < 'a >"),
        "{public:?}"
    );
    assert_api_error(&public);
}
