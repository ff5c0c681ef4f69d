//! The built-in voice catalogue that getAllVoices and searchVoices page through.
//!
//! It opens with the voices of the spec's own example (so the example's ids work), followed by a
//! few dozen more. Ids mix slugs and UUIDs as the real API's do; the UUIDs are derived from the
//! names, so they are the same in every run.

use std::sync::OnceLock;

use uuid::Uuid;

use crate::spec::{Field, Fill, Spec, Val};

/// The voices after the spec's examples. Every third one gets a slug id, the rest a UUID.
const NAMES: &[&str] = &[
    "Taylor Swift",
    "The Weeknd",
    "Ariana Grande",
    "Billie Eilish",
    "Bruno Mars",
    "Kanye West",
    "Eminem",
    "Rihanna",
    "Adele",
    "Ed Sheeran",
    "Frank Ocean",
    "Travis Scott",
    "Post Malone",
    "Dua Lipa",
    "Lana Del Rey",
    "Kendrick Lamar",
    "Doja Cat",
    "SZA",
    "Michael Jackson",
    "Freddie Mercury",
    "Elvis Presley",
    "Whitney Houston",
    "Frank Sinatra",
    "Amy Winehouse",
    "Kurt Cobain",
    "Harry Styles",
    "Olivia Rodrigo",
    "Justin Bieber",
    "Bad Bunny",
    "Shakira",
    "Beyoncé",
    "Snoop Dogg",
    "Lil Wayne",
    "Juice WRLD",
    "Mac Miller",
    "Tyler, The Creator",
    "Björk",
    "Drake (Falsetto)",
];

/// One voice.
#[derive(Debug, Clone)]
pub(crate) struct Voice {
    pub(crate) id: String,
    pub(crate) name: String,
    /// Lower-cased name, for case-insensitive search.
    folded: String,
}

impl Fill for Voice {
    fn value(&self, field: Field) -> Val<'_> {
        match field {
            Field::VoiceId => Val::Str(&self.id),
            Field::VoiceName => Val::Str(&self.name),
            _ => Val::Default,
        }
    }
}

/// The catalogue, built once.
pub(crate) fn catalogue(spec: &Spec) -> &'static [Voice] {
    static CATALOGUE: OnceLock<Vec<Voice>> = OnceLock::new();
    CATALOGUE.get_or_init(|| {
        let voice = |id: String, name: &str| Voice {
            id,
            name: name.to_owned(),
            folded: name.to_lowercase(),
        };
        let mut voices: Vec<Voice> = (spec.example_voices.iter())
            .map(|(id, name)| voice(id.clone(), name))
            .collect();
        for (i, name) in NAMES.iter().enumerate() {
            if voices.iter().any(|v| v.name == *name) {
                continue;
            }
            let id = if i % 3 == 0 {
                name.chars().filter(|c| c.is_alphanumeric()).collect()
            } else {
                name_uuid(name).to_string()
            };
            voices.push(voice(id, name));
        }
        voices
    })
}

/// A version-4-shaped UUID from a 128-bit FNV-1a hash of the name: stable across runs.
fn name_uuid(name: &str) -> Uuid {
    let mut hash: u128 = 0x6c62272e07bb014262b821756295c58d;
    for b in name.bytes() {
        hash ^= u128::from(b);
        hash = hash.wrapping_mul(0x0000000001000000000000000000013B);
    }
    uuid::Builder::from_random_bytes(hash.to_be_bytes()).into_uuid()
}

/// Voices whose name holds `query` (already lower-cased), or all of them.
pub(crate) fn matching<'a>(
    all: &'a [Voice],
    query: Option<&'a str>,
) -> impl Iterator<Item = &'a Voice> + Clone + 'a {
    all.iter()
        .filter(move |v| query.is_none_or(|q| v.folded.contains(q)))
}

/// One page of voices, for the VoiceList template.
pub(crate) struct VoicePage<'a> {
    pub(crate) voices: Vec<&'a Voice>,
    pub(crate) limit: i64,
    pub(crate) page: i64,
    pub(crate) total: usize,
}

impl Fill for VoicePage<'_> {
    fn value(&self, field: Field) -> Val<'_> {
        match field {
            Field::Success => Val::Bool(true),
            Field::Voices => Val::Array(self.voices.len()),
            Field::Limit => Val::Int(self.limit),
            Field::Page => Val::Int(self.page),
            Field::Total => Val::Int(i64::try_from(self.total).unwrap_or(i64::MAX)),
            Field::Error | Field::Message | Field::Detail => Val::Absent,
            _ => Val::Default,
        }
    }

    fn item(&self, field: Field, index: usize) -> Option<&dyn Fill> {
        match field {
            Field::Voices => self.voices.get(index).map(|v| *v as &dyn Fill),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogue_has_a_few_dozen_unique_voices() {
        let spec = crate::spec::spec().expect("spec");
        let all = catalogue(spec);
        assert!(all.len() >= 36, "{}", all.len());
        let mut ids: Vec<&str> = all.iter().map(|v| v.id.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), all.len());
        assert_eq!(all.first().map(|v| v.name.as_str()), Some("Drake"));
        assert_eq!(matching(all, Some("drake")).count(), 2);
        assert_eq!(matching(all, Some("beyoncé")).count(), 1);
        assert_eq!(name_uuid("Joji"), name_uuid("Joji"));
    }
}
