//! What the soak sends: the kinds of request, how often each is drawn, the bytes of each, and the
//! answer each should get. A new kind is a `Kind` variant, a row in [`KINDS`] and an arm in
//! [`plan`].

use musicgpt_cover::COVER_CONVERSION_TYPE;
use musicgpt_cover_mock::openapi_document::pitch_bounds;
use musicgpt_cover_mock::{Outcome, api_base_path};
use rand::Rng;
use rand::rngs::StdRng;

use crate::common::http1::{self, Form, form_type};
use crate::common::spec::{api_path, cover_example};
use crate::ledger::{Hook, Ledger, Task};

/// The pitches the spec allows (the mock would not start without its spec).
fn pitches() -> std::ops::RangeInclusive<i64> {
    pitch_bounds().unwrap_or(0..=0)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    CoverUrl,
    CoverUrlEncoded,
    CoverWav,
    CoverFile,
    CoverNoHook,
    CoverRefused,
    CoverFailing,
    ById,
    SearchVoices,
    GetAllVoices,
    NoVoiceId,
    BadPitch,
    NoKey,
    UnknownPath,
    ByIdQuery,
    UnknownId,
}

/// Every kind, its label in the tables and its weight in the draw (the weights add up to 100, so
/// they read as percentages). About a third are Covers, three in four of them with a webhook to
/// the receiver.
pub(crate) const KINDS: [(Kind, &str, u32); 16] = [
    (Kind::CoverUrl, "Cover audio_url, webhook", 12),
    (Kind::CoverUrlEncoded, "Cover url-encoded, webhook", 4),
    (Kind::CoverWav, "Cover WAV upload, webhook", 4),
    (Kind::CoverFile, "Cover non-audio upload, webhook", 4),
    (Kind::CoverNoHook, "Cover, no webhook", 3),
    (Kind::CoverRefused, "Cover, non-loopback webhook", 3),
    (Kind::CoverFailing, "Cover failing, webhook", 1),
    (Kind::ById, "byId poll", 30),
    (Kind::SearchVoices, "searchVoices", 10),
    (Kind::GetAllVoices, "getAllVoices", 9),
    (Kind::NoVoiceId, "bad: no voice_id (422)", 4),
    (Kind::BadPitch, "bad: pitch (422)", 4),
    (Kind::NoKey, "bad: no key (401)", 3),
    (Kind::UnknownPath, "bad: unknown path (404)", 3),
    (Kind::ByIdQuery, "bad: byId both ids or none (400)", 3),
    (Kind::UnknownId, "bad: byId unknown id (404)", 3),
];

impl Kind {
    pub(crate) fn index(self) -> usize {
        KINDS.iter().position(|(k, _, _)| *k == self).unwrap_or(0)
    }

    pub(crate) fn label(self) -> &'static str {
        KINDS[self.index()].1
    }
}

/// What a request should be answered with.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Expect {
    /// 200 with a new task in the queue, which the ledger then records.
    Accepted { hook: Hook, outcome: Outcome },
    /// The task as byId shows it at that moment (see `check`).
    Poll(Task),
    /// 200 with a page of voices.
    Voices,
    /// This status, with a JSON error body.
    Refusal(u16),
}

/// One request, ready to write.
pub(crate) struct Planned {
    pub(crate) kind: Kind,
    pub(crate) bytes: Vec<u8>,
    pub(crate) expect: Expect,
}

/// What every request of one connection shares.
pub(crate) struct Context {
    /// The mock's `host:port`, for the `Host` header.
    pub(crate) host: String,
    /// This connection's key (any non-empty key is accepted, and funded with the default credits).
    pub(crate) key: String,
    /// The receiver's URL.
    pub(crate) hook_url: String,
    /// Bytes that look like compressed audio but are not; non-audio uploads are slices of it.
    pub(crate) noise: std::sync::Arc<[u8]>,
    /// Short WAV files, which the mock decodes, shifts and encodes in the background.
    pub(crate) wavs: std::sync::Arc<[Vec<u8>]>,
    pub(crate) spec: std::sync::Arc<Spec>,
}

