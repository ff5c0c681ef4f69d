//! The whole generated file as a reviewed snapshot: any change to the spec or the generator
//! that changes the client shows up as a diff of this snapshot.

#[test]
fn generated_client_source() {
    let source = musicgpt_cover_codegen::generate(&crate::spec_yaml()).expect("the spec generates");
    insta::assert_snapshot!("generated_client", source);
}
