"""Finding 5: a request's photos cannot take a worker's memory. Measured in a
fresh process (its peak resident size), since Pillow allocates outside Python."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

REPO = Path(__file__).resolve().parents[2]
MB = 1024 * 1024

#: Cleans each file named on the command line as an upload would be, and prints the
#: growth of the process's peak memory and what happened to each file.
MEASURE = """
import json, sys
from portal import create_app
from portal.config import TestConfig
from portal.photos.processing import PhotoRejected, clean_photo
from portal.photos.services import limits

app = create_app(TestConfig)
files = [open(name, "rb").read() for name in sys.argv[1:]]
with app.test_request_context(headers={"Accept-Language": "en"}):
    rules = limits()
    def kb(field):
        return int(open("/proc/self/status").read().split(field + ":")[1].split()[0])

    # Reset the peak to the current size, so imports and the start do not count
    # (ru_maxrss would not do: Linux carries it over from the forking process).
    with open("/proc/self/clear_refs", "w") as clear:
        clear.write("5")
    before = kb("VmRSS")
    results = []
    for data in files:
        try:
            photo = clean_photo(data, rules)
            results.append(["ok", photo.width, photo.height])
        except PhotoRejected as refusal:
            results.append(["refused", str(refusal.message)])
    after = kb("VmHWM")
print(json.dumps({"grew_mb": (after - before) / 1024, "results": results}))
"""


def _measure(paths: list[Path]) -> dict:
    result = subprocess.run(  # noqa: S603 — a fixed command line
        [sys.executable, "-c", MEASURE, *map(str, paths)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def _picture(width: int, height: int, fmt: str) -> bytes:
    """Large in pixels, small in bytes: the shape of the attack."""
    image = Image.new("RGB", (width, height), (90, 140, 200))
    ImageDraw.Draw(image).rectangle((width // 4, height // 4, width // 2, height // 2), "white")
    out = io.BytesIO()
    image.save(out, fmt, **({"quality": 80} if fmt == "JPEG" else {"optimize": True}))
    return out.getvalue()


@pytest.fixture(scope="module")
def attack_files(tmp_path_factory) -> dict[str, list[Path]]:
    folder = tmp_path_factory.mktemp("photos")
    files = {}
    for name, (width, height, fmt) in {
        "png-49mp": (7000, 7000, "PNG"),
        "png-16mp": (4000, 4000, "PNG"),
        "jpeg-48mp": (8000, 6000, "JPEG"),
    }.items():
        path = folder / f"{name}.{fmt.lower()}"
        path.write_bytes(_picture(width, height, fmt))
        assert path.stat().st_size < 2 * MB
        files[name] = [path] * 3  # three in one request, as the audit sent them
    return files


def test_three_huge_pngs_are_refused_before_they_are_decoded(attack_files):
    measured = _measure(attack_files["png-49mp"])
    assert [r[0] for r in measured["results"]] == ["refused"] * 3
    assert "16 megapixels at most" in measured["results"][0][1]
    assert measured["grew_mb"] < 30, measured


def test_three_48_megapixel_jpegs_are_decoded_at_a_reduced_size(attack_files):
    measured = _measure(attack_files["jpeg-48mp"])
    assert measured["results"] == [["ok", 1600, 1200]] * 3
    # A full decode of one alone is 144 MB, and redrawing copies it twice more.
    assert measured["grew_mb"] < 120, measured


def test_the_largest_png_allowed_stays_bounded(attack_files):
    measured = _measure(attack_files["png-16mp"])
    assert measured["results"] == [["ok", 1600, 1600]] * 3
    assert measured["grew_mb"] < 150, measured
