#!/usr/bin/env bash
# Refresh the vendored htmx from the npm registry's htmx.org package at a pinned
# version, and record the version and SHA-256 in static/vendor/VERSIONS.txt
# (the other packages' lines stay).
# Usage: scripts/vendor-htmx.sh [VERSION]   (default: the pinned one below)
set -euo pipefail
VERSION="${1:-2.0.11}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
(cd "$TMP" && npm pack --silent "htmx.org@${VERSION}" >/dev/null)
tar -xzf "$TMP"/htmx.org-"${VERSION}".tgz -C "$TMP"
cp "$TMP/package/dist/htmx.min.js" "$ROOT/static/vendor/htmx.min.js"
cp "$TMP/package/LICENSE" "$ROOT/static/vendor/htmx.LICENSE"
SUM="$(sha256sum "$ROOT/static/vendor/htmx.min.js" | cut -d' ' -f1)"
LIST="$ROOT/static/vendor/VERSIONS.txt"
KEPT="$(grep -v -e '^#' -e '^htmx.org ' "$LIST" 2>/dev/null || true)"
{
  echo "# Vendored front-end files: refresh with scripts/vendor-<name>.sh VERSION"
  echo "htmx.org ${VERSION} static/vendor/htmx.min.js sha256:${SUM}"
  [ -n "$KEPT" ] && echo "$KEPT"
} > "$LIST.new"
mv "$LIST.new" "$LIST"
echo "htmx.org ${VERSION} sha256:${SUM}"
