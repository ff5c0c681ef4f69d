//! The `musicgpt-cover-mock` binary: the flags [`MockConfig`] declares (each with an environment
//! variable) plus `--addr` and `-v`, then [`serve`] until Ctrl-C; `musicgpt-cover-mock proxy`
//! serves the proxy mode ([`serve_proxy`]) with the same server flags.

use std::net::SocketAddr;
use std::process::ExitCode;

use clap::Parser;
use musicgpt_cover_mock::{
    ADMIN_PATH, MockConfig, MockState, ProxyConfig, VIOLATIONS_HEADER, api_base_path, default_addr,
    default_upstream, describe, serve_proxy, serve_with_state,
};
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
    #[command(mut_args(|arg| {
        let hide = MockConfig::is_mock_only(&arg);
        arg.hide(hide)
    }))]
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
    /// Write every exchange forwarded to DIR, one JSON file each (the key redacted, uploads by
    /// size and hash), for review and for `musicgpt-cover-mock --replay DIR`.
    #[arg(long, env = "MUSICGPT_PROXY_RECORD", value_name = "DIR")]
    record: Option<std::path::PathBuf>,
    #[command(flatten)]
    args: Args,
}

/// The binary's own flags around the settings [`MockConfig`] declares.
#[derive(Debug, clap::Args)]
struct Args {
    /// Address to listen on (keep it on loopback).
    #[arg(long, env = "MUSICGPT_MOCK_ADDR", default_value_t = default_addr())]
    addr: SocketAddr,
    #[command(flatten)]
    config: MockConfig,
    /// Log more: -v requests and webhooks, -vv everything (RUST_LOG overrides).
    #[arg(short, long, action = clap::ArgAction::Count)]
    verbose: u8,
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

/// Why the binary stops early: the exit code, and the error it prints.
struct Failed(ExitCode, String);

/// A setting that cannot be used: exit code 2.
fn usage(e: impl std::fmt::Display) -> Failed {
    Failed(ExitCode::from(2), e.to_string())
}

/// A server that cannot run: exit code 1.
fn failure(e: impl std::fmt::Display) -> Failed {
    Failed(ExitCode::FAILURE, e.to_string())
}

#[tokio::main]
async fn main() -> ExitCode {
    run().await.unwrap_or_else(|Failed(code, e)| {
        eprintln!("error: {e}");
        code
    })
}

async fn run() -> Result<ExitCode, Failed> {
    let cli = Cli::parse();
    let (args, proxy) = match cli.command {
        Some(Command::Proxy(p)) => {
            let mut proxy = ProxyConfig::new(p.upstream).strict(p.strict);
            if let Some(dir) = p.record {
                proxy = proxy.record(dir);
            }
            (p.args, Some(proxy))
        }
        None => (cli.args, None),
    };
    if let Some(warning) = proxy.as_ref().and_then(ProxyConfig::upstream_warning) {
        eprintln!("warning: {warning}");
    }
    if let Some(proxy) = &proxy {
        proxy.check().map_err(usage)?;
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

    args.config.check_addr(args.addr).map_err(usage)?;
    let state = MockState::new(args.config).map_err(usage)?;
    let listener = (tokio::net::TcpListener::bind(args.addr).await).map_err(|e| {
        failure(format!(
            "cannot listen on {}: {e} (pick another with --addr or MUSICGPT_MOCK_ADDR)",
            args.addr
        ))
    })?;
    let origin = format!("http://{}", listener.local_addr().map_err(failure)?);
    if !args.addr.ip().is_loopback() {
        state.require_admin_token();
        eprintln!(
            "warning: listening on {}, reachable from other machines (--allow-remote); the admin API requires the token printed below, and webhooks still go to loopback hosts only unless --webhook-allow names others",
            args.addr
        );
    }
    if let Some(proxy) = proxy {
        println!(
            "musicgpt-cover-mock proxy on {origin}{base} -> {upstream}{strict}\n  violations: the {VIOLATIONS_HEADER} header of each answer, and the journal ({origin}{ADMIN_PATH}/journal); the key is journalled redacted{record}",
            base = api_base_path(),
            upstream = proxy.upstream(),
            strict = if proxy.is_strict() {
                " (strict: 502 on a violation)"
            } else {
                ""
            },
            record = proxy
                .recording()
                .map(|dir| format!("\n  recording every exchange to {}", dir.display()))
                .unwrap_or_default(),
        );
        serve_proxy(listener, state, &proxy, shutdown_signal())
            .await
            .map_err(failure)?;
        return Ok(ExitCode::SUCCESS);
    }
    println!("{}", describe(&state, &origin));

    let report = (serve_with_state(listener, state, shutdown_signal()).await).map_err(failure)?;
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
    Ok(ExitCode::SUCCESS)
}
