"""The vendored front-end files are the ones static/vendor/VERSIONS.txt names:
a hand edit (or a half-finished refresh) fails here, not in a browser."""

from __future__ import annotations

import hashlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _listed() -> list[tuple[str, str, str, str]]:
    lines = (ROOT / "static" / "vendor" / "VERSIONS.txt").read_text().splitlines()
    return [tuple(line.split()) for line in lines if line.strip() and not line.startswith("#")]


def test_every_vendored_file_matches_its_recorded_checksum():
    listed = _listed()
    assert {package for package, *_ in listed} >= {"htmx.org", "leaflet"}
    for package, version, path, checksum in listed:
        digest = hashlib.sha256((ROOT / path).read_bytes()).hexdigest()
        assert checksum == f"sha256:{digest}", (package, version, path)


def test_each_vendored_package_keeps_its_licence():
    assert (ROOT / "static/vendor/htmx.LICENSE").is_file()
    assert "BSD" in (ROOT / "static/vendor/leaflet/LICENSE").read_text()
