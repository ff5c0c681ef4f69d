//! The peak-RSS measurement: the mock's binary, sent a 1 GiB upload (`--upload-mib`), must stream
//! it without holding it; then the same over its `--max-upload-bytes`, which it must refuse.

use std::net::SocketAddr;
use std::time::Duration;

use axum::http::StatusCode;
use musicgpt_cover_mock::ADMIN_PATH;

use crate::Part;
use crate::common::mib;
use crate::common::mock::{Memory, Mock, binary, command, memory};
use crate::common::spec::api_path;
use crate::options::Options;
use crate::request::probe;
use crate::scenario::Scenario;
use crate::setup::{http_client, runtime};
use crate::upload::{Framing, upload, upload_raw, within};
use crate::verdict::Verdict;

/// The most a 1 GiB upload may add to the mock's peak RSS.
pub(crate) const RSS_TARGET_BYTES: u64 = 64 << 20;

/// The size of the last request's `audio_file` as the mock's journal recorded it (the bytes it
/// counted, up to where it stopped reading).
pub(crate) async fn counted(
    client: &reqwest::Client,
    addr: SocketAddr,
) -> Result<Option<u64>, String> {
    let url = format!("http://{addr}{ADMIN_PATH}/journal?last=1");
    let journal: serde_json::Value = client
        .get(&url)
        .send()
        .await
        .map_err(|e| format!("{url}: {e}"))?
        .json()
        .await
        .map_err(|e| format!("{url}: {e}"))?;
    Ok(journal["entries"][0]["request"]["form"]["files"][0]["size"].as_u64())
}

