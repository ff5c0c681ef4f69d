//! SHA-256 of a file, for the release archive's `.sha256`: computed here because the release
//! runners do not share one checksum program (`sha256sum` on Linux, `shasum` on macOS, neither on
//! Windows' default PATH).

use std::fs::File;
use std::io;
use std::path::Path;

use sha2::{Digest, Sha256};

/// The file's SHA-256 in lowercase hex, as `sha256sum` prints it.
pub(crate) fn file_hex(path: &Path) -> io::Result<String> {
    let mut hash = Sha256::new();
    io::copy(&mut File::open(path)?, &mut hash)?;
    Ok(format!("{:x}", hash.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// FIPS 180-4's one-block example: the format `sha256sum` writes (64 lowercase hex digits).
    #[test]
    fn a_file_hashes_as_sha256sum_prints_it() {
        let path = std::env::temp_dir().join(format!("xtask-sha256-{}", std::process::id()));
        std::fs::write(&path, b"abc").unwrap_or_else(|e| panic!("{e}"));
        let from_file = file_hex(&path).ok();
        let _ = std::fs::remove_file(&path);
        assert_eq!(
            from_file.as_deref(),
            Some("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        );
    }
}
