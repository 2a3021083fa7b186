"""Real image files, made in the test: what phones send, and what attackers send."""

from __future__ import annotations

import io
import struct
import zlib

from PIL import Image
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

GPS_IFD = 0x8825
ORIENTATION = 0x0112


def photo(width: int = 1200, height: int = 900, fmt: str = "JPEG", **save) -> bytes:
    """A picture with some detail (a gradient), so sizes are not trivial."""
    image = Image.radial_gradient("L").resize((width, height)).convert("RGB")
    image = Image.merge(
        "RGB", (image.getchannel(0), image.getchannel(0).rotate(90), image.getchannel(0))
    )
    out = io.BytesIO()
    image.save(out, fmt, **save)
    return out.getvalue()


def jpeg_with_gps(width: int = 1200, height: int = 900) -> bytes:
    """A phone photo: camera make, serial and time, and where it was taken."""
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0110] = "Phone 15"  # Model
    exif[0x0132] = "2026:11:23 08:15:00"  # DateTime
    exif[0xA431] = "SERIAL-0042"  # BodySerialNumber
    gps = exif.get_ifd(GPS_IFD)
    gps[1] = "N"
    gps[2] = (39.0, 54.0, 26.0)
    gps[3] = "E"
    gps[4] = (116.0, 23.0, 29.0)
    return photo(width, height, exif=exif.tobytes(), comment=b"taken at home")


def sideways_jpeg(width: int = 2000, height: int = 1500) -> bytes:
    """A portrait photo as phones store it: landscape pixels and an EXIF
    Orientation of 6 (turn 90° clockwise to show). A red block marks the stored
    top-left corner, which is the top-right corner once upright."""
    image = Image.open(io.BytesIO(photo(width, height)))
    image.paste((255, 0, 0), (0, 0, width // 4, height // 4))
    exif = Image.Exif()
    exif[ORIENTATION] = 6
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


def transparent_png(width: int = 600, height: int = 400) -> bytes:
    """A screenshot-like PNG: its left half transparent, its right half blue."""
    image = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    image.paste((0, 0, 255, 255), (width // 2, 0, width, height))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def html_page() -> bytes:
    return b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"


def svg_with_script() -> bytes:
    return (
        b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(document.domain)">'
        b'<rect width="100" height="100" fill="red"/></svg>'
    )


def chunk(kind: bytes, data: bytes) -> bytes:
    """One PNG chunk, with its length and checksum."""
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))


def png_then_html() -> bytes:
    """A valid PNG followed by a page: a browser that sniffs may run it."""
    return photo(300, 200, "PNG") + b"<html><script>alert(1)</script></html>"


def png_with_script_text() -> bytes:
    """A valid PNG whose tEXt chunk (right after IHDR) carries a script."""
    png = photo(300, 200, "PNG")
    after_ihdr = 8 + 25  # signature, then IHDR (4 + 4 + 13 + 4 bytes)
    text = chunk(b"tEXt", b"Comment\x00<script>alert(1)</script>")
    return png[:after_ihdr] + text + png[after_ihdr:]


def jpeg_comment(text: bytes) -> bytes:
    """A JPEG comment (COM) segment."""
    return b"\xff\xfe" + struct.pack(">H", len(text) + 2) + text


def jpeg_with_script_comment() -> bytes:
    """A valid JPEG whose comment, right after the start, carries a page."""
    data = photo(300, 200)
    return data[:2] + jpeg_comment(b"<html><script>alert(1)</script></html>") + data[2:]


def progressive_jpeg_with_script_between_scans() -> bytes:
    """A valid progressive JPEG with a page in a comment between two of its scans."""
    data = photo(300, 200, progressive=True)
    second_scan = data.index(b"\xff\xda", data.index(b"\xff\xda") + 2)
    comment = jpeg_comment(b"<svg onload=alert(1)>")
    return data[:second_scan] + comment + data[second_scan:]


def truncated_jpeg() -> bytes:
    """The first half of a photo (an upload cut off, a damaged card)."""
    data = photo(800, 600)
    return data[: len(data) // 2]


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that announces an enormous size (a decompression bomb) in a few bytes."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def upload(data: bytes, name: str = "photo.jpg", content_type: str = "image/jpeg"):
    """A file part for the test client's multipart form."""
    return (io.BytesIO(data), name, content_type)


def multipart(form: dict) -> dict:
    """The body of a multipart form, built in memory, as keyword arguments for
    the test client. (Given a dict, the client spools bodies over 500 KB to a
    temporary file it never closes, which pytest reports as an error.)"""
    values = MultiDict()
    for name, value in form.items():
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, tuple):
                item = FileStorage(stream=item[0], filename=item[1], content_type=item[2])
            values.add(name, item)
    boundary, body = encode_multipart(values)
    return {"data": body, "content_type": f"multipart/form-data; boundary={boundary}"}


def jpeg_segments(data: bytes) -> list[int]:
    """The markers of a JPEG's header segments (APP0 = 0xE0, APP1/EXIF/XMP = 0xE1,
    comment = 0xFE …), up to the first scan."""
    markers, pos = [], 2
    while pos + 4 <= len(data) and data[pos] == 0xFF and data[pos + 1] != 0xDA:
        markers.append(data[pos + 1])
        pos += 2 + struct.unpack(">H", data[pos + 2 : pos + 4])[0]
    return markers
