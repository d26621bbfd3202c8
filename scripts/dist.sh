#!/usr/bin/env bash
# Builds the <atelier-editor> bundle into www/pkg/ (until `cargo xtask dist`
# takes over): wasm release build, wasm-bindgen (CLI version = the crate's in
# Cargo.lock), wasm-opt from npm binaryen@132 (Debian's v108 corrupts the
# externref table), keeping whichever variant is smallest after brotli.
set -euo pipefail
cd "$(dirname "$0")/.."

OUT=www/pkg
TARGET=wasm32-unknown-unknown
PROFILE=wasm-release
WASM_OPT=e2e/node_modules/.bin/wasm-opt

echo "== cargo build (atelier-elements, $PROFILE)"
cargo build -p atelier-elements --target "$TARGET" --profile "$PROFILE"
# Honour CARGO_TARGET_DIR (CI may build elsewhere than ./target).
TARGET_DIR="${CARGO_TARGET_DIR:-target}"

WB_VERSION=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
if [ -z "$WB_VERSION" ]; then echo "wasm-bindgen not found in Cargo.lock" >&2; exit 1; fi
if ! wasm-bindgen --version 2>/dev/null | grep -qx "wasm-bindgen $WB_VERSION"; then
  echo "== installing wasm-bindgen-cli $WB_VERSION"
  # Without --locked: its lockfile pins a crate this registry mirror lacks.
  cargo install wasm-bindgen-cli --version "=$WB_VERSION"
fi

if [ ! -x "$WASM_OPT" ]; then
  echo "== npm install in e2e/ (binaryen@132 for wasm-opt)"
  (cd e2e && npm install --no-audit --no-fund --loglevel=error)
fi

mkdir -p "$OUT"
echo "== wasm-bindgen $WB_VERSION"
wasm-bindgen --target web --no-typescript --out-dir "$OUT" --out-name atelier_elements \
  "$TARGET_DIR/$TARGET/$PROFILE/atelier_elements.wasm"
wasm-bindgen --target web --out-dir "$OUT/.types" --out-name atelier_elements \
  "$TARGET_DIR/$TARGET/$PROFILE/atelier_elements.wasm" >/dev/null
mv "$OUT/.types/atelier_elements.d.ts" "$OUT/atelier_elements.d.ts"
rm -rf "$OUT/.types"
cp crates/atelier-elements/js/atelier-elements.js crates/atelier-elements/js/atelier-elements.d.ts "$OUT/"

brotli_size() { node -e 'const z=require("zlib");const b=require("fs").readFileSync(process.argv[1]);process.stdout.write(String(z.brotliCompressSync(b,{params:{[z.constants.BROTLI_PARAM_QUALITY]:11}}).length))' "$1"; }

BASE="$OUT/atelier_elements_bg.wasm"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
cp "$BASE" "$TMP/none.wasm"
best=none; best_size=$(brotli_size "$TMP/none.wasm")
printf '%-8s raw %9d B   brotli %8d B\n' none "$(stat -c %s "$TMP/none.wasm")" "$best_size"
for level in O1 O2 Os Oz; do
  "$WASM_OPT" "-$level" --enable-reference-types --enable-bulk-memory --enable-nontrapping-float-to-int \
    --enable-sign-ext --enable-mutable-globals --strip-debug --strip-producers \
    "$BASE" -o "$TMP/$level.wasm"
  size=$(brotli_size "$TMP/$level.wasm")
  printf '%-8s raw %9d B   brotli %8d B\n' "$level" "$(stat -c %s "$TMP/$level.wasm")" "$size"
  if [ "$size" -lt "$best_size" ]; then best=$level; best_size=$size; fi
done
cp "$TMP/$best.wasm" "$BASE"
echo "== kept wasm-opt -$best: raw $(stat -c %s "$BASE") B, brotli $best_size B"
js_raw=$(cat "$OUT/atelier_elements.js" "$OUT/atelier-elements.js" | wc -c)
echo "== JS glue raw $js_raw B"
cp styles/editor.css styles/tokens.css "$OUT/"
