//! Hostile input, sent byte for byte over raw TCP connections so malformed framing really reaches
//! the server: every kind of bad request gets its documented status and a JSON error in the API's
//! format that says what was wrong, creates no task, charges nothing, and leaves the server
//! answering the next request. A new kind is one `kind!` row.

use std::time::{Duration, Instant};

use musicgpt_cover_mock::{MockConfig, MockServer};

use crate::common::{Framing, KEY, Raw, RawAnswer, exchange, mock};

/// A URL the mock accepts as a download.
const URL: &str = "https://x.example/song.mp3";
/// The boundary of the forms built here.
const B: &str = "hostile-boundary";
/// The suite's upload limit: small, so oversize uploads are cheap to send, yet large enough that
/// a body's bound (this plus 1 MiB for the other fields) is above the 1.25 MiB the parser may
/// read looking for the end of a part's headers, so the rows about those are about headers.
const MAX_UPLOAD: u64 = 512 * 1024;
/// How long a body may pause in the suite's mock (the default is 10 s): what the stalled rows
/// wait, and far more than a body written in one go ever pauses, even on a loaded machine.
const BODY_TIMEOUT: Duration = Duration::from_millis(1500);
/// How long one answer may take.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(10);

/// One kind of bad request: what is sent, the status it must get, and a word (or phrase) the
/// error text must contain, compared without case.
struct Kind {
    name: &'static str,
    request: Raw,
    status: u16,
    word: &'static str,
}

macro_rules! kind {
    ($name:expr, $request:expr, $status:expr, $word:expr $(,)?) => {
        Kind {
            name: $name,
            request: $request,
            status: $status,
            word: $word,
        }
    };
}

/// Builds the suite's requests; `api` is the spec's base path (`/api/public`).
struct Ctx {
    api: String,
    /// A completed conversion, for the result-file rows.
    done: String,
}

impl Ctx {
    /// `POST /v1/Cover` with the suite's key and no body yet.
    fn cover(&self) -> Raw {
        Raw::new("POST", &format!("{}/v1/Cover", self.api)).header("Authorization", KEY)
    }

    fn cover_body(&self, content_type: &str, body: impl Into<Vec<u8>>) -> Raw {
        self.cover().header("Content-Type", content_type).body(body)
    }

    /// A multipart Cover of these parts (each built by [`part`] or [`file`]), closed properly.
    fn cover_parts(&self, parts: &[Vec<u8>]) -> Raw {
        self.cover_body(&multipart_type(B), multipart(B, parts, true))
    }

    /// A multipart Cover of these text fields.
    fn cover_form(&self, fields: &[(&str, &str)]) -> Raw {
        let parts: Vec<Vec<u8>> = fields.iter().map(|(n, v)| part(n, v)).collect();
        self.cover_parts(&parts)
    }

    /// A Cover of `voice_id=Drake`, `audio_url` [`URL`] and one more field of raw bytes.
    fn cover_with(&self, name: &str, value: impl AsRef<[u8]>) -> Raw {
        self.cover_parts(&[
            part("voice_id", "Drake"),
            part("audio_url", URL),
            part(name, value),
        ])
    }

    /// A Cover whose `audio_url` is this.
    fn cover_url(&self, url: &str) -> Raw {
        self.cover_form(&[("voice_id", "Drake"), ("audio_url", url)])
    }

    fn urlencoded(&self, body: impl Into<Vec<u8>>) -> Raw {
        self.cover_body("application/x-www-form-urlencoded", body)
    }

    /// A GET of an operation (`/v1/byId?...`) with the suite's key.
    fn get(&self, op: &str) -> Raw {
        Raw::new("GET", &format!("{}{op}", self.api)).header("Authorization", KEY)
    }

    /// Any method on an operation's path, with the suite's key.
    fn call(&self, method: &str, op: &str) -> Raw {
        Raw::new(method, &format!("{}{op}", self.api)).header("Authorization", KEY)
    }

    /// An admin call with a JSON (or not) body.
    fn admin(&self, method: &str, path: &str, body: impl Into<Vec<u8>>) -> Raw {
        Raw::new(method, &format!("/__admin{path}"))
            .header("Content-Type", "application/json")
            .body(body)
    }

    /// `byId` of `conversionType=COVER` and this query.
    fn by_id(&self, query: &str) -> Raw {
        self.get(&format!("/v1/byId?conversionType=COVER&{query}"))
    }

    /// The completed conversion's MP3.
    fn file(&self) -> Raw {
        Raw::new("GET", &format!("/files/{}.mp3", self.done))
    }
}

fn multipart_type(boundary: &str) -> String {
    format!("multipart/form-data; boundary={boundary}")
}

/// A text part: its headers, the blank line, its value.
fn part(name: impl AsRef<[u8]>, value: impl AsRef<[u8]>) -> Vec<u8> {
    [
        b"Content-Disposition: form-data; name=\"".as_slice(),
        name.as_ref(),
        b"\"\r\n\r\n",
        value.as_ref(),
    ]
    .concat()
}

/// A part with whatever headers, then its value.
fn part_with(headers: &str, value: impl AsRef<[u8]>) -> Vec<u8> {
    [headers.as_bytes(), b"\r\n\r\n", value.as_ref()].concat()
}

