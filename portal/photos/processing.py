"""Turning an uploaded file into two clean JPEG files, or a clear refusal.

The file is judged by its bytes, never by its name or the browser's content
type: it must start like a JPEG, PNG, WebP (or HEIC/HEIF when pillow-heif is
installed), carry nothing that a browser could read as a page or a script,
fit the size and pixel limits, and decode completely. What is stored is drawn
again from the decoded pixels only, so every metadata block (GPS position,
camera serial, time, comments, XMP) is gone."""

from __future__ import annotations

import io
import re
import struct
import threading
import warnings
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from PIL import Image, ImageCms, ImageOps

try:  # HEIC/HEIF (iPhone photos) only when a maintained decoder is installed.
    from pillow_heif import register_heif_opener

    register_heif_opener()
    HEIF_SUPPORTED = True
except ImportError:  # pragma: no cover — pillow-heif is a dependency
    HEIF_SUPPORTED = False

#: Every message a refusal can carry (translated when shown).
NOT_A_PHOTO = _l("This file is not a photo. Please send a JPEG, PNG, WebP or HEIC picture.")
HEIF_UNSUPPORTED = _l("HEIC photos cannot be read here. Please send the photo as JPEG.")
TOO_LARGE = _l("This photo is larger than %(size)s MB. Please send a smaller one.")
TOO_MANY_PIXELS = _l("This picture has too many pixels (%(pixels)s megapixels at most).")
DAMAGED = _l("This photo is damaged or incomplete. Please take or choose it again.")
HIDDEN_CONTENT = _l("This file contains something other than a picture and was refused.")

#: What a browser could take for a page or a script, looked for wherever a
#: format keeps free text (metadata, comments) and after the picture's end.
_MARKUP = re.compile(
    rb"<\s*(?:script|html|svg|body|iframe|object|embed|\?php|!doctype)|javascript:|on(?:load|error)\s*=",
    re.IGNORECASE,
)
_HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"}


class PhotoRejected(ValueError):
    """The upload is refused; `message` tells the user why."""

    def __init__(self, message, status: int = 400):
        super().__init__(str(message))
        self.message = message
        self.status = status


@dataclass(frozen=True)
class Limits:
    max_bytes: int
    max_pixels: int
    display_edge: int
    thumb_edge: int
    #: PNG and WebP cannot be decoded at a reduced size (JPEG can), so a huge one
    #: costs its full pixels in memory: they get a lower limit.
    max_pixels_lossless: int = 16_000_000
    display_quality: int = 80
    thumb_quality: int = 72


@dataclass(frozen=True)
class CleanPhoto:
    display: bytes
    thumb: bytes
    width: int
    height: int
    thumb_width: int
    thumb_height: int


def sniff_format(head: bytes) -> str | None:
    """The picture format the bytes announce, or None."""
    if head.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    if head[4:8] == b"ftyp" and head[8:12] in _HEIF_BRANDS:
        return "HEIF"
    return None


def _png_free_text(data: bytes) -> bytes:
    """Every PNG chunk but the pixel data, and whatever follows IEND."""
    out, pos = [], 8
    while pos + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        end = pos + 12 + length
        if kind != b"IDAT":
            out.append(data[pos + 8 : min(end, len(data))])
        pos = end
        if kind == b"IEND":
            trailer = data[pos:]
            if trailer.strip(b"\x00"):
                raise PhotoRejected(HIDDEN_CONTENT)
            break
    return b"".join(out)


#: A JPEG marker: 0xFF then a byte other than 0x00 (a stuffed 0xFF in compressed
#: pixels), a restart marker (no segment) or another 0xFF (a fill byte).
_JPEG_MARKER = re.compile(rb"\xff(?=[^\x00\xd0-\xd7\xff])")


def _jpeg_free_text(data: bytes) -> bytes:
    """Every segment of the picture (APPn, COM…, also those between the scans
    of a progressive JPEG) but its compressed pixels, up to the first
    end-of-image marker, and what follows the last one (some phones append a
    video there: allowed, unless it looks like markup)."""
    out, pos = [], 2
    while (found := _JPEG_MARKER.search(data, pos)) and found.start() + 4 <= len(data):
        pos = found.start()
        marker = data[pos + 1]
        if marker == 0xD9:  # end of image
            break
        if marker in (0x01, 0xD8):  # markers without a segment
            pos += 2
            continue
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        if marker != 0xDA:  # a scan's header; its compressed pixels follow
            out.append(data[pos + 4 : pos + 2 + length])
        pos += 2 + max(length, 2)
    end = data.rfind(b"\xff\xd9")
    if end != -1:
        out.append(data[end + 2 :])
    return b"".join(out)


