//! Generates the client from the crate's own `openapi.yaml` into `OUT_DIR/codegen.rs`.
//!
//! `openapi.yaml` beside this file is a symlink to the workspace's `../../openapi.yaml`, the one
//! file people edit: `cargo package` stores the file it points to, so the published crate carries
//! the spec it was built from. On Windows, git with `core.symlinks=false` checks the link out as a
//! one-line text file holding the path, and this build fails to parse it: enable symlinks there
//! (`git config core.symlinks true`, Developer Mode) to build from a clone. A crate from the
//! registry is unaffected.

use std::path::PathBuf;

fn main() {
    let manifest_dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let spec_path = manifest_dir.join("openapi.yaml");
    // Cargo compares the modification time of the file the link resolves to, so an edit of the
    // workspace's openapi.yaml reruns this script.
    println!("cargo:rerun-if-changed={}", spec_path.display());
    let spec = std::fs::read_to_string(&spec_path)
        .unwrap_or_else(|e| panic!("cannot read the spec {}: {e}", spec_path.display()));
    if !spec.contains('\n') && spec.trim_end().ends_with("openapi.yaml") {
        panic!(
            "{} holds the path `{}` instead of the spec: git checked the symlink out as a text \
             file (core.symlinks=false, as on Windows by default). Enable symlinks \
             (`git config core.symlinks true` with Developer Mode on) and check the file out again",
            spec_path.display(),
            spec.trim_end()
        );
    }
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
