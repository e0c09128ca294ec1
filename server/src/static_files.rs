//! `/pkg`: the page's WASM, JS and CSS. Sent precompressed (brotli or gzip, whichever the browser
//! accepts) when `scripts/precompress.sh` left copies, else compressed per request by the
//! compression layer. The names are fixed, so browsers revalidate (`no-cache` +
//! `Last-Modified` → 304) rather than cache blindly.
use axum::http::{header, HeaderValue};
use axum::Router;
use std::path::Path;
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;

pub fn router<S: Clone + Send + Sync + 'static>(pkg_dir: &Path) -> Router<S> {
    drop_stale_copies(pkg_dir);
    let files = ServeDir::new(pkg_dir)
        .precompressed_br()
        .precompressed_gzip();
    Router::new()
        .nest_service("/pkg", files)
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-cache"),
        ))
}

/// A `.br`/`.gz` copy older than its file is from an earlier build (e.g. `cargo leptos watch`
/// rebuilt the WASM): serving it would ship old code, so it goes.
fn drop_stale_copies(pkg_dir: &Path) {
    let Ok(entries) = std::fs::read_dir(pkg_dir) else {
        return;
    };
    let modified = |path: &Path| path.metadata().and_then(|m| m.modified()).ok();
    for entry in entries.flatten() {
        let copy = entry.path();
        let is_copy = matches!(copy.extension().and_then(|e| e.to_str()), Some("br" | "gz"));
        if !is_copy {
            continue;
        }
        let original = copy.with_extension("");
        let stale = match (modified(&copy), modified(&original)) {
            (Some(copy_time), Some(original_time)) => copy_time < original_time,
            (_, None) => true,
            (None, Some(_)) => false,
        };
        if stale {
            tracing::info!(copy = %copy.display(), "removing a precompressed copy older than its file");
            let _ = std::fs::remove_file(&copy);
        }
    }
}
