//! Generates the client from the workspace's openapi.yaml into `OUT_DIR/codegen.rs`.

use std::path::PathBuf;

fn main() {
    let manifest_dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let spec_path = manifest_dir.join("../../openapi.yaml");
    println!("cargo:rerun-if-changed={}", spec_path.display());
    let spec = std::fs::read_to_string(&spec_path)
        .unwrap_or_else(|e| panic!("cannot read the spec {}: {e}", spec_path.display()));
    let source = musicgpt_cover_codegen::generate(&spec).unwrap_or_else(|e| {
        panic!(
            "cannot generate the client from {}: {e}",
            spec_path.display()
        )
    });
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").unwrap_or_default());
    let out = out_dir.join("codegen.rs");
    std::fs::write(&out, source).unwrap_or_else(|e| panic!("cannot write {}: {e}", out.display()));
}
