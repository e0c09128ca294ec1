//! `/pkg`: the page's WASM, JS and CSS. Sent precompressed (brotli or gzip, whichever the browser
//! accepts) when `scripts/precompress.sh` left copies, else compressed per request by the
//! compression layer. A release build names them with a content hash (cargo-leptos
//! `hash-files`): those names never change content, so browsers keep them for a year without
//! asking. Any other file keeps its name across builds and is revalidated (`no-cache` +
//! `Last-Modified` → 304).
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::Router;
use leptos::prelude::LeptosOptions;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tower_http::services::ServeDir;

const IMMUTABLE: &str = "public, max-age=31536000, immutable";
const REVALIDATE: &str = "no-cache";

/// File names (no directory) in `/pkg` that carry a content hash.
type HashedNames = Arc<HashSet<String>>;

/// The hashed names of this build's JS, WASM and CSS, when the build hashed them and they are
/// all there. cargo-leptos writes them to `hash.txt` (`js: <hash>` lines) next to the server
/// binary, where Leptos's `HydrationScripts` and `HashedStylesheet` read them too: a binary
/// built or run without it (`cargo test`, `cargo run`) uses the plain names.
pub fn hashed_pkg_files(options: &LeptosOptions) -> Option<HashSet<String>> {
    let hash_file = std::env::current_exe()
        .ok()?
        .parent()?
        .join(options.hash_file.as_ref());
    let text = std::fs::read_to_string(hash_file).ok()?;
    let names = names_in_hash_file(&options.output_name, &text);
    let pkg_dir = pkg_dir(options);
    (names.len() == 3 && names.iter().all(|name| pkg_dir.join(name).is_file())).then_some(names)
}

fn names_in_hash_file(output_name: &str, text: &str) -> HashSet<String> {
    text.lines()
        .filter_map(|line| line.split_once(':'))
        .map(|(ext, hash)| (ext.trim(), hash.trim()))
        .filter(|(ext, hash)| matches!(*ext, "js" | "wasm" | "css") && !hash.is_empty())
        .map(|(ext, hash)| format!("{output_name}.{hash}.{ext}"))
        .collect()
}

pub fn pkg_dir(options: &LeptosOptions) -> PathBuf {
    Path::new(options.site_root.as_ref()).join(options.site_pkg_dir.as_ref())
}

pub fn router<S: Clone + Send + Sync + 'static>(
    pkg_dir: &Path,
    hashed: HashSet<String>,
) -> Router<S> {
    drop_stale_copies(pkg_dir);
    let files = ServeDir::new(pkg_dir)
        .precompressed_br()
        .precompressed_gzip();
    Router::new()
        .nest_service("/pkg", files)
        .layer(middleware::from_fn_with_state(
            Arc::new(hashed),
            cache_headers,
        ))
}

async fn cache_headers(
    State(hashed): State<HashedNames>,
    request: Request,
    next: Next,
) -> Response {
    let hashed_name = request
        .uri()
        .path()
        .rsplit('/')
        .next()
        .is_some_and(|name| hashed.contains(name));
    let mut response = next.run(request).await;
    let status = response.status();
    if status.is_success() || status == StatusCode::NOT_MODIFIED {
        let cache = if hashed_name { IMMUTABLE } else { REVALIDATE };
        let headers = response.headers_mut();
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
        // The same URL answers brotli, gzip or plain bytes, depending on the request.
        headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
    response
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

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use tower::ServiceExt;

    #[test]
    fn hash_file_lines_name_the_hashed_files() {
        let names = names_in_hash_file(
            "scanpay",
            "js: Ab3_x\nwasm: Zz9-1\ncss: Qq\nsomething: else\nwasm2:\n",
        );
        let expected: HashSet<String> =
            ["scanpay.Ab3_x.js", "scanpay.Zz9-1.wasm", "scanpay.Qq.css"]
                .into_iter()
                .map(String::from)
                .collect();
        assert_eq!(names, expected);
    }

    async fn get(app: &Router, path: &str) -> Response {
        let request = axum::http::Request::get(path)
            .header(header::ACCEPT_ENCODING, "gzip, br")
            .body(Body::empty())
            .expect("request");
        app.clone().oneshot(request).await.expect("infallible")
    }

    fn header_of(response: &Response, name: header::HeaderName) -> Option<&str> {
        response.headers().get(name).and_then(|v| v.to_str().ok())
    }

    #[tokio::test]
    async fn hashed_files_are_immutable_others_revalidate_and_copies_are_preferred() {
        let pkg = std::env::temp_dir().join(format!("scanpay-pkg-{}", std::process::id()));
        std::fs::create_dir_all(&pkg).expect("pkg dir");
        for (name, content) in [
            ("scanpay.Ab3.js", "hashed"),
            ("scanpay.Ab3.js.br", "brotli bytes"),
            ("plain.js", "plain"),
        ] {
            std::fs::write(pkg.join(name), content).expect("write");
        }
        let app: Router = router(&pkg, HashSet::from(["scanpay.Ab3.js".to_string()]));

        let hashed = get(&app, "/pkg/scanpay.Ab3.js").await;
        assert_eq!(hashed.status(), StatusCode::OK);
        assert_eq!(header_of(&hashed, header::CACHE_CONTROL), Some(IMMUTABLE));
        assert_eq!(header_of(&hashed, header::CONTENT_ENCODING), Some("br"));
        assert_eq!(header_of(&hashed, header::VARY), Some("accept-encoding"));

        let plain = get(&app, "/pkg/plain.js").await;
        assert_eq!(plain.status(), StatusCode::OK);
        assert_eq!(header_of(&plain, header::CACHE_CONTROL), Some(REVALIDATE));

        let missing = get(&app, "/pkg/scanpay.Nope.js").await;
        assert_eq!(missing.status(), StatusCode::NOT_FOUND);
        assert_eq!(header_of(&missing, header::CACHE_CONTROL), None);
        let _ = std::fs::remove_dir_all(&pkg);
    }
}
