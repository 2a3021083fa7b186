"""Pictures for the demo data: drawn here (no files shipped), then stored
exactly like an upload, so `make run` shows photos on the first needs."""

from __future__ import annotations

import io
import random

from PIL import Image, ImageDraw
from werkzeug.datastructures import FileStorage

from portal.needs.models import Need
from portal.photos.services import attach_photos, receive_photos


def street_scene(seed: int, width: int = 1280, height: int = 960) -> bytes:
    """A dusk street: sky, houses with lit windows, a lamp post."""
    rng = random.Random(seed)
    image = Image.new("RGB", (width, height))
    draw = ImageDraw.Draw(image)
    for y in range(height):  # sky to road
        t = y / height
        draw.line(
            [(0, y), (width, y)], fill=(int(40 + 120 * t), int(60 + 90 * t), int(120 + 40 * t))
        )
    x = 0
    while x < width:
        w, h = rng.randint(120, 260), rng.randint(250, 520)
        shade = rng.randint(70, 140)
        draw.rectangle(
            [x, height - 180 - h, x + w, height - 180], fill=(shade, shade - 20, shade - 30)
        )
        for wy in range(height - 160 - h, height - 220, 60):
            for wx in range(x + 15, x + w - 30, 45):
                lit = rng.random() < 0.4
                draw.rectangle(
                    [wx, wy, wx + 22, wy + 30], fill=(240, 210, 120) if lit else (50, 50, 70)
                )
        x += w + rng.randint(5, 30)
    draw.rectangle([0, height - 180, width, height], fill=(60, 60, 64))
    post = rng.randint(width // 4, 3 * width // 4)
    draw.rectangle([post, height - 640, post + 14, height - 180], fill=(30, 30, 30))
    draw.ellipse([post - 30, height - 680, post + 44, height - 620], fill=(90, 90, 90))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


def add_demo_photos(needs: list[Need], per_need: int = 2) -> int:
    """Photos on the given needs (the caller commits: the files move in then)."""
    count = 0
    for index, need in enumerate(needs):
        files = [
            FileStorage(io.BytesIO(street_scene(index * 10 + n)), filename=f"demo-{n}.jpg")
            for n in range(per_need)
        ]
        batch = receive_photos(files)
        attach_photos(need, batch, uploader=None)
        count += len(batch.photos)
    return count
