//! The sandbox on its own: `SCANPAY_SANDBOX_ADDR` (default 127.0.0.1:3100), public URL
//! `SCANPAY_PUBLIC_URL` (default http://<addr>), store `sqlite://data/sandbox.db` unless
//! `SCANPAY_SANDBOX_DATABASE_URL` says otherwise; the other variables as `SandboxConfig::from_env`.
use sandbox::{Sandbox, SandboxConfig};
use std::net::SocketAddr;

const DEFAULT_ADDR: &str = "127.0.0.1:3100";
const DEFAULT_DATABASE_URL: &str = "sqlite://data/sandbox.db";

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let addr_text =
        std::env::var("SCANPAY_SANDBOX_ADDR").unwrap_or_else(|_| DEFAULT_ADDR.to_string());
    let addr: SocketAddr = addr_text
        .parse()
        .map_err(|e| format!("SCANPAY_SANDBOX_ADDR={addr_text:?}: {e}"))?;
    let public_url =
        std::env::var("SCANPAY_PUBLIC_URL").unwrap_or_else(|_| format!("http://{addr}"));
    let config = SandboxConfig::from_env(&public_url, DEFAULT_DATABASE_URL)?;
    let sandbox = Sandbox::open(config).await?;
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let app: axum::Router = sandbox.router().merge(sandbox.root_router());
    tokio::spawn(sandbox.clone().run_workers());
    println!("scanpay sandbox listening on http://{addr} (credentials: {public_url}/sandbox/credentials)");
    axum::serve(listener, app).await?;
    Ok(())
}