/// The mock's binary sent an upload of `--upload-mib`, then the same over a lower limit, which it
/// must refuse with 413; its targets are the peak RSS growth of each.
pub(crate) fn measure(o: &Options) -> Result<Part, String> {
    let binary = binary()?;
    let runtime = runtime("bench-upload", 1)?;
    let client = http_client()?;
    let (upload_mib, limit_mib, target_mib) = (o.upload_mib, o.limit_mib, RSS_TARGET_BYTES >> 20);
    let size = upload_mib << 20;
    println!(
        "\n== peak RSS: a {upload_mib} MiB audio_file streamed to the mock's binary ==\n\
         binary {}\n\
         RSS from /proc/PID/status: VmRSS now, VmHWM the peak; growth = peak after - RSS before;\n\
         \"before\" is after one URL-only Cover, so first-request set-up is not counted",
        binary.display()
    );
    println!(
        "  {:<40} {:>6} {:>8} {:>9} {:>7} {:>7} {:>9}",
        "upload", "status", "RSS MiB", "peak MiB", "growth", "time s", "sent MiB"
    );
    let row = |label: &str,
               status: &str,
               m: Memory,
               growth: Option<u64>,
               took: Option<Duration>,
               sent: Option<u64>| {
        let or_blank = |v: Option<String>| v.unwrap_or_default();
        println!(
            "  {label:<40} {status:>6} {:>8.1} {:>9.1} {:>7} {:>7} {:>9}",
            mib(m.rss),
            mib(m.hwm),
            or_blank(growth.map(|g| format!("{:.1}", mib(g)))),
            or_blank(took.map(|t| format!("{:.2}", t.as_secs_f64()))),
            or_blank(sent.map(|s| format!("{:.0}", mib(s)))),
        );
    };
    // The mock's binary with `args`, sent a URL-only Cover (so the first request's one-time
    // allocations are not counted as the upload's), and its RSS then.
    let start = |args: &[&str], limit: u64| -> Result<(Mock, String, Memory), String> {
        let mock = Mock::start(command(&binary, 0, args))?;
        let url = format!("http://{}{}", mock.addr, api_path("cover")?);
        runtime.block_on(probe(&client, "POST", &url, Scenario::Url.body()?))?;
        let before = mock.memory()?;
        row(
            &format!("before (limit {limit} MiB)"),
            "",
            before,
            None,
            None,
            None,
        );
        Ok((mock, url, before))
    };
    let mut verdicts = Vec::new();

    // Accepted: under the default --max-upload-bytes (2 GiB).
    let (mock, url, before) = start(&[], 2048)?;
    let (status, answer, took) = runtime.block_on(within(upload(&client, &url, size)))?;
    let after = mock.memory()?;
    let received = runtime.block_on(counted(&client, mock.addr))?;
    drop(mock);
    let growth = after.hwm.saturating_sub(before.rss);
    let label = format!("{upload_mib} MiB, Content-Length, reqwest");
    row(
        &label,
        status.as_str(),
        after,
        Some(growth),
        Some(took),
        Some(size),
    );
    if status != StatusCode::OK {
        return Err(format!(
            "the {upload_mib} MiB upload was answered {status}: {answer}"
        ));
    }
    if received != Some(size) {
        return Err(format!(
            "the mock's journal says it received {received:?} bytes of audio_file, not {size}"
        ));
    }
    let seconds = took.as_secs_f64();
    println!(
        "  (the mock counted all {size} bytes, {:.0} MiB/s)",
        mib(size) / seconds
    );
    let (rss, peak, grown) = (mib(before.rss), mib(after.hwm), mib(growth));
    let mut md = format!(
        "The mock's release binary (a child process, `--addr 127.0.0.1:0`) is sent a Cover whose \
         {upload_mib} MiB `audio_file` is generated as it is sent; RSS from `/proc/PID/status` (`VmRSS` \
         before, after one URL-only Cover; `VmHWM`, the peak, after). Then a mock with \
         `--max-upload-bytes` of {limit_mib} MiB is sent the same file twice over raw TCP and must answer \
         413.\n\n| upload | answer | RSS before | peak after | **growth** | time |\n|---|---|---|---|---|---|\n\
         | {upload_mib} MiB, `Content-Length`, reqwest | 200 | {rss:.1} MiB | {peak:.1} MiB | **{grown:.1} MiB** | {seconds:.2} s |\n",
    );
    verdicts.push(Verdict::judged(
        format!("peak RSS, {upload_mib} MiB upload"),
        growth < RSS_TARGET_BYTES,
        format!(
            "peak {peak:.1} MiB, {grown:.1} MiB over the {rss:.1} MiB before (target < {target_mib} MiB)"
        ),
    ));

    // Refused: the same file to a mock with a lower limit. Chunked, the mock learns the size by
    // counting and must answer 413 once past the limit; with Content-Length it refuses before
    // reading the body.
    let (mock, _, before) = start(
        &["--max-upload-bytes", &(limit_mib << 20).to_string()],
        limit_mib,
    )?;
    let mut refused_ok = true;
    let mut details = Vec::new();
    for (framing, label) in [
        (Framing::Chunked, "chunked"),
        (Framing::Declared, "Content-Length"),
    ] {
        let answer = runtime.block_on(within(upload_raw(mock.addr, size, framing)))?;
        let after = mock.memory()?;
        let received = runtime.block_on(counted(&client, mock.addr))?;
        let growth = after.hwm.saturating_sub(before.rss);
        row(
            &format!("{upload_mib} MiB, {label}, raw TCP"),
            &answer.status.to_string(),
            after,
            Some(growth),
            Some(answer.took),
            Some(answer.sent),
        );
        let (status, body) = (answer.status, &answer.body);
        if status != 413 {
            return Err(format!(
                "the {upload_mib} MiB upload ({label}) over a {limit_mib} MiB limit was answered {status}, not 413: {body}"
            ));
        }
        println!(
            "  (the mock read {} of audio_file before refusing)",
            received.map_or_else(|| "none".to_owned(), |n| format!("{n} bytes"))
        );
        let (sent, seconds) = (mib(answer.sent), answer.took.as_secs_f64());
        let (rss, peak, grown) = (mib(before.rss), mib(after.hwm), mib(growth));
        md.push_str(&format!(
            "| {upload_mib} MiB, {label}, over a {limit_mib} MiB limit | {status} after {sent:.0} MiB sent | {rss:.1} MiB | {peak:.1} MiB | **{grown:.1} MiB** | {seconds:.2} s |\n",
        ));
        refused_ok &= growth < RSS_TARGET_BYTES;
        details.push(format!(
            "{label}: 413 after {seconds:.2} s and {sent:.0} MiB sent, peak {grown:.1} MiB over"
        ));
    }
    drop(mock);
    verdicts.push(Verdict::judged(
        format!("413 for {upload_mib} MiB over --max-upload-bytes {limit_mib} MiB"),
        refused_ok,
        format!("{} (target < {target_mib} MiB)", details.join("; ")),
    ));
    if let Ok(own) = memory(std::process::id()) {
        println!(
            "  the uploader (this process) peaked at {:.1} MiB",
            mib(own.hwm)
        );
    }
    md.push('\n');
    Part::new(
        "mock-upload",
        "The mock's memory during a 1 GiB upload",
        md,
        verdicts,
    )
}