/// What the requests take from openapi.yaml: its servers' base path, the mock's paths of the
/// operations (the spec's, under the base path) and the Cover form's examples.
pub(crate) struct Spec {
    base: String,
    cover: String,
    by_id: String,
    search_voices: String,
    all_voices: String,
    voice_id: String,
    audio_url: String,
}

impl Spec {
    pub(crate) fn read() -> Result<Spec, String> {
        Ok(Spec {
            base: api_base_path(),
            cover: api_path("cover")?,
            by_id: api_path("getConversionById")?,
            search_voices: api_path("searchVoices")?,
            all_voices: api_path("getAllVoices")?,
            voice_id: cover_example("voice_id")?,
            audio_url: cover_example("audio_url")?,
        })
    }

    /// The voices the Covers name, in turn: the spec's example, a UUID and a name with a space.
    fn voice(&self, n: u32) -> &str {
        match n % 3 {
            0 => &self.voice_id,
            1 => "6f9a2c4e-1b3d-4e5f-8a7b-9c0d1e2f3a4b",
            _ => "Soak Voice",
        }
    }

    /// byId's path with `conversionType` for a Cover, and `query` after it when there is one.
    fn by_id(&self, query: &str) -> String {
        let path = format!("{}?conversionType={COVER_CONVERSION_TYPE}", self.by_id);
        if query.is_empty() {
            path
        } else {
            format!("{path}&{query}")
        }
    }
}

/// A Cover the mock accepts, its webhook to the receiver.
const DELIVERED: Expect = Expect::Accepted {
    hook: Hook::Receiver,
    outcome: Outcome::Completed,
};
/// Webhook hosts the mock must refuse (not loopback, not allowed); it sends nothing to them.
const REFUSED_HOOKS: [&str; 2] = [
    "http://webhook.musicgpt.com/soak",
    "http://10.0.0.1:8080/hook",
];
const QUERIES: [&str; 4] = ["drake", "a", "J", "no-such-voice-at-all"];

/// A pitch the spec refuses: one past either bound, a word, a number too long for any integer.
fn bad_pitch(n: u32) -> String {
    match n % 4 {
        0 => (pitches().end() + 1).to_string(),
        1 => (pitches().start() - 1).to_string(),
        2 => "twelve".to_owned(),
        _ => "99999999999999999999".to_owned(),
    }
}

/// Draws a kind by weight.
pub(crate) fn draw(rng: &mut StdRng) -> Kind {
    let total: u32 = KINDS.iter().map(|(_, _, w)| w).sum();
    let mut at = rng.random_range(0..total);
    for (kind, _, weight) in KINDS {
        if at < weight {
            return kind;
        }
        at -= weight;
    }
    Kind::GetAllVoices
}

