#!/usr/bin/env bash
# Sets up whatever is missing, builds, and serves scanpay at http://127.0.0.1:3000 on the
# embedded defaults (SQLite in ./data, demo auto-pay after 5–15 s). Ctrl-C stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
source scripts/env.sh
export SCANPAY_AUTOPAY="${SCANPAY_AUTOPAY:-5..15}"
bash scripts/build_release.sh
echo "scanpay: http://127.0.0.1:3000"
LEPTOS_ENV=PROD exec target/release/server
