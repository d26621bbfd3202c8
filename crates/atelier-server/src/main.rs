//! The `atelier` command.

use anyhow::Context;
use atelier_server::config::{Config, ServeArgs};
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "atelier",
    version,
    about = "Atelier collaborative editing server"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run the sync server (and the gallery).
    Serve(ServeArgs),
}

fn init_logs(format: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("ATELIER_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    if format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutdown requested; flushing documents");
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.cmd {
        Cmd::Serve(args) => {
            let format = args.log_format.clone().unwrap_or_else(|| "text".into());
            init_logs(&format);
            let cfg = Config::resolve(args).context("invalid configuration")?;
            atelier_server::serve(cfg, shutdown_signal()).await?;
            Ok(())
        }
    }
}
