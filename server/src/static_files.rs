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

/// The hashed names of this build's files, when the build hashed them and they are all there.
/// cargo-leptos writes the hashes to `hash.txt` (`js: <hash>` lines) next to the server binary,
/// where Leptos's `HydrationScripts` and `HashedStylesheet` read them too: a binary built or run
/// without it (`cargo test`, `cargo run`) uses the plain names. A split build (lazy islands) adds
/// its loader (`split`), its manifest, and the WASM files the manifest lists, hashed too.
pub fn hashed_pkg_files(options: &LeptosOptions) -> Option<HashSet<String>> {
    let hash_file = std::env::current_exe()
        .ok()?
        .parent()?
        .join(options.hash_file.as_ref());
    let text = std::fs::read_to_string(hash_file).ok()?;
    let pkg_dir = pkg_dir(options);
    let mut names = names_in_hash_file(&options.output_name, &text);
    let main_files = ["js", "wasm", "css"]
        .iter()
        .filter(|ext| names.iter().any(|n| n.ends_with(&format!(".{ext}"))))
        .count();
    let manifest = names
        .iter()
        .find(|n| n.starts_with(SPLIT_MANIFEST))
        .cloned();
    if let Some(manifest) = manifest {
        let text = std::fs::read_to_string(pkg_dir.join(manifest)).ok()?;
        names.extend(chunks_in_split_manifest(&text)?);
    }
    (main_files == 3 && names.iter().all(|name| pkg_dir.join(name).is_file())).then_some(names)
}

const SPLIT_LOADER: &str = "__wasm_split";
const SPLIT_MANIFEST: &str = "__wasm_split_manifest";

fn names_in_hash_file(output_name: &str, text: &str) -> HashSet<String> {
    text.lines()
        .filter_map(|line| line.split_once(':'))
        .map(|(kind, hash)| (kind.trim(), hash.trim()))
        .filter(|(_, hash)| !hash.is_empty())
        .filter_map(|(kind, hash)| match kind {
            "js" | "wasm" | "css" => Some(format!("{output_name}.{hash}.{kind}")),
            "split" => Some(format!("{SPLIT_LOADER}.{hash}.js")),
            "manifest" => Some(format!("{SPLIT_MANIFEST}.{hash}.json")),
            _ => None,
        })
        .collect()
}

/// The split manifest maps each lazy function to the WASM files (names without `.wasm`) it needs.
fn chunks_in_split_manifest(text: &str) -> Option<Vec<String>> {
    let manifest: std::collections::HashMap<String, Vec<String>> =
        serde_json::from_str(text).ok()?;
    Some(
        manifest
            .into_values()
            .flatten()
            .map(|chunk| format!("{chunk}.wasm"))
            .collect(),
    )
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
            "js: Ab3_x\nwasm: Zz9-1\ncss: Qq\nmanifest: Mm\nsplit: Ss\nsomething: else\nwasm2:\n",
        );
        let expected: HashSet<String> = [
            "scanpay.Ab3_x.js",
            "scanpay.Zz9-1.wasm",
            "scanpay.Qq.css",
            "__wasm_split_manifest.Mm.json",
            "__wasm_split.Ss.js",
        ]
        .into_iter()
        .map(String::from)
        .collect();
        assert_eq!(names, expected);
    }

    #[test]
    fn the_split_manifest_names_the_lazy_wasm_files() {
        let chunks = chunks_in_split_manifest(r#"{"form_loader_1":["split_form_loader_1.Hh"]}"#);
        assert_eq!(
            chunks,
            Some(vec!["split_form_loader_1.Hh.wasm".to_string()])
        );
        assert_eq!(chunks_in_split_manifest("not json"), None);
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
