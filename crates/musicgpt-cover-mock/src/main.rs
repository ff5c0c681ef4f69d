//! The `musicgpt-cover-mock` binary: flags (each with an environment variable) onto
//! [`MockConfig`], then [`serve`] until Ctrl-C; `musicgpt-cover-mock proxy` serves the proxy mode
//! ([`serve_proxy`]) with the same server flags.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use musicgpt_cover_mock::config::{
    DEFAULT_BODY_TIMEOUT, DEFAULT_CREDITS, DEFAULT_HEADER_TIMEOUT, DEFAULT_JOURNAL_CAPACITY,
    DEFAULT_MAX_UPLOAD_BYTES, DEFAULT_MIN_BODY_RATE, DEFAULT_SHUTDOWN_GRACE, DEFAULT_TASK_CAPACITY,
    DEFAULT_TIME_SCALE, DEFAULT_WEBHOOK_ATTEMPTS,
};
use musicgpt_cover_mock::{
    ApiKey, ClockMode, MockConfig, MockState, ProxyConfig, VIOLATIONS_HEADER, api_base_path,
    default_addr, default_upstream, describe, serve_proxy, serve_with_state,
};
use musicgpt_cover_mock::{FailRate, Latency};
use tracing_subscriber::EnvFilter;

/// A stateful mock of the MusicGPT Cover API, driven by openapi.yaml.
#[derive(Debug, Parser)]
#[command(
    name = "musicgpt-cover-mock",
    version,
    about,
    long_about = None,
    args_conflicts_with_subcommands = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    args: Args,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Forward the API's requests to the real API (or --upstream), checking each request and
    /// answer against openapi.yaml; violations are reported in the x-contract-violations header
    /// and the journal.
    // The mock's own flags (tasks, keys, webhooks, faults) are accepted but mean nothing to a
    // proxy: its help hides them.
    #[command(
        mut_arg("seed", |a| a.hide(true)),
        mut_arg("time_scale", |a| a.hide(true)),
        mut_arg("clock", |a| a.hide(true)),
        mut_arg("api_keys", |a| a.hide(true)),
        mut_arg("default_credits", |a| a.hide(true)),
        mut_arg("max_upload_bytes", |a| a.hide(true)),
        mut_arg("webhook_allow", |a| a.hide(true)),
        mut_arg("webhook_attempts", |a| a.hide(true)),
        mut_arg("webhook_timeout", |a| a.hide(true)),
        mut_arg("webhook_backoff", |a| a.hide(true)),
        mut_arg("task_capacity", |a| a.hide(true)),
        mut_arg("public_url", |a| a.hide(true)),
        mut_arg("latency", |a| a.hide(true)),
        mut_arg("fail_rates", |a| a.hide(true))
    )]
    Proxy(ProxyArgs),
}

/// The proxy's flags; the server flags (--addr, the timeouts, --journal-capacity,
/// --allow-remote, --admin-token, -v) work as for the mock.
#[derive(Debug, clap::Args)]
struct ProxyArgs {
    /// Base URL to forward to, the spec's paths appended (default: the spec's first server, the
    /// real API).
    #[arg(long, env = "MUSICGPT_PROXY_UPSTREAM", default_value_t = default_upstream())]
    upstream: String,
    /// Answer 502 with the list, in the API's error format, instead of an answer that breaks the
    /// spec (and refuse a request that does, without forwarding it).
    #[arg(long, env = "MUSICGPT_PROXY_STRICT")]
    strict: bool,
    #[command(flatten)]
    args: Args,
}

