//! Fast hashing for the maps keyed by the mock's own ids and by API keys.

use std::collections::HashMap;

use uuid::Uuid;

/// Hashes by folding 8-byte words (FxHash style). The task maps are keyed by the mock's own random
/// UUIDs and the key ledger is capped, so SipHash's protection against chosen keys buys nothing
/// in a local mock and costs on every request.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct IdHasher(u64);

impl std::hash::Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(word))
                .wrapping_mul(0x517c_c1b7_2722_0a95);
        }
    }
}

pub(crate) type IdMap<V> = HashMap<Uuid, V, std::hash::BuildHasherDefault<IdHasher>>;