/// The request of `kind` (a byId poll before any task exists becomes a getAllVoices).
pub(crate) fn plan(kind: Kind, cx: &Context, ledger: &Ledger, rng: &mut StdRng) -> Planned {
    let n: u32 = rng.random();
    let key = Some(cx.key.as_str());
    let (kind, bytes, expect) = match kind {
        Kind::CoverUrl | Kind::CoverNoHook | Kind::CoverRefused | Kind::CoverFailing => {
            let (hook, hook_url) = match kind {
                Kind::CoverNoHook => (Hook::None, None),
                Kind::CoverRefused => (
                    Hook::Refused,
                    Some(REFUSED_HOOKS[n as usize % REFUSED_HOOKS.len()]),
                ),
                _ => (Hook::Receiver, Some(cx.hook_url.as_str())),
            };
            let form = Form::default().text("voice_id", cx.spec.voice(n)).text(
                "audio_url",
                &format!("https://www.youtube.com/watch?v=soak{n}"),
            );
            let mut form = pitch(form, rng);
            if let Some(url) = hook_url {
                form = form.text("webhook_url", url);
            }
            let (outcome, prefer) = match (kind, n % 2) {
                (Kind::CoverFailing, 0) => (Outcome::Failed, Some("outcome=failed")),
                (Kind::CoverFailing, _) => (Outcome::Error, Some("outcome=error")),
                _ => (Outcome::Completed, None),
            };
            let headers: Vec<(&str, &str)> = prefer.map(|p| ("prefer", p)).into_iter().collect();
            let bytes = multipart(form, cx, key, &headers);
            (kind, bytes, Expect::Accepted { hook, outcome })
        }
        Kind::CoverUrlEncoded => {
            let mut body = form_urlencoded::Serializer::new(String::new());
            body.append_pair("voice_id", cx.spec.voice(n))
                .append_pair("audio_url", &format!("https://example.com/song-{n}.mp3"))
                .append_pair("pitch", &rng.random_range(pitches()).to_string())
                .append_pair("webhook_url", &cx.hook_url);
            let body = body.finish();
            let form = ("content-type", "application/x-www-form-urlencoded");
            let bytes = request("POST", &cx.spec.cover, cx, key, &[form], body.as_bytes());
            (kind, bytes, DELIVERED)
        }
        Kind::CoverWav | Kind::CoverFile => {
            let form = pitch(Form::default().text("voice_id", cx.spec.voice(n)), rng)
                .text("webhook_url", &cx.hook_url);
            let form = if kind == Kind::CoverWav {
                let wav = &cx.wavs[n as usize % cx.wavs.len()];
                form.file("song.wav", "audio/wav", wav)
            } else {
                let len = rng.random_range(1..=cx.noise.len());
                let start = rng.random_range(0..=cx.noise.len() - len);
                form.file("song.mp3", "audio/mpeg", &cx.noise[start..start + len])
            };
            (kind, multipart(form, cx, key, &[]), DELIVERED)
        }
        Kind::ById => match ledger.recent(rng.random_range(0..usize::MAX)) {
            Some(task) => {
                let query = if n.is_multiple_of(2) {
                    format!("task_id={}", task.task_id)
                } else {
                    format!("conversion_id={}", task.conversion_id)
                };
                let path = cx.spec.by_id(&query);
                (kind, get(&path, cx, key), Expect::Poll(task))
            }
            None => voices_page(cx, key, n),
        },
        Kind::SearchVoices => {
            let query = QUERIES[n as usize % QUERIES.len()];
            let limit = 1 + n % 100;
            let path = format!("{}?query={query}&limit={limit}", cx.spec.search_voices);
            (kind, get(&path, cx, key), Expect::Voices)
        }
        Kind::GetAllVoices => voices_page(cx, key, n),
        Kind::NoVoiceId => {
            let form = pitch(Form::default().text("audio_url", &cx.spec.audio_url), rng)
                .text("webhook_url", &cx.hook_url);
            (kind, multipart(form, cx, key, &[]), Expect::Refusal(422))
        }
        Kind::BadPitch => {
            let form = Form::default()
                .text("voice_id", &cx.spec.voice_id)
                .text("audio_url", &cx.spec.audio_url)
                .text("pitch", &bad_pitch(n))
                .text("webhook_url", &cx.hook_url);
            (kind, multipart(form, cx, key, &[]), Expect::Refusal(422))
        }
        Kind::NoKey => {
            // The key is checked before the body: a Cover without one is refused unread.
            let bytes = if n.is_multiple_of(2) {
                let form = Form::default()
                    .text("voice_id", &cx.spec.voice_id)
                    .text("audio_url", &cx.spec.audio_url);
                multipart(form, cx, None, &[])
            } else {
                get(&cx.spec.all_voices, cx, None)
            };
            (kind, bytes, Expect::Refusal(401))
        }
        Kind::UnknownPath => {
            let path = if n.is_multiple_of(2) {
                format!("{}/v1/soak-{n}", cx.spec.base)
            } else {
                format!("{}/v2/getAllVoices", cx.spec.base)
            };
            (kind, get(&path, cx, key), Expect::Refusal(404))
        }
        Kind::ByIdQuery => {
            let path = if n.is_multiple_of(2) {
                let (a, b) = (uuid::Uuid::from_u128(u128::from(n)), uuid::Uuid::nil());
                cx.spec.by_id(&format!("task_id={a}&conversion_id={b}"))
            } else {
                cx.spec.by_id("")
            };
            (kind, get(&path, cx, key), Expect::Refusal(400))
        }
        Kind::UnknownId => {
            // Ids are plain strings in the spec: one the mock never issued, UUID or not, is 404.
            let query = match n % 3 {
                0 => format!("task_id=not-a-uuid-{n}"),
                1 => format!("conversion_id={n}"),
                _ => format!("task_id={}", uuid::Uuid::from_u128(u128::from(n) << 64)),
            };
            let path = cx.spec.by_id(&query);
            (kind, get(&path, cx, key), Expect::Refusal(404))
        }
    };
    Planned {
        kind,
        bytes,
        expect,
    }
}