#[derive(Debug, clap::Args)]
struct Args {
    /// Address to listen on (keep it on loopback).
    #[arg(long, env = "MUSICGPT_MOCK_ADDR", default_value_t = default_addr())]
    addr: SocketAddr,
    /// Deterministic mode: ids and values from this seed; the clock starts frozen at
    /// 2026-01-01T00:00:00Z.
    #[arg(long, env = "MUSICGPT_MOCK_SEED")]
    seed: Option<u64>,
    /// A task finishes eta x SCALE seconds after it is accepted (0: at once).
    #[arg(long, env = "MUSICGPT_MOCK_TIME_SCALE", default_value_t = DEFAULT_TIME_SCALE)]
    time_scale: f64,
    /// `real` or `frozen` (default: frozen with --seed, real without).
    #[arg(long, env = "MUSICGPT_MOCK_CLOCK")]
    clock: Option<ClockMode>,
    /// Accept only these keys, KEY or KEY:CREDITS; repeat the flag, or separate with commas in
    /// the variable.
    #[arg(
        long = "api-key",
        env = "MUSICGPT_MOCK_API_KEYS",
        value_delimiter = ','
    )]
    api_keys: Vec<ApiKey>,
    /// Starting balance of keys given without one (and of every key when any key is accepted).
    #[arg(long, env = "MUSICGPT_MOCK_DEFAULT_CREDITS", default_value_t = DEFAULT_CREDITS)]
    default_credits: f64,
    /// Largest accepted audio_file, in bytes; larger ones get 413.
    #[arg(long, env = "MUSICGPT_MOCK_MAX_UPLOAD_BYTES", default_value_t = DEFAULT_MAX_UPLOAD_BYTES)]
    max_upload_bytes: u64,
    /// Also send webhooks to this host (loopback hosts are always allowed); repeatable.
    #[arg(
        long = "webhook-allow",
        env = "MUSICGPT_MOCK_WEBHOOK_ALLOW",
        value_delimiter = ','
    )]
    webhook_allow: Vec<String>,
    /// Attempts per webhook before giving up.
    #[arg(long, env = "MUSICGPT_MOCK_WEBHOOK_ATTEMPTS", default_value_t = DEFAULT_WEBHOOK_ATTEMPTS)]
    webhook_attempts: u32,
    /// Seconds one webhook attempt may take.
    #[arg(long, env = "MUSICGPT_MOCK_WEBHOOK_TIMEOUT", default_value_t = 5.0)]
    webhook_timeout: f64,
    /// Seconds before the second webhook attempt; doubles for each further one.
    #[arg(long, env = "MUSICGPT_MOCK_WEBHOOK_BACKOFF", default_value_t = 0.5)]
    webhook_backoff: f64,
    /// Requests the journal keeps.
    #[arg(long, env = "MUSICGPT_MOCK_JOURNAL_CAPACITY", default_value_t = DEFAULT_JOURNAL_CAPACITY)]
    journal_capacity: usize,
    /// Tasks the store keeps (finished ones evicted, oldest first, once their webhook is final;
    /// when none is, a new Cover gets 429).
    #[arg(long, env = "MUSICGPT_MOCK_TASK_CAPACITY", default_value_t = DEFAULT_TASK_CAPACITY)]
    task_capacity: usize,
    /// Origin written into result-file URLs (default: the address listened on).
    #[arg(long, env = "MUSICGPT_MOCK_PUBLIC_URL")]
    public_url: Option<String>,
    /// Seconds a client may take to send a request's head; idle connections close after as long.
    #[arg(long, env = "MUSICGPT_MOCK_HEADER_TIMEOUT", default_value_t = DEFAULT_HEADER_TIMEOUT.as_secs_f64())]
    header_timeout: f64,
    /// Longest pause inside a request body, in seconds, and the grace before --min-body-rate
    /// applies; a body that breaks either gets 408.
    #[arg(long, env = "MUSICGPT_MOCK_BODY_TIMEOUT", default_value_t = DEFAULT_BODY_TIMEOUT.as_secs_f64())]
    body_timeout: f64,
    /// Bytes a second a request body must average after its first --body-timeout seconds.
    #[arg(long, env = "MUSICGPT_MOCK_MIN_BODY_RATE", default_value_t = DEFAULT_MIN_BODY_RATE)]
    min_body_rate: u64,
    /// Seconds a stopping server waits for the requests in flight.
    #[arg(long, env = "MUSICGPT_MOCK_SHUTDOWN_GRACE", default_value_t = DEFAULT_SHUTDOWN_GRACE.as_secs_f64())]
    shutdown_grace: f64,
    /// Allow --addr to be an address other machines can reach (then the admin API requires a token).
    #[arg(long, env = "MUSICGPT_MOCK_ALLOW_REMOTE")]
    allow_remote: bool,
    /// The token the admin API requires (Authorization: Bearer TOKEN); generated and printed when
    /// --allow-remote is given without one. At least 16 visible characters.
    #[arg(long, env = "MUSICGPT_MOCK_ADMIN_TOKEN")]
    admin_token: Option<String>,
    /// Delay before every answer of the API's operations: 250ms, 1.5s, or a range drawn
    /// uniformly, 200ms..1.5s (changeable at /__admin/faults).
    #[arg(long, env = "MUSICGPT_MOCK_LATENCY")]
    latency: Option<Latency>,
    /// Fail this share of an operation's requests: OPERATION=RATE[:STATUS] (cover=0.2:500), or
    /// RATE for every operation; without a status, a documented 5xx or 429 is drawn. Repeat the
    /// flag, or separate with commas in the variable.
    #[arg(
        long = "fail-rate",
        env = "MUSICGPT_MOCK_FAIL_RATES",
        value_delimiter = ','
    )]
    fail_rates: Vec<FailRate>,
    /// Log more: -v requests and webhooks, -vv everything (RUST_LOG overrides).
    #[arg(short, long, action = clap::ArgAction::Count)]
    verbose: u8,
}