def _webp_free_text(data: bytes) -> bytes:
    """Every RIFF chunk but the picture's, and what lies beyond the RIFF size."""
    (riff_size,) = struct.unpack("<I", data[4:8])
    out, pos = [data[8 + riff_size :]], 12
    while pos + 8 <= min(len(data), 8 + riff_size):
        kind, length = data[pos : pos + 4], struct.unpack("<I", data[pos + 4 : pos + 8])[0]
        if kind not in (b"VP8 ", b"VP8L", b"ANMF", b"ALPH"):
            out.append(data[pos + 8 : pos + 8 + length])
        pos += 8 + length + (length & 1)
    return b"".join(out)


_FREE_TEXT = {"PNG": _png_free_text, "JPEG": _jpeg_free_text, "WEBP": _webp_free_text}


def _check_no_markup(fmt: str, data: bytes) -> None:
    """Refuse polyglots: a picture that is also a page or a script to a browser
    that sniffs (we never serve the original, but a file like this is hostile)."""
    reader = _FREE_TEXT.get(fmt)
    text = reader(data) if reader else data[:65536]
    if _MARKUP.search(text):
        raise PhotoRejected(HIDDEN_CONTENT)


def _to_srgb(image: Image.Image) -> Image.Image:
    """Colours as the camera meant them (e.g. Display P3 on iPhones), in sRGB,
    since the profile itself is dropped with the rest of the metadata."""
    icc = image.info.get("icc_profile")
    if not icc or image.mode not in ("RGB", "RGBA"):
        return image
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        return ImageCms.profileToProfile(
            image, source, ImageCms.createProfile("sRGB"), outputMode=image.mode
        )
    except (ImageCms.PyCMSError, OSError, ValueError):
        return image


def _flatten(image: Image.Image) -> Image.Image:
    """RGB pixels only, on a white background where the picture was transparent,
    in a brand-new image that carries no `info` (comments, profiles, EXIF)."""
    if image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, rgba)
    rgb = image.convert("RGB")
    return Image.frombytes("RGB", rgb.size, rgb.tobytes())


def _encode(image: Image.Image, edge: int, quality: int) -> tuple[bytes, int, int]:
    copy = image.copy()
    copy.thumbnail((edge, edge), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    copy.save(out, "JPEG", quality=quality, optimize=True, progressive=True)
    return out.getvalue(), copy.width, copy.height


def megabytes(size: int) -> str:
    """10485760 → "10", 524288 → "0.5": how the limits read in messages."""
    return f"{size / 2**20:.1f}".removesuffix(".0")


def _too_many_pixels(max_pixels: int) -> str:
    return TOO_MANY_PIXELS % {"pixels": max_pixels // 1_000_000}


def _pixel_limit(fmt: str, limits: Limits) -> int:
    if fmt in ("PNG", "WEBP"):
        return min(limits.max_pixels, limits.max_pixels_lossless)
    return limits.max_pixels


#: One decode at a time per process: a threaded server must not hold several
#: full-size pictures in memory at once.
_DECODING = threading.BoundedSemaphore(1)


def read_limited(stream, max_bytes: int) -> bytes:
    """At most `max_bytes` of the upload; one byte more means it is too large."""
    data = stream.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise PhotoRejected(TOO_LARGE % {"size": megabytes(max_bytes)}, status=413)
    return data


def clean_photo(data: bytes, limits: Limits) -> CleanPhoto:
    """Check one uploaded file by its content and redraw it, or raise PhotoRejected."""
    if len(data) > limits.max_bytes:
        raise PhotoRejected(TOO_LARGE % {"size": megabytes(limits.max_bytes)}, status=413)
    fmt = sniff_format(data[:16])
    if fmt is None:
        raise PhotoRejected(NOT_A_PHOTO)
    if fmt == "HEIF" and not HEIF_SUPPORTED:  # pragma: no cover — see the import above
        raise PhotoRejected(HEIF_UNSUPPORTED)
    _check_no_markup(fmt, data)
    with _DECODING, warnings.catch_warnings():
        # Pillow warns (and we refuse) long before its own bomb limit.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data), formats=[fmt])
            max_pixels = _pixel_limit(fmt, limits)
            if image.width * image.height > max_pixels:
                raise PhotoRejected(_too_many_pixels(max_pixels))
            edge = limits.display_edge
            # JPEG decodes at 1/2, 1/4 or 1/8 of its size when that is still at
            # least the display size: a 48 MP photo then costs a quarter of its memory.
            image.draft("RGB", (edge, edge))
            image.load()
            # Everything after works on at most the display size.
            image.thumbnail((edge, edge), Image.Resampling.LANCZOS, reducing_gap=3.0)
            image = ImageOps.exif_transpose(image)  # upright, as the phone showed it
            image = _flatten(_to_srgb(image))
        except PhotoRejected:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise PhotoRejected(_too_many_pixels(_pixel_limit(fmt, limits))) from None
        except (OSError, SyntaxError, ValueError, struct.error, EOFError):
            raise PhotoRejected(DAMAGED) from None
        display, width, height = _encode(image, limits.display_edge, limits.display_quality)
        thumb, thumb_width, thumb_height = _encode(image, limits.thumb_edge, limits.thumb_quality)
    return CleanPhoto(display, thumb, width, height, thumb_width, thumb_height)