fn voices_page(cx: &Context, key: Option<&str>, n: u32) -> (Kind, Vec<u8>, Expect) {
    let path = format!(
        "{}?limit={}&page={}",
        cx.spec.all_voices,
        1 + n % 100,
        n % 3
    );
    (Kind::GetAllVoices, get(&path, cx, key), Expect::Voices)
}

fn get(path: &str, cx: &Context, key: Option<&str>) -> Vec<u8> {
    request("GET", path, cx, key, &[], &[])
}

/// A whole HTTP/1.1 request: the `host`, the key when there is one, then `headers`.
fn request(
    method: &str,
    path: &str,
    cx: &Context,
    key: Option<&str>,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Vec<u8> {
    let mut all = vec![("host", cx.host.as_str())];
    all.extend(key.map(|key| ("authorization", key)));
    all.extend_from_slice(headers);
    http1::request(method, path, &all, body)
}

/// A valid pitch, or none (the mock then takes 0).
fn pitch(form: Form, rng: &mut StdRng) -> Form {
    if rng.random_bool(0.8) {
        form.text("pitch", &rng.random_range(pitches()).to_string())
    } else {
        form
    }
}

/// A Cover of `form`, the Accept header as the reference page's.
fn multipart(form: Form, cx: &Context, key: Option<&str>, headers: &[(&str, &str)]) -> Vec<u8> {
    let content_type = form_type();
    let mut all = vec![
        ("accept", "multipart/form-data"),
        ("content-type", &content_type),
    ];
    all.extend_from_slice(headers);
    request("POST", &cx.spec.cover, cx, key, &all, &form.finish())
}

/// A 16-bit mono PCM WAV file of a sine at `hz`, `seconds` long at 8 kHz: a song the mock can
/// decode, small enough (16 KB a second) that the soak stays about many requests.
pub(crate) fn wav(hz: f64, seconds: f64) -> Vec<u8> {
    const RATE: u32 = 8000;
    let samples = (seconds * f64::from(RATE)) as u32;
    let data_len = samples * 2;
    let mut out = Vec::with_capacity(44 + data_len as usize);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data_len).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes()); // PCM
    out.extend_from_slice(&1u16.to_le_bytes()); // mono
    out.extend_from_slice(&RATE.to_le_bytes());
    out.extend_from_slice(&(RATE * 2).to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&16u16.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data_len.to_le_bytes());
    for i in 0..samples {
        let t = f64::from(i) / f64::from(RATE);
        let v = (t * hz * std::f64::consts::TAU).sin() * 0.5 * f64::from(i16::MAX);
        out.extend_from_slice(&(v as i16).to_le_bytes());
    }
    out
}
