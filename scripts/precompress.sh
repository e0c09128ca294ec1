#!/usr/bin/env bash
# Writes brotli (quality 11) and gzip (-9) copies next to the site's JS, WASM and CSS, which the
# server sends as they are to browsers that accept them (better than compressing per request,
# and no CPU spent on it). Run after the release build (scripts/build_release.sh does); the server ignores and
# removes copies older than their file, so a later build never serves stale bytes.
set -euo pipefail
cd "$(dirname "$0")/.."
for f in target/site/pkg/*.js target/site/pkg/*.wasm target/site/pkg/*.css; do
  [ -f "$f" ] || continue
  brotli -q 11 -f -o "$f.br" "$f"
  gzip -9 -k -f -n "$f"
  # Both tools copy the file's modification time, brotli truncated to the second: stamp the
  # copies now, so the server's staleness check sees them as made from this build.
  touch "$f.br" "$f.gz"
done
