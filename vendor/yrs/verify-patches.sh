#!/usr/bin/env bash
# Checks that vendor/yrs is yrs as published on crates.io plus the patch series
# that PATCHES.md lists, and nothing else ("The patch series" in PATCHES.md):
#   1. the .crate file has the published checksum;
#   2. the series' base commit holds exactly the crate's files;
#   3. the crate plus the diff of every later commit touching vendor/yrs,
#      applied in order, equals vendor/yrs at HEAD;
#   4. every such commit is listed in PATCHES.md (commits that change only
#      PATCHES.md or this script excepted), and every listed one exists.
# With --build, yrs is also built after each commit (its own target/).
# Usage: bash vendor/yrs/verify-patches.sh [--build]
set -euo pipefail

VERSION=0.28.1
SHA256=9f7716b4846f9fab489af2ed7ab31c4554f5fe6965ede2392b9cdfed0e5087ff
BASE_SUBJECT="vendor/yrs: yrs $VERSION exactly as published on crates.io (base of the patch series)"

build=0
case "${1:-}" in
--build) build=1 ;;
"") ;;
*) echo "usage: $0 [--build]" >&2; exit 2 ;;
esac

here=$(cd "$(dirname "$0")" && pwd)
repo=$(git -C "$here" rev-parse --show-toplevel)
prefix=$(git -C "$here" rev-parse --show-prefix)
prefix=${prefix%/}
git() { command git -C "$repo" "$@"; }
fail() { echo "verify-patches: $*" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# 1. The published crate, from cargo's cache or fetched through a scratch
# project (cargo checks it against the registry index as it downloads).
cargo_home=${CARGO_HOME:-$HOME/.cargo}
find_crate() { ls "$cargo_home"/registry/cache/*/"yrs-$VERSION.crate" 2>/dev/null | head -1; }
crate=$(find_crate || true)
if [ -z "$crate" ]; then
  mkdir -p "$work/fetch/src"
  printf '[package]\nname = "fetch-yrs"\nversion = "0.0.0"\nedition = "2021"\n[dependencies]\nyrs = "=%s"\n' \
    "$VERSION" >"$work/fetch/Cargo.toml"
  : >"$work/fetch/src/lib.rs"
  cargo fetch --quiet --manifest-path "$work/fetch/Cargo.toml"
  crate=$(find_crate) || fail "cargo fetch did not bring yrs-$VERSION.crate"
fi
echo "$SHA256  $crate" | sha256sum --check --quiet - ||
  fail "$crate is not the published yrs $VERSION"
mkdir "$work/crate"
tar -xzf "$crate" -C "$work/crate"
upstream="$work/crate/yrs-$VERSION"

# 2. The base commit equals the crate, byte for byte.
base=$(git log --format='%H %s' -- "$prefix" |
  awk -v s="$BASE_SUBJECT" 'substr($0, 42) == s { print $1; exit }')
[ -n "$base" ] || fail "no commit with subject \"$BASE_SUBJECT\" touches $prefix"
mkdir "$work/base"
git archive "$base" "$prefix" | tar -x -C "$work/base"
diff -r "$upstream" "$work/base/$prefix" >&2 ||
  fail "the base commit ${base:0:12} differs from the published crate"
echo "base ${base:0:12} = yrs-$VERSION.crate (sha256 ${SHA256:0:12}…)"

# 3. and 4. Replay the series on the crate.
patches_md=$(git show "HEAD:$prefix/PATCHES.md")
mkdir -p "$work/tree/$(dirname "$prefix")"
cp -R "$upstream" "$work/tree/$prefix"
command git init -q "$work/tree"
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$here/target}
subjects=()
for c in $(git rev-list --reverse --no-merges "$base..HEAD" -- "$prefix"); do
  subject=$(git log -1 --format=%s "$c")
  subjects+=("$subject")
  docs_only=1
  while read -r f; do
    case "$f" in
    "$prefix/PATCHES.md" | "$prefix/verify-patches.sh") ;;
    *) docs_only=0 ;;
    esac
  done < <(git diff-tree --no-commit-id --name-only -r "$c" -- "$prefix")
  if [ "$docs_only" = 0 ] && ! grep -qF "\`$subject\`" <<<"$patches_md"; then
    fail "commit ${c:0:12} \"$subject\" changes $prefix but PATCHES.md does not list it"
  fi
  git diff --binary "$c^" "$c" -- "$prefix" | command git -C "$work/tree" apply --whitespace=nowarn ||
    fail "commit ${c:0:12} \"$subject\" does not apply on the series before it"
  echo "applied ${c:0:12} $subject"
  if [ "$build" = 1 ]; then
    (cd "$work/tree/$prefix" && cargo build --quiet) ||
      fail "yrs does not build after ${c:0:12} \"$subject\""
  fi
done
while read -r listed; do
  found=0
  for s in "$BASE_SUBJECT" "${subjects[@]}"; do [ "$s" = "$listed" ] && found=1; done
  [ "$found" = 1 ] || fail "PATCHES.md lists \"$listed\" but no commit since the base has that subject"
done < <(grep -o 'Commit: `[^`]*`' <<<"$patches_md" | sed 's/^Commit: `//; s/`$//')

mkdir "$work/head"
git archive HEAD "$prefix" | tar -x -C "$work/head"
diff -r "$work/tree/$prefix" "$work/head/$prefix" >&2 ||
  fail "yrs-$VERSION.crate plus the series differs from $prefix at HEAD"
echo "ok: $prefix at HEAD = yrs-$VERSION.crate + ${#subjects[@]} commits"
if ! git diff --quiet HEAD -- "$prefix"; then
  echo "note: $prefix has uncommitted changes; they are not part of the series" >&2
fi