fn seconds(name: &str, s: f64) -> Result<Duration, String> {
    Duration::try_from_secs_f64(s)
        .map_err(|_| format!("--{name} must be a number of seconds of at least 0, got {s}"))
}

fn config(args: &Args) -> Result<MockConfig, String> {
    let mut config = MockConfig::new()
        .time_scale(args.time_scale)
        .api_keys(args.api_keys.iter().cloned())
        .default_credits(args.default_credits)
        .max_upload_bytes(args.max_upload_bytes)
        .webhook_attempts(args.webhook_attempts)
        .webhook_timeout(seconds("webhook-timeout", args.webhook_timeout)?)
        .webhook_backoff(seconds("webhook-backoff", args.webhook_backoff)?)
        .journal_capacity(args.journal_capacity)
        .task_capacity(args.task_capacity)
        .header_timeout(seconds("header-timeout", args.header_timeout)?)
        .body_timeout(seconds("body-timeout", args.body_timeout)?)
        .min_body_rate(args.min_body_rate)
        .shutdown_grace(seconds("shutdown-grace", args.shutdown_grace)?)
        .allow_remote(args.allow_remote);
    if let Some(seed) = args.seed {
        config = config.seed(seed);
    }
    if let Some(clock) = args.clock {
        config = config.clock(clock);
    }
    for host in &args.webhook_allow {
        config = config.webhook_allow(host.clone());
    }
    if let Some(url) = &args.public_url {
        config = config.public_url(url.clone());
    }
    if let Some(token) = &args.admin_token {
        config = config.admin_token(token.clone());
    }
    if let Some(latency) = args.latency {
        config = config.latency_range(latency);
    }
    config = config.fail_rates(args.fail_rates.iter().cloned());
    if !args.addr.ip().is_loopback() && !args.allow_remote {
        return Err(format!(
            "--addr {} is reachable from other machines, and the admin API's journal holds every key sent; listen on 127.0.0.1, or pass --allow-remote (the admin API then requires a token)",
            args.addr
        ));
    }
    Ok(config)
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let (args, proxy) = match cli.command {
        Some(Command::Proxy(p)) => (p.args, Some(ProxyConfig::new(p.upstream).strict(p.strict))),
        None => (cli.args, None),
    };
    if let Some(Err(e)) = proxy.as_ref().map(ProxyConfig::check) {
        eprintln!("error: {e}");
        return ExitCode::from(2);
    }
    // The audio decoder logs an error for every upload that is not audio; the task's record
    // already says why, so its crates stay quiet unless everything is asked for.
    const QUIET_DECODER: &str = "symphonia_core=off,symphonia_bundle_mp3=off,symphonia_bundle_flac=off,symphonia_format_riff=off,symphonia_format_ogg=off,symphonia_codec_vorbis=off,symphonia_codec_pcm=off";
    let level = match args.verbose {
        0 => format!("warn,{QUIET_DECODER}"),
        1 => format!("warn,musicgpt_cover_mock=info,{QUIET_DECODER}"),
        _ => "debug".to_owned(),
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(level)),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();

    let config = match config(&args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let state = match MockState::new(config) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let listener = match tokio::net::TcpListener::bind(args.addr).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!(
                "error: cannot listen on {}: {e} (pick another with --addr or MUSICGPT_MOCK_ADDR)",
                args.addr
            );
            return ExitCode::FAILURE;
        }
    };
    let origin = match listener.local_addr() {
        Ok(a) => format!("http://{a}"),
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    if !args.addr.ip().is_loopback() {
        state.require_admin_token();
        eprintln!(
            "warning: listening on {}, reachable from other machines (--allow-remote); the admin API requires the token printed below, and webhooks still go to loopback hosts only unless --webhook-allow names others",
            args.addr
        );
    }
    if let Some(proxy) = proxy {
        println!(
            "musicgpt-cover-mock proxy on {origin}{base} -> {upstream}{strict}\n  violations: the {VIOLATIONS_HEADER} header of each answer, and the journal ({origin}/__admin/journal); the key is journalled redacted",
            base = api_base_path(),
            upstream = proxy.upstream(),
            strict = if proxy.is_strict() {
                " (strict: 502 on a violation)"
            } else {
                ""
            },
        );
        return match serve_proxy(listener, state, &proxy, shutdown_signal()).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::FAILURE
            }
        };
    }
    println!("{}", describe(&state, &origin));

    match serve_with_state(listener, state, shutdown_signal()).await {
        Ok(report) => {
            if report.pending_webhooks.is_empty() {
                println!("Stopped; no webhooks pending.");
            } else {
                println!(
                    "Stopped; {} webhook(s) not delivered:",
                    report.pending_webhooks.len()
                );
                for p in &report.pending_webhooks {
                    println!(
                        "  task {} -> {} ({}, {} attempt(s))",
                        p.task_id, p.url, p.state, p.attempts
                    );
                }
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