/// A file part.
fn file(name: &str, filename: impl AsRef<[u8]>, content_type: &str, bytes: &[u8]) -> Vec<u8> {
    [
        format!("Content-Disposition: form-data; name=\"{name}\"; filename=\"").as_bytes(),
        filename.as_ref(),
        format!("\"\r\nContent-Type: {content_type}\r\n\r\n").as_bytes(),
        bytes,
    ]
    .concat()
}

/// A multipart body of these parts; `close` adds the closing boundary.
fn multipart(boundary: &str, parts: &[Vec<u8>], close: bool) -> Vec<u8> {
    let mut body = Vec::new();
    for p in parts {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        body.extend_from_slice(p);
        body.extend_from_slice(b"\r\n");
    }
    if close {
        body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    }
    body
}

/// A valid form, for the rows that break something else.
fn good_form() -> Vec<u8> {
    multipart(
        B,
        &[part("voice_id", "Drake"), part("audio_url", URL)],
        true,
    )
}

/// Every kind, one row each: `kind!(name, request, status, word the error must contain)`. A
/// comment above a row says why its answer is the right one where that is a decision.
fn kinds(k: &Ctx) -> Vec<Kind> {
    let good = good_form;
    let cut = |n: usize| {
        let mut body = good();
        body.truncate(n);
        body
    };
    let long_boundary = "b".repeat(71);
    let nested = multipart(
        "inner",
        &[part("voice_id", "Drake"), part("audio_url", URL)],
        true,
    );
    let tiny_parts: Vec<Vec<u8>> = (0..10_000).map(|i| part(format!("f{i}"), "x")).collect();
    let mib = "D".repeat(1 << 20);
    let big_file = vec![7u8; MAX_UPLOAD as usize + 1];
    let with_file = |bytes: &[u8]| {
        multipart(
            B,
            &[
                part("voice_id", "Drake"),
                file("audio_file", "song.wav", "audio/wav", bytes),
            ],
            true,
        )
    };
    let key_100k = "k".repeat(100 * 1024);
    let key_257 = "k".repeat(257);
    let key_300 = "k".repeat(300);
    let unknown = "0ec93bdd-6132-40db-a873-676dc314919c";
    // A malformed id is a query error where the spec says an id is a UUID, else an id no
    // conversion has.
    let malformed_id = if crate::common::query_schema("/v1/byId", "get", "task_id")
        .and_then(|s| s.get("format").and_then(|f| f.as_str()).map(str::to_owned))
        .as_deref()
        == Some("uuid")
    {
        (400, "UUID")
    } else {
        (404, "conversion")
    };
    vec![
        // Multipart framing.
        kind!("multipart without a boundary", k.cover_body("multipart/form-data", good()), 422, "boundary"),
        kind!("an empty boundary", k.cover_body("multipart/form-data; boundary=", good()), 422, "boundary"),
        kind!("an empty quoted boundary", k.cover_body("multipart/form-data; boundary=\"\"", good()), 422, "boundary"),
        // RFC 2046: 1 to 70 characters.
        kind!("a boundary of 71 bytes", k.cover_body(&multipart_type(&long_boundary), multipart(&long_boundary, &[part("voice_id", "Drake"), part("audio_url", URL)], true)), 422, "70"),
        kind!("a boundary with a character RFC 2046 forbids", k.cover_body("multipart/form-data; boundary=\"a@b\"", multipart("a@b", &[part("voice_id", "Drake"), part("audio_url", URL)], true)), 422, "boundary"),
        kind!("a body cut off mid part", k.cover_body(&multipart_type(B), cut(60)), 422, "multipart"),
        kind!("no closing boundary", k.cover_body(&multipart_type(B), multipart(B, &[part("voice_id", "Drake"), part("audio_url", URL)], false)), 422, "multipart"),
        kind!("a body that is not multipart", k.cover_body(&multipart_type(B), &b"\x00\xff garbage \r\n\r\n--"[..]), 422, "multipart"),
        kind!("an empty multipart body", k.cover_body(&multipart_type(B), Vec::new()), 422, "multipart"),
        kind!("a part with no name", k.cover_parts(&[part("voice_id", "Drake"), part_with("Content-Disposition: form-data", URL)]), 422, "no name"),
        kind!("a part without Content-Disposition", k.cover_parts(&[part("voice_id", "Drake"), part_with("Content-Type: text/plain", URL)]), 422, "no name"),
        // A part's headers are a few hundred bytes from any client; 8 KiB is plenty.
        kind!("part headers of 100 KB", k.cover_parts(&[part("voice_id", "Drake"), part_with(&format!("Content-Disposition: form-data; name=\"audio_url\"\r\nX-Pad: {}", "p".repeat(100 * 1024)), URL)]), 422, "headers"),
        // Over the 1.25 MiB the parser may read looking for them, under the body's 1.5 MiB.
        kind!("part headers that never end (1.4 MiB)", k.cover_body(&multipart_type(B), [format!("--{B}\r\n").as_bytes(), &vec![b'h'; 1400 << 10]].concat()), 422, "end of part headers"),
        kind!("part headers that never end (4 MiB, chunked)", k.cover_body(&multipart_type(B), [format!("--{B}\r\n").as_bytes(), &vec![b'h'; 4 << 20]].concat()).framing(Framing::Chunked(64 << 10)), 422, "end of part headers"),
        kind!("40 headers in one part", k.cover_parts(&[part("voice_id", "Drake"), part_with(&format!("Content-Disposition: form-data; name=\"audio_url\"{}", "\r\nX-A: 1".repeat(40)), URL)]), 422, "header"),
        kind!("10,000 tiny parts", k.cover_parts(&tiny_parts), 422, "parts"),
        // RFC 7578 section 4.3: nested multipart/mixed is deprecated; one field, one part.
        kind!("nested multipart as voice_id", k.cover_parts(&[part_with("Content-Disposition: form-data; name=\"voice_id\"\r\nContent-Type: multipart/mixed; boundary=inner", &nested), part("audio_url", URL)]), 422, "nested"),
        kind!("nested multipart as audio_file", k.cover_parts(&[part("voice_id", "Drake"), part_with("Content-Disposition: form-data; name=\"audio_file\"\r\nContent-Type: multipart/mixed; boundary=inner", &nested)]), 422, "nested"),
        // Content types.
        kind!("no Content-Type", k.cover().body(good()), 422, "Content-Type"),
        kind!("a JSON body", k.cover_body("application/json", r#"{"voice_id":"Drake","audio_url":"https://x.example/a"}"#), 422, "Content-Type"),
        kind!("text/plain", k.cover_body("text/plain", "voice_id=Drake"), 422, "Content-Type"),
        kind!("multipart/mixed", k.cover_body(&format!("multipart/mixed; boundary={B}"), good()), 422, "Content-Type"),
        kind!("a Content-Type that is not text", k.cover().header("Content-Type", b"multipart/form-data; boundary=\xff").body(good()), 422, "Content-Type"),
        // Text that is not UTF-8: a spec'd string field must be text.
        kind!("voice_id not UTF-8", k.cover_parts(&[part("voice_id", b"Dr\xffake"), part("audio_url", URL)]), 422, "voice_id is not valid UTF-8"),
        kind!("audio_url not UTF-8", k.cover_parts(&[part("voice_id", "Drake"), part("audio_url", b"https://x.example/\xc3")]), 422, "audio_url is not valid UTF-8"),
        kind!("pitch not UTF-8", k.cover_with("pitch", b"\xff3"), 422, "pitch is not valid UTF-8"),
        kind!("webhook_url not UTF-8", k.cover_with("webhook_url", b"http://127.0.0.1/\xfe"), 422, "webhook_url is not valid UTF-8"),
        kind!("voice_id not UTF-8, sent as a file part", k.cover_parts(&[file("voice_id", "v.txt", "application/octet-stream", b"\xff\xfe"), part("audio_url", URL)]), 422, "voice_id is not valid UTF-8"),
        kind!("a part name not UTF-8", k.cover_parts(&[part("voice_id", "Drake"), part("audio_url", URL), part(b"pi\xfftch", "1")]), 422, "not valid UTF-8"),
        kind!("a filename not UTF-8", k.cover_parts(&[part("voice_id", "Drake"), file("audio_file", b"s\xffng.wav", "audio/wav", b"RIFF")]), 422, "filename"),
        kind!("url-encoded voice_id not UTF-8 (%FF)", k.urlencoded(format!("voice_id=Dr%FFake&audio_url={URL}")), 422, "voice_id is not valid UTF-8"),
        kind!("url-encoded voice_id with a raw 0xFF byte", k.urlencoded([b"voice_id=Dr\xffake&audio_url=".as_slice(), URL.as_bytes()].concat()), 422, "voice_id is not valid UTF-8"),
        kind!("url-encoded field name not UTF-8", k.urlencoded(format!("voice_id=Drake&audio_url={URL}&pi%FFtch=1")), 422, "not valid UTF-8"),
        // NUL bytes where they cannot be: in a header, a host. (In a text value U+0000 is a
        // character like any: `type: string` allows it, see `schema_valid_edges_are_accepted`.)
        kind!("a NUL byte in audio_url's host", k.cover_url("https://x.exa\0mple/a.mp3"), 400, "could not be downloaded"),
        kind!("a NUL byte in a part name", k.cover_with("voice\0_id", "x"), 422, "multipart"),
        // pitch is `type: integer`: an optional sign and decimal digits, as Python's int() and
        // FastAPI read a form's text, minus their tolerance for surrounding spaces, `_` and a
        // `.0` fraction, which OpenAPI 3.0's JSON Schema (a number "without a fraction or
        // exponent part") does not count as an integer and which would hide a client sending a
        // float. `+3` and `-0` are integers (see `schema_valid_edges_are_accepted`).
        kind!("pitch as 1e3", k.cover_with("pitch", "1e3"), 422, "pitch must be an integer"),
        kind!("pitch as 0x5", k.cover_with("pitch", "0x5"), 422, "pitch must be an integer"),
        kind!("pitch as ' 3'", k.cover_with("pitch", " 3"), 422, "pitch must be an integer"),
        kind!("pitch as 3.0", k.cover_with("pitch", "3.0"), 422, "pitch must be an integer"),
        kind!("pitch as 1_0", k.cover_with("pitch", "1_0"), 422, "pitch must be an integer"),
        // Python's int() reads other scripts' digits; the spec's integer is ASCII digits.
        kind!("pitch in Arabic-Indic digits", k.cover_with("pitch", "\u{663}"), 422, "pitch must be an integer"),
        kind!("pitch as 9999999999999999999999", k.cover_with("pitch", "9999999999999999999999"), 422, "between -12 and 12"),
        kind!("pitch empty", k.cover_with("pitch", ""), 422, "pitch must be an integer"),
        // Sizes.
        kind!("a 1 MiB voice_id", k.cover_form(&[("voice_id", &mib), ("audio_url", URL)]), 422, "longer than"),
        kind!("a 1 MiB audio_url", k.cover_form(&[("voice_id", "Drake"), ("audio_url", &format!("https://x.example/{mib}"))]), 422, "longer than"),
        // Repeated fields.
        kind!("voice_id twice", k.cover_form(&[("voice_id", "Drake"), ("voice_id", "Joji"), ("audio_url", URL)]), 422, "more than once"),
        kind!("pitch twice", k.cover_form(&[("voice_id", "Drake"), ("audio_url", URL), ("pitch", "1"), ("pitch", "1")]), 422, "more than once"),
        kind!("audio_url twice", k.cover_form(&[("voice_id", "Drake"), ("audio_url", URL), ("audio_url", URL)]), 422, "more than once"),
        kind!("url-encoded voice_id twice", k.urlencoded(format!("voice_id=a&voice_id=b&audio_url={URL}")), 422, "more than once"),
        // audio_url is `type: string`: any text is schema-valid, so a URL the API could not
        // download gets the documented 400, never a 422.
        kind!("audio_url javascript:", k.cover_url("javascript:alert(1)"), 400, "could not be downloaded"),
        kind!("audio_url file:", k.cover_url("file:///etc/passwd"), 400, "could not be downloaded"),
        kind!("audio_url data:", k.cover_url("data:audio/mpeg;base64,SUQzBAAAAAAA"), 400, "could not be downloaded"),
        kind!("audio_url ftp:", k.cover_url("ftp://x.example/song.mp3"), 400, "could not be downloaded"),
        kind!("audio_url with userinfo hiding the host", k.cover_url("https://x.example@song.invalid/a.mp3"), 400, "could not be downloaded"),
        // WHATWG URLs read `\` as `/` in http(s): the host is song.invalid.
        kind!("audio_url with a backslash before the userinfo", k.cover_url("https://song.invalid\\@x.example/a.mp3"), 400, "could not be downloaded"),
        kind!("audio_url with userinfo and no host", k.cover_url("http://user:pw@/a.mp3"), 400, "could not be downloaded"),
        kind!("audio_url with an unclosed IP literal", k.cover_url("http://[::1/a.mp3"), 400, "could not be downloaded"),
        kind!("audio_url with an IP literal that is no address", k.cover_url("http://[not-an-ip]/a.mp3"), 400, "could not be downloaded"),
        kind!("audio_url with an IPv4 address out of range", k.cover_url("http://256.0.0.1/a.mp3"), 400, "could not be downloaded"),
        kind!("audio_url with a port out of range", k.cover_url("http://x.example:99999/a.mp3"), 400, "could not be downloaded"),
        // Oversize uploads (the suite's mock takes 512 KiB).
        kind!("an upload over the limit, with Content-Length", k.cover_body(&multipart_type(B), with_file(&big_file)), 413, "upload limit"),
        kind!("an upload over the limit, chunked", k.cover_body(&multipart_type(B), with_file(&big_file)).framing(Framing::Chunked(8192)), 413, "upload limit"),
        kind!("a Content-Length far over the limit", k.cover_body(&multipart_type(B), good()).framing(Framing::Says(64 << 20)), 413, "upload limit"),
        kind!("Expect: 100-continue far over the limit", k.cover_body(&multipart_type(B), Vec::new()).header("Expect", "100-continue").framing(Framing::Says(64 << 20)), 413, "upload limit"),
        kind!("a url-encoded audio_file over the limit", k.urlencoded(format!("voice_id=Drake&audio_file={}", "a".repeat(MAX_UPLOAD as usize + 1))), 413, "upload limit"),
        // Lying lengths and broken chunking.
        kind!("a Content-Length longer than the body, then silence", k.cover_body(&multipart_type(B), good()).framing(Framing::Says(good().len() as u64 + 100)), 408, "stalled"),
        kind!("a Content-Length longer than the body, then half-closed", k.cover_body(&multipart_type(B), good()).framing(Framing::Says(good().len() as u64 + 100)).half_close(), 422, "end of file"),
        kind!("a Content-Length shorter than the body", k.cover_body(&multipart_type(B), good()).framing(Framing::Says(good().len() as u64 - 10)), 422, "multipart"),
        kind!("a chunk size that is not hex", k.cover_body(&multipart_type(B), b"zz\r\nabc\r\n0\r\n\r\n".to_vec()).header("Transfer-Encoding", "chunked").framing(Framing::AsIs), 422, "chunk"),
        kind!("a chunk size that overflows", k.cover_body(&multipart_type(B), b"fffffffffffffffffff\r\nabc\r\n0\r\n\r\n".to_vec()).header("Transfer-Encoding", "chunked").framing(Framing::AsIs), 422, "chunk"),
        kind!("a chunked body that stops mid chunk", k.cover_body(&multipart_type(B), [b"200\r\n".as_slice(), &good()].concat()).header("Transfer-Encoding", "chunked").framing(Framing::AsIs), 408, "stalled"),
        // Keys: at most 256 bytes of visible ASCII (an API key is a token, not text).
        kind!("no Authorization", k.cover_body(&multipart_type(B), good()).without("Authorization"), 401, "API key"),
        kind!("an empty Authorization", k.cover_body(&multipart_type(B), good()).set("Authorization", ""), 401, "API key"),
        kind!("a whitespace-only Authorization", k.cover_body(&multipart_type(B), good()).set("Authorization", " \t "), 401, "API key"),
        kind!("a 100 KB Authorization", k.cover_body(&multipart_type(B), good()).set("Authorization", &key_100k), 403, "at most 256"),
        kind!("a 257-byte Authorization", k.cover_body(&multipart_type(B), good()).set("Authorization", &key_257), 403, "at most 256"),
        kind!("an Authorization with a byte over 0x7F", k.cover_body(&multipart_type(B), good()).set("Authorization", b"k\xffey"), 403, "visible ASCII"),
        kind!("an Authorization of two words", k.cover_body(&multipart_type(B), good()).set("Authorization", "two words"), 403, "visible ASCII"),
        kind!("a Bearer Authorization", k.cover_body(&multipart_type(B), good()).set("Authorization", "Bearer abc"), 403, "API key"),
        kind!("a 100 KB Authorization on getAllVoices", k.get("/v1/getAllVoices").set("Authorization", &key_100k), 403, "at most 256"),
        kind!("no Authorization on byId", k.by_id(&format!("task_id={unknown}")).without("Authorization"), 401, "API key"),
        // Methods: 405 with Allow.
        kind!("BREW on Cover", k.call("BREW", "/v1/Cover"), 405, "BREW"),
        kind!("GET on Cover", k.call("GET", "/v1/Cover"), 405, "GET"),
        kind!("DELETE on byId", k.call("DELETE", "/v1/byId"), 405, "DELETE"),
        kind!("PUT on getAllVoices", k.call("PUT", "/v1/getAllVoices"), 405, "PUT"),
        kind!("POST on searchVoices", k.call("POST", "/v1/searchVoices"), 405, "POST"),
        kind!("PATCH on a result file", Raw::new("PATCH", &format!("/files/{}.mp3", k.done)), 405, "PATCH"),
        kind!("DELETE on /__admin/reset", k.admin("DELETE", "/reset", Vec::new()), 405, "DELETE"),
        kind!("PUT on /__admin/clock", k.admin("PUT", "/clock", "{}"), 405, "PUT"),
        // Unknown paths: 404 in JSON.
        kind!("POST / (the Explorer is a page, to GET)", Raw::new("POST", "/"), 405, "does not take"),
        kind!("GET /nope", Raw::new("GET", "/nope"), 404, "no route"),
        kind!("Cover in lower case", k.call("POST", "/v1/cover"), 404, "POST /api/public/v1/Cover"),
        kind!("a v2 path", k.call("POST", "/v2/Cover"), 404, "no route"),
        kind!("byId with a trailing segment", k.call("GET", "/v1/byId/extra"), 404, "no route"),
        kind!("a dot-dot path under /files", Raw::new("GET", "/files/../../etc/passwd"), 404, "no route"),
        kind!("an encoded dot-dot file name", Raw::new("GET", "/files/%2e%2e%2fetc%2fpasswd"), 404, "result files are named"),
        kind!("a file name not UTF-8", Raw::new("GET", "/files/%FF.mp3"), 400, "UTF-8"),
        kind!("an unknown file type", Raw::new("GET", &format!("/files/{unknown}.exe")), 404, ".exe"),
        kind!("an unknown conversion's file", Raw::new("GET", &format!("/files/{unknown}.mp3")), 404, "no conversion"),
        kind!("an unknown admin path", k.admin("GET", "/nope", Vec::new()), 404, "no route"),
        // Result-file ranges.
        kind!("a range past the end", k.file().header("Range", "bytes=999999999-"), 416, "bytes"),
        kind!("a range in another unit", k.file().header("Range", "items=0-1"), 416, "bytes"),
        // byId: exactly one well-formed id.
        kind!("byId with both ids", k.by_id(&format!("task_id={unknown}&conversion_id={unknown}")), 400, "both"),
        kind!("byId with neither id", k.by_id(""), 400, "task_id or conversion_id"),
        kind!("byId with a malformed task_id", k.by_id("task_id=nope"), malformed_id.0, malformed_id.1),
        kind!("byId with a malformed conversion_id", k.by_id("conversion_id=12345"), malformed_id.0, malformed_id.1),
        kind!("byId with a task_id of NUL bytes", k.by_id("task_id=%00%00"), malformed_id.0, malformed_id.1),
        kind!("byId with a task_id not UTF-8", k.by_id("task_id=%FF"), 400, "not valid UTF-8"),
        kind!("byId with task_id twice", k.by_id(&format!("task_id={unknown}&task_id={unknown}")), 400, "more than once"),
        kind!("byId without conversionType", k.get(&format!("/v1/byId?task_id={unknown}")), 400, "conversionType"),
        kind!("byId with an unknown task_id", k.by_id(&format!("task_id={unknown}")), 404, "not found"),
        kind!("byId with an unknown conversion_id", k.by_id(&format!("conversion_id={unknown}")), 404, "not found"),
        kind!("byId of another conversion type", k.get(&format!("/v1/byId?conversionType=REMIX&task_id={unknown}")), 404, "COVER"),
        // conversionType is one of the spec's values, written as the API's documentation writes
        // them: anything else is the documented 400, naming the values.
        kind!("byId of an unknown conversion type", k.get(&format!("/v1/byId?conversionType=NOPE&task_id={unknown}")), 400, "must be one of MUSIC_AI,"),
        kind!("byId with an empty conversionType", k.get(&format!("/v1/byId?conversionType=&task_id={unknown}")), 400, "must be one of MUSIC_AI,"),
        kind!("byId with conversionType in lower case", k.get(&format!("/v1/byId?conversionType=cover&task_id={unknown}")), 400, "got \"cover\""),
        kind!("byId with conversionType and a space", k.get(&format!("/v1/byId?conversionType=COVER%20&task_id={unknown}")), 400, "got \"COVER \""),
        // Voice lists: the spec's integer and string rules.
        kind!("limit 0", k.get("/v1/getAllVoices?limit=0"), 400, "limit"),
        kind!("limit 1e3", k.get("/v1/getAllVoices?limit=1e3"), 400, "limit"),
        kind!("limit abc", k.get("/v1/getAllVoices?limit=abc"), 400, "limit"),
        kind!("page -1", k.get("/v1/getAllVoices?page=-1"), 400, "page"),
        kind!("page 99999999999999999999", k.get("/v1/getAllVoices?page=99999999999999999999"), 400, "page"),
        kind!("searchVoices without query", k.get("/v1/searchVoices"), 400, "query"),
        kind!("searchVoices with a query not UTF-8", k.get("/v1/searchVoices?query=%FF"), 400, "not valid UTF-8"),
        // Prefer.
        kind!("Prefer: outcome=explode", k.cover_body(&multipart_type(B), good()).header("Prefer", "outcome=explode"), 422, "outcome"),
        kind!("Prefer: code=999", k.cover_body(&multipart_type(B), good()).header("Prefer", "code=999"), 422, "code"),
        kind!("Prefer: code=418", k.cover_body(&multipart_type(B), good()).header("Prefer", "code=418"), 422, "not documented"),
        // Admin routes with bad bodies: every body is a JSON object or nothing.
        kind!("fail: a body that is not JSON", k.admin("POST", &format!("/tasks/{unknown}/fail"), "status=FAILED"), 400, "JSON"),
        kind!("fail: a JSON array", k.admin("POST", &format!("/tasks/{unknown}/fail"), "[1]"), 400, "JSON object"),
        kind!("fail: status COMPLETED", k.admin("POST", &format!("/tasks/{unknown}/fail"), r#"{"status":"COMPLETED"}"#), 400, "FAILED"),
        kind!("fail: a misspelt key", k.admin("POST", &format!("/tasks/{unknown}/fail"), r#"{"stauts":"ERROR"}"#), 400, "stauts"),
        kind!("fail: status a number", k.admin("POST", &format!("/tasks/{unknown}/fail"), r#"{"status":5}"#), 400, "FAILED"),
        kind!("fail: a body not UTF-8", k.admin("POST", &format!("/tasks/{unknown}/fail"), &b"{\"status\":\"\xff\"}"[..]), 400, "JSON"),
        kind!("fail: a 100 KB body", k.admin("POST", &format!("/tasks/{unknown}/fail"), format!("{{\"status\":\"{}\"}}", "F".repeat(100 * 1024))), 413, "65536"),
        kind!("complete: a body that is not JSON", k.admin("POST", &format!("/tasks/{unknown}/complete"), "now"), 400, "JSON"),
        kind!("credits: negative", k.admin("PUT", "/credits/someone", r#"{"credits":-1}"#), 400, "at least 0"),
        kind!("credits: a string", k.admin("PUT", "/credits/someone", r#"{"credits":"lots"}"#), 400, "at least 0"),
        kind!("credits: 1e999", k.admin("PUT", "/credits/someone", r#"{"credits":1e999}"#), 400, "JSON"),
        kind!("credits: no body", k.admin("PUT", "/credits/someone", Vec::new()), 400, "credits"),
        kind!("credits: a 300-byte key", k.admin("PUT", &format!("/credits/{key_300}"), r#"{"credits":5}"#), 400, "at most 256"),
        kind!("credits: a key with a space", k.admin("PUT", "/credits/two%20words", r#"{"credits":5}"#), 400, "visible ASCII"),
        kind!("credits: a key not UTF-8", k.admin("PUT", "/credits/%FF", r#"{"credits":5}"#), 400, "UTF-8"),
        kind!("credits of a 300-byte key", k.admin("GET", &format!("/credits/{key_300}"), Vec::new()), 400, "at most 256"),
        kind!("advance: negative", k.admin("POST", "/clock/advance", r#"{"seconds":-1}"#), 400, "seconds"),
        kind!("advance: 1e10", k.admin("POST", "/clock/advance", r#"{"seconds":1e10}"#), 400, "seconds"),
        kind!("advance: a string", k.admin("POST", "/clock/advance", r#"{"seconds":"30"}"#), 400, "seconds"),
        kind!("advance: not JSON", k.admin("POST", "/clock/advance", "30"), 400, "JSON object"),
        kind!("advance: a stalled body", k.admin("POST", "/clock/advance", r#"{"seconds":1"#).framing(Framing::Says(100)), 408, "stalled"),
        kind!("reset: a body that is not JSON", k.admin("POST", "/reset", "everything"), 400, "JSON"),
        kind!("clear the journal: a body that is not JSON", k.admin("DELETE", "/journal", "all"), 400, "JSON"),
        kind!("journal: last=abc", k.admin("GET", "/journal?last=abc", Vec::new()), 400, "last"),
        kind!("journal: last=-1", k.admin("GET", "/journal?last=-1", Vec::new()), 400, "last"),
        kind!("an unknown task", k.admin("GET", &format!("/tasks/{unknown}"), Vec::new()), 404, "no task"),
        kind!("an unknown task's webhook", k.admin("GET", &format!("/webhooks/{unknown}"), Vec::new()), 404, "no webhook"),
        kind!("completing an unknown task", k.admin("POST", &format!("/tasks/{unknown}/complete"), Vec::new()), 404, "no task"),
    ]
}

/// Sends a kind to `mock` and checks it: its status and error text, or what went wrong.
async fn check(mock: &MockServer, kind: &Kind) -> Result<(u16, String), String> {
    let state = mock.state();
    let before = (state.task_count(), state.all_credits());
    let answer = exchange(mock.addr(), &kind.request, ANSWER_TIMEOUT).await?;
    let after = (state.task_count(), state.all_credits());
    let mut wrong = Vec::new();
    if answer.status != kind.status {
        wrong.push(format!(
            "status {} (expected {})",
            answer.status, kind.status
        ));
    }
    match error_text(&answer) {
        Ok(text) if !text.to_lowercase().contains(&kind.word.to_lowercase()) => {
            wrong.push(format!("the error does not say {:?}: {text:?}", kind.word));
        }
        Ok(_) => {}
        Err(why) => wrong.push(why),
    }
    if answer.status == 405 && answer.header("allow").is_none_or(str::is_empty) {
        wrong.push("a 405 without Allow".to_owned());
    }
    if answer.status == 408 && answer.header("connection") != Some("close") {
        wrong.push("a 408 that keeps the connection".to_owned());
    }
    if before.0 != after.0 {
        wrong.push(format!("tasks went from {} to {}", before.0, after.0));
    }
    if before.1 != after.1 {
        wrong.push("the balances changed".to_owned());
    }
    // The server still answers, on a new connection.
    let good = Raw::new("GET", &format!("{}/v1/getAllVoices?limit=1", api(mock)))
        .header("Authorization", KEY);
    match exchange(mock.addr(), &good, ANSWER_TIMEOUT).await {
        Ok(a) if a.status == 200 => {}
        Ok(a) => wrong.push(format!("the next request got {}: {}", a.status, a.text())),
        Err(e) => wrong.push(format!("the next request failed: {e}")),
    }
    if wrong.is_empty() {
        Ok((answer.status, error_text(&answer).unwrap_or_default()))
    } else {
        Err(format!("{} [{}]", wrong.join("; "), answer.text()))
    }
}

/// The error text of an answer in the API's format: `success: false` and a non-empty text in
/// `error` or, on the operations whose documented errors carry it there, `message` (the spec's
/// `Error` schema: "The Cover endpoint puts its text in `error`, other endpoints in `message`").
fn error_text(answer: &RawAnswer) -> Result<String, String> {
    let Some(json) = answer.json() else {
        return Err(format!("the body is not JSON: {:?}", answer.text()));
    };
    if answer
        .header("content-type")
        .is_none_or(|t| !t.starts_with("application/json"))
    {
        return Err(format!(
            "Content-Type {:?} for a JSON body",
            answer.header("content-type")
        ));
    }
    if json["success"] != false {
        return Err(format!("success is not false: {json}"));
    }
    let text = json["error"]
        .as_str()
        .or_else(|| json["message"].as_str())
        .unwrap_or_default();
    if text.trim().is_empty() {
        return Err(format!("no error text: {json}"));
    }
    Ok(text.to_owned())
}

/// The spec's base path on `mock`: `/api/public`.
fn api(mock: &MockServer) -> String {
    mock.base_url()
        .strip_prefix(mock.origin())
        .unwrap_or_default()
        .to_owned()
}

/// The suite's mock: any key, a frozen clock, a small upload limit and a short body timeout.
async fn hostile_mock() -> MockServer {
    mock(
        MockConfig::new()
            .seed(41)
            .max_upload_bytes(MAX_UPLOAD)
            .body_timeout(BODY_TIMEOUT),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_kind_of_hostile_input_gets_its_documented_answer() {
    let started = Instant::now();
    let mock = hostile_mock().await;
    // A completed conversion for the result-file rows, and a balance of the suite's key.
    let task = crate::common::cover(
        &mock,
        Some(KEY),
        crate::common::url_form("Drake", URL),
        None,
    )
    .await;
    assert_eq!(task.0, 200, "{}", task.1);
    let task_id = crate::common::str_of(&task.1, "task_id");
    let done = mock.state().complete_task(task_id).expect("completed");
    let ctx = Ctx {
        api: api(&mock),
        done: done.conversion_id.to_string(),
    };
    let kinds = kinds(&ctx);
    let mut failures = Vec::new();
    let mut table = String::new();
    for kind in &kinds {
        let at = Instant::now();
        let result = check(&mock, kind).await;
        let took = at.elapsed();
        match &result {
            Ok((status, text)) => table.push_str(&format!(
                "{status}  {:<56} {took:>7.0?}  {}\n",
                kind.name,
                text.chars().take(110).collect::<String>()
            )),
            Err(why) => {
                table.push_str(&format!("FAIL {:<56} {took:>7.0?}\n", kind.name));
                failures.push(format!("{}: {why}", kind.name));
            }
        }
    }
    eprintln!(
        "{} kinds of hostile input in {:.1?}:\n{table}",
        kinds.len(),
        started.elapsed()
    );
    assert!(
        failures.is_empty(),
        "{} of {} kinds went wrong:\n{}",
        failures.len(),
        kinds.len(),
        failures.join("\n")
    );
    assert!(kinds.len() >= 40, "only {} kinds", kinds.len());
}

/// Sends `request` and expects a 200.
async fn accepted(mock: &MockServer, request: Raw) -> RawAnswer {
    let answer = exchange(mock.addr(), &request, ANSWER_TIMEOUT)
        .await
        .expect("an answer");
    assert_eq!(answer.status, 200, "{}", answer.text());
    answer
}

/// What looks hostile but is schema-valid is accepted, as the spec and FastAPI read it: the
/// integer edges (`+3`, `-0`, leading zeros), U+0000 inside a string (`type: string` allows any
/// character; the mock answers it back as JSON's `\u0000`), and a key of exactly 256 visible
/// bytes.
#[tokio::test]
async fn schema_valid_edges_are_accepted() {
    let mock = hostile_mock().await;
    let api = api(&mock);
    let cover = |body: Vec<u8>, content_type: &str| {
        Raw::new("POST", &format!("{api}/v1/Cover"))
            .header("Authorization", KEY)
            .header("Content-Type", content_type)
            .body(body)
    };
    for (text, pitch) in [("+3", 3), ("-0", 0), ("007", 7), ("-12", -12), ("12", 12)] {
        let form = multipart(
            B,
            &[
                part("voice_id", "Drake"),
                part("audio_url", URL),
                part("pitch", text),
            ],
            true,
        );
        accepted(&mock, cover(form, &multipart_type(B))).await;
        let task = mock.state().tasks().pop().expect("a task");
        assert_eq!(task.pitch, pitch, "pitch {text:?}");
    }
    let with_nul = multipart(
        B,
        &[part("voice_id", "Dr\0ake"), part("audio_url", URL)],
        true,
    );
    let answer = accepted(&mock, cover(with_nul, &multipart_type(B))).await;
    let task_id = answer.json().expect("JSON")["task_id"]
        .as_str()
        .expect("a task_id")
        .to_owned();
    let by_id = Raw::new(
        "GET",
        &format!("{api}/v1/byId?conversionType=COVER&task_id={task_id}"),
    )
    .header("Authorization", KEY);
    let polled = accepted(&mock, by_id).await;
    assert!(polled.json().is_some(), "{}", polled.text());
    assert_eq!(
        mock.state().task(&task_id).map(|t| t.voice_id),
        Some("Dr\0ake".to_owned())
    );
    accepted(
        &mock,
        cover(
            format!("voice_id=Dr%00ake&audio_url={URL}").into_bytes(),
            "application/x-www-form-urlencoded",
        ),
    )
    .await;
    let search =
        Raw::new("GET", &format!("{api}/v1/searchVoices?query=a%00")).header("Authorization", KEY);
    accepted(&mock, search).await;
    let longest = "k".repeat(256);
    let voices = Raw::new("GET", &format!("{api}/v1/getAllVoices?limit=1"))
        .header("Authorization", &longest);
    accepted(&mock, voices).await;
}

/// A client that shuts down its sending side once the request is out (`nc -N`, some HTTP/1.0
/// clients) still gets its answer, every time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_closed_clients_get_their_answer() {
    let mock = hostile_mock().await;
    let api = api(&mock);
    let voices = Raw::new("GET", &format!("{api}/v1/getAllVoices?limit=1"))
        .header("Authorization", KEY)
        .half_close();
    let cover = Raw::new("POST", &format!("{api}/v1/Cover"))
        .header("Authorization", KEY)
        .header("Content-Type", multipart_type(B))
        .body(good_form())
        .half_close();
    for (what, request) in [("getAllVoices", &voices), ("Cover", &cover)] {
        let mut answered = 0;
        let mut failures = Vec::new();
        for _ in 0..20 {
            match exchange(mock.addr(), request, ANSWER_TIMEOUT).await {
                Ok(a) if a.status == 200 => answered += 1,
                Ok(a) => failures.push(format!("{}: {}", a.status, a.text())),
                Err(e) => failures.push(e),
            }
        }
        assert_eq!(answered, 20, "{what}: {failures:?}");
    }
    assert_eq!(mock.state().task_count(), 20);
}
