#!/usr/bin/env bash
# Refresh the vendored Leaflet (the optional map of a need's position) from the
# npm registry's leaflet package at a pinned version, and record the version and
# each file's SHA-256 in static/vendor/VERSIONS.txt (other packages' lines stay).
# Usage: scripts/vendor-leaflet.sh [VERSION]   (default: the pinned one below)
set -euo pipefail
VERSION="${1:-1.9.4}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DEST="$ROOT/static/vendor/leaflet"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
(cd "$TMP" && npm pack --silent "leaflet@${VERSION}" >/dev/null)
tar -xzf "$TMP"/leaflet-"${VERSION}".tgz -C "$TMP"
rm -rf "$DEST"
mkdir -p "$DEST/images"
# leaflet.css finds the marker and layer images in images/ beside it.
cp "$TMP/package/dist/leaflet.js" "$TMP/package/dist/leaflet.css" "$DEST/"
cp "$TMP"/package/dist/images/*.png "$DEST/images/"
cp "$TMP/package/LICENSE" "$DEST/LICENSE"
LIST="$ROOT/static/vendor/VERSIONS.txt"
KEPT="$(grep -v -e '^#' -e '^leaflet ' "$LIST" 2>/dev/null || true)"
{
  echo "# Vendored front-end files: refresh with scripts/vendor-<name>.sh VERSION"
  [ -n "$KEPT" ] && echo "$KEPT"
  (cd "$ROOT" && for f in static/vendor/leaflet/leaflet.js static/vendor/leaflet/leaflet.css \
      static/vendor/leaflet/images/*.png; do
    echo "leaflet ${VERSION} $f sha256:$(sha256sum "$f" | cut -d' ' -f1)"
  done)
} > "$LIST.new"
mv "$LIST.new" "$LIST"
echo "leaflet ${VERSION}"
