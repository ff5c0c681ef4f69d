// Early answers reach Node's own fetch (undici): every answer the mock gives before it has read a
// request's whole body (401, 403, a `Prefer` status, a scenario, 413, a form error found early)
// arrives as that answer, never as `TypeError: fetch failed` (EPIPE, ECONNRESET), for bodies of
// several sizes, each try followed by a normal Cover on the same keep-alive pool.
//
// Run by the contract tests (tests/contract/early_answers.rs), which start the servers and say
// where they are in the environment:
//   EARLY_TARGETS  JSON: [{"name", "base", "admin"}]: the API base URLs to drive (the mock, the
//                  validating proxy in front of a mock) and the admin API that sets scenarios
//   EARLY_SMALL    the API base URL of a mock whose --max-upload-bytes is EARLY_SMALL_LIMIT
//   EARLY_TRIES    tries per case and size (20)
import { test } from "node:test";
import assert from "node:assert/strict";

const targets = JSON.parse(process.env.EARLY_TARGETS ?? "[]");
const small = process.env.EARLY_SMALL;
const smallLimit = Number(process.env.EARLY_SMALL_LIMIT ?? "0");
const tries = Number(process.env.EARLY_TRIES ?? "20");
const KEY = "node-fetch-key";
const SIZES = [0, 16 * 1024, 256 * 1024, 8 * 1024 * 1024];
// One blob per size, made once: the bytes do not matter, their count does.
const blobs = new Map(SIZES.map((size) => [size, new Blob([new Uint8Array(size)])]));

assert.ok(targets.length > 0, "EARLY_TARGETS names no server");

/// A Cover form: `first` fields, then voice_id, then the upload of `size` bytes (a URL for 0).
function form(size, first = {}) {
  const body = new FormData();
  for (const [name, value] of Object.entries(first)) body.set(name, value);
  body.set("voice_id", "Drake");
  if (size === 0) body.set("audio_url", "https://www.youtube.com/watch?v=jGflUbPQfW8");
  else body.set("audio_file", blobs.get(size), "song.wav");
  return body;
}

/// Each early answer: the headers and the form's leading fields that cause it, the status it is,
/// and a step to run before each try (a scenario is used up by the request it answers).
const CASES = [
  { name: "no key", headers: {}, status: 401 },
  { name: "a Bearer key", headers: { Authorization: `Bearer ${KEY}` }, status: 403 },
  { name: "Prefer: code=402", headers: { Authorization: KEY, Prefer: "code=402" }, status: 402 },
  { name: "Prefer: code=500", headers: { Authorization: KEY, Prefer: "code=500" }, status: 500 },
  {
    name: "a 402 scenario",
    headers: { Authorization: KEY },
    status: 402,
    before: (target) =>
      fetch(`${target.admin}/scenarios`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ operation: "cover", respond: { status: 402 } }),
      }).then(async (r) => assert.equal(r.status, 201, await r.text())),
  },
  {
    name: "a form error found early (pitch 99 before the upload)",
    headers: { Authorization: KEY },
    first: { pitch: "99" },
    status: 422,
  },
];

/// Sends one request; an answer is `{status}`, a lost one `{lost: cause}`.
async function send(base, headers, body) {
  try {
    const response = await fetch(`${base}/v1/Cover`, { method: "POST", headers, body });
    const text = await response.text();
    return { status: response.status, text };
  } catch (error) {
    return { lost: `${error.message}: ${error.cause?.code ?? error.cause?.message ?? ""}` };
  }
}

/// `tries` early answers, each followed by a normal Cover; what went wrong, as lines.
async function drive(target, { headers, first, status, before }, size, base = target.base) {
  const problems = [];
  for (let i = 0; i < tries; i++) {
    if (before) await before(target);
    const early = await send(base, headers, form(size, first));
    if (early.lost) problems.push(`try ${i}: lost (${early.lost})`);
    else if (early.status !== status) problems.push(`try ${i}: ${early.status}, not ${status}: ${early.text}`);
    const normal = await send(base, { Authorization: KEY }, form(0));
    if (normal.lost) problems.push(`try ${i}: the normal Cover after it was lost (${normal.lost})`);
    else if (normal.status !== 200) problems.push(`try ${i}: the normal Cover after it got ${normal.status}: ${normal.text}`);
  }
  return problems;
}

for (const target of targets) {
  for (const kind of CASES) {
    for (const size of SIZES) {
      test(`${target.name}: ${kind.name}, ${size} bytes`, async () => {
        const problems = await drive(target, kind, size);
        assert.deepEqual(problems, [], `${problems.length} of ${tries} tries went wrong`);
      });
    }
  }
}

if (small) {
  for (const size of SIZES.filter((s) => s > smallLimit)) {
    test(`413 (an upload over --max-upload-bytes ${smallLimit}), ${size} bytes`, async () => {
      const problems = await drive(
        { base: small },
        { headers: { Authorization: KEY }, status: 413 },
        size,
      );
      assert.deepEqual(problems, [], `${problems.length} of ${tries} tries went wrong`);
    });
  }
}
