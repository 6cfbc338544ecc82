"""Photos from the walk: verified, position and time read, orientation applied, every metadata segment removed.

Only the formats the product accepts are opened (``FORMATS``: JPEG, PNG, WebP and HEIC/HEIF, the iPhone camera's
format, read through pillow-heif's libheif; Pillow tries no other plugin, so a TIFF, PSD or any other file is
refused by name). Its size in pixels is checked from the header before a
single pixel is decoded (``MAX_PIXELS``, with Pillow's decompression-bomb limit on and its warning treated as
an error). Its EXIF GPS position and DateTimeOriginal are read *first*, then it is re-encoded as JPEG, scaled so
its longest side is at most ``photo_max_side_px``, with a thumbnail beside it, and the JPEG keeps no metadata at
all: no EXIF, comment (COM), XMP, ICC profile, IPTC or any other APPn segment (colours are converted to sRGB
first). Files are stored by content hash under ``settings.media_dir()``, so the same photo is stored once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import warnings
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import cast

from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError
from PIL.ExifTags import GPS, IFD, Base
from pillow_heif import register_heif_opener

from trygghetskarta import settings
from trygghetskarta.errors import ValidationError
from trygghetskarta.timeutil import local_zone

# Pillow's "HEIF" plugin (HEIC and HEIF files). Registering only adds it to Pillow's list: every Image.open in
# the project names the formats it takes, so only this module's photo path ever opens one.
register_heif_opener()

THUMB_SIDE_PX = 320
JPEG_QUALITY = 85
MAX_PIXELS = 50_000_000  # ~ a 50-megapixel camera; larger is refused as a decompression bomb
# The photo formats the product accepts (Pillow format ids; an MPO from a phone camera opens as JPEG) and the
# file name endings the report page offers for them.
FORMATS: tuple[str, ...] = ("JPEG", "PNG", "WEBP", "HEIF")
EXTENSIONS: tuple[str, ...] = ("jpg", "jpeg", "png", "webp", "heic", "heif")
_FORMAT_NAMES = {"JPEG": "JPEG", "PNG": "PNG", "WEBP": "WebP", "HEIF": "HEIC"}
# Other formats recognised by their first bytes, only to name them in the refusal (never opened).
_SIGNATURES: tuple[tuple[bytes, int, str], ...] = (
    (b"II*\x00", 0, "TIFF"), (b"MM\x00*", 0, "TIFF"), (b"8BPS", 0, "PSD (Photoshop)"), (b"GIF8", 0, "GIF"),
    (b"BM", 0, "BMP"), (b"%PDF", 0, "PDF"), (b"ftypavif", 4, "AVIF"), (b"\x00\x00\x00\x0cjP  ", 0, "JPEG 2000"),
    (b"\xff\x4f\xff\x51", 0, "JPEG 2000"), (b"icns", 0, "ICNS"), (b"\x00\x00\x01\x00", 0, "ICO"),
    (b"<?xml", 0, "SVG/XML"), (b"<svg", 0, "SVG"),
)


class PhotoRejectedError(ValidationError):
    """A photo the product does not take, with why, so a page can say it in the user's language.

    reason: "empty", "too_many_bytes", "format", "too_many_pixels" or "unreadable"; ``limit`` is the limit that
    was exceeded (MB or pixels), ``width``/``height`` the size from the header when known, ``format`` the
    detected format's name for "format" (None when not recognised)."""

    def __init__(self, message: str, *, filename: str, reason: str, limit: float | None = None,
                 width: int | None = None, height: int | None = None, format: str | None = None) -> None:
        super().__init__(message)
        self.filename, self.reason, self.limit = filename, reason, limit
        self.width, self.height, self.format = width, height, format


@dataclass(frozen=True)
class PhotoHeader:
    """What a photo's header says: its format (one of ``FORMATS``) and size in pixels."""

    format: str
    width: int
    height: int


@dataclass(frozen=True)
class StoredPhoto:
    """Where a stored photo and its thumbnail are, its hash, size, and what its EXIF said."""

    path: Path
    thumb_path: Path
    sha256: str
    width: int
    height: int
    taken_at: dt.datetime | None
    lat: float | None
    lon: float | None


def _rational(value: object) -> float:
    if isinstance(value, tuple) and len(value) == 2:  # (numerator, denominator)
        return float(Fraction(int(value[0]), int(value[1]))) if value[1] else float("nan")
    return float(value)  # type: ignore[arg-type]


def _degrees(dms: object, ref: object) -> float | None:
    try:
        d, m, s = (_rational(v) for v in cast("tuple[object, ...]", dms))
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    value = d + m / 60.0 + s / 3600.0
    if str(ref).strip().upper() in ("S", "W"):
        value = -value
    return value


def exif_position(image: Image.Image) -> tuple[float, float] | None:
    """The (lat, lon) in the image's EXIF GPS block, or None when absent or unreadable."""
    gps = image.getexif().get_ifd(IFD.GPSInfo)
    if not gps or GPS.GPSLatitude not in gps or GPS.GPSLongitude not in gps:
        return None
    lat = _degrees(gps[GPS.GPSLatitude], gps.get(GPS.GPSLatitudeRef, "N"))
    lon = _degrees(gps[GPS.GPSLongitude], gps.get(GPS.GPSLongitudeRef, "E"))
    if lat is None or lon is None or not (-90 <= lat <= 90 and -180 <= lon <= 180) or (lat == 0 and lon == 0):
        return None
    return lat, lon


def exif_taken_at(image: Image.Image) -> dt.datetime | None:
    """DateTimeOriginal (with OffsetTimeOriginal when given, else local time), as an aware datetime."""
    exif = image.getexif()
    sub = exif.get_ifd(IFD.Exif)
    raw = sub.get(Base.DateTimeOriginal) or exif.get(Base.DateTime)
    if not raw:
        return None
    try:
        naive = dt.datetime.strptime(str(raw).strip().rstrip("\x00"), "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None
    offset = sub.get(Base.OffsetTimeOriginal)
    if offset:
        try:
            return dt.datetime.strptime(f"{naive:%Y-%m-%d %H:%M:%S}{str(offset).strip()}", "%Y-%m-%d %H:%M:%S%z")
        except ValueError:
            pass
    return naive.replace(tzinfo=local_zone())


def _sniffed_format(data: bytes) -> str | None:
    for signature, offset, name in _SIGNATURES:
        if data[offset:offset + len(signature)] == signature:
            return name
    return None


def _refuse_format(data: bytes, filename: str) -> PhotoRejectedError:
    found = _sniffed_format(data)
    accepted = ", ".join(_FORMAT_NAMES[f] for f in FORMATS)
    what = f"refused: a {found} file" if found else "not a readable image in a format the product takes"
    return PhotoRejectedError(f"{filename}: {what}; send a photo in {accepted}", filename=filename,
                              reason="format", format=found)


def _too_many_pixels(filename: str, width: int | None = None, height: int | None = None) -> PhotoRejectedError:
    size = f"{width} × {height} pixels is" if width and height else "the image is"
    msg = (f"{filename}: refused: {size} more than {MAX_PIXELS:,} pixels, the limit for a photo "
           f"(a possible decompression bomb)").replace(",", " ")
    return PhotoRejectedError(msg, filename=filename, reason="too_many_pixels", limit=MAX_PIXELS, width=width,
                              height=height)


def _open_header(data: bytes, filename: str) -> Image.Image:
    """Open ``data`` with the accepted formats' plugins only and check its size from the header; no pixel is
    decoded. Call with DecompressionBombWarning turned into an error (``warnings.catch_warnings``)."""
    if Image.MAX_IMAGE_PIXELS is None:  # someone switched Pillow's bomb check off; switch it back on
        Image.MAX_IMAGE_PIXELS = 1024 * 1024 * 1024 // 4 // 3
    try:
        image = Image.open(io.BytesIO(data), formats=list(FORMATS))
    except UnidentifiedImageError:
        raise _refuse_format(data, filename) from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _too_many_pixels(filename) from None
    width, height = image.size  # from the header, before any pixel is decoded
    if width * height > MAX_PIXELS:
        image.close()
        raise _too_many_pixels(filename, width, height)
    return image


def check_photo(data: bytes, filename: str) -> PhotoHeader:
    """Whether the product takes this photo, from its size in bytes and its header alone (fast: nothing is
    decoded); raises ``PhotoRejectedError``. The report page asks this as soon as a photo is chosen."""
    limit_mb = float(settings.get("photo_max_mb"))
    if len(data) > limit_mb * 1024 * 1024:
        msg = f"{filename}: the photo is {len(data) / 1024 / 1024:.1f} MB; the limit is {limit_mb:g} MB"
        raise PhotoRejectedError(msg, filename=filename, reason="too_many_bytes", limit=limit_mb)
    if not data:
        raise PhotoRejectedError(f"{filename}: the file is empty", filename=filename, reason="empty")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with _open_header(data, filename) as image:
                return PhotoHeader(str(image.format), *image.size)
    except PhotoRejectedError:
        raise
    except (OSError, SyntaxError, ValueError, EOFError, TypeError) as exc:
        msg = f"{filename}: not a readable image ({exc})"
        raise PhotoRejectedError(msg, filename=filename, reason="unreadable") from None


def _open_verified(data: bytes, filename: str) -> Image.Image:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            probe = _open_header(data, filename)
            probe.verify()  # checks the file structure; the image must be reopened afterwards
            image = Image.open(io.BytesIO(data), formats=list(FORMATS))
            image.load()
    except PhotoRejectedError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _too_many_pixels(filename) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError, TypeError) as exc:
        msg = f"{filename}: not a readable image ({exc})"
        raise PhotoRejectedError(msg, filename=filename, reason="unreadable") from None
    return image


def _to_srgb(image: Image.Image) -> Image.Image:
    """The image in sRGB when it carries another ICC profile (the profile itself is never kept)."""
    icc = image.info.get("icc_profile")
    if not icc or image.mode not in ("RGB", "RGBA"):
        return image
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        converted = ImageCms.profileToProfile(image, source, ImageCms.createProfile("sRGB"), outputMode=image.mode)
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return image  # an unreadable profile: keep the pixels as they are
    return converted if converted is not None else image


# JPEG markers: APP0..APP15 and COM carry metadata; everything else up to the scan is image data.
_APP0, _APP15, _COM, _SOS, _EOI = 0xE0, 0xEF, 0xFE, 0xDA, 0xD9
_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})  # TEM and RSTn have no length


def strip_jpeg_metadata(jpeg: bytes) -> bytes:
    """``jpeg`` without any metadata segment: every COM and APPn segment is dropped (EXIF, XMP, ICC, IPTC,
    Adobe, MPF, comments) except the encoder's own JFIF APP0 header, which holds only the format version and
    pixel density. For the JPEGs this module encodes (one baseline scan: nothing but image data after it)."""
    if jpeg[:2] != b"\xff\xd8":
        msg = "not a JPEG file (no start-of-image marker)"
        raise ValidationError(msg)
    out = bytearray(jpeg[:2])
    pos = 2
    while pos + 1 < len(jpeg):
        if jpeg[pos] != 0xFF:
            msg = f"corrupt JPEG: expected a marker at byte {pos}"
            raise ValidationError(msg)
        marker = jpeg[pos + 1]
        if marker == 0xFF:  # a fill byte before the marker
            pos += 1
            continue
        if marker in _STANDALONE or marker == _EOI:
            out += jpeg[pos:pos + 2]
            pos += 2
            continue
        length = int.from_bytes(jpeg[pos + 2:pos + 4], "big")
        if length < 2 or pos + 2 + length > len(jpeg):
            msg = f"corrupt JPEG: the segment at byte {pos} runs past the end"
            raise ValidationError(msg)
        if marker == _SOS:  # the scan and the end marker: image data only
            out += jpeg[pos:]
            break
        segment = jpeg[pos:pos + 2 + length]
        metadata = marker == _COM or _APP0 <= marker <= _APP15
        if not metadata or (marker == _APP0 and segment[4:9] == b"JFIF\x00"):
            out += segment
        pos += 2 + length
    return bytes(out)


def _jpeg(image: Image.Image, max_side: int) -> tuple[bytes, int, int]:
    img = image.copy()
    img.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    if img.mode not in ("RGB", "L"):
        img = img.convert("RGBA") if "transparency" in img.info else img
        img = img.convert("RGB")
    img.info = {}  # Pillow writes a source's comment back into the JPEG (and may carry more): keep nothing
    out = io.BytesIO()
    img.save(out, format="JPEG", quality=JPEG_QUALITY, optimize=True)  # no exif/icc_profile/xmp/comment
    return strip_jpeg_metadata(out.getvalue()), img.width, img.height


def photo_from_bytes(data: bytes, filename: str) -> StoredPhoto:
    """Verify, read EXIF position/time, re-encode without any metadata, store by hash; returns the record.
    Raises ``PhotoRejectedError`` (a ``ValidationError``) for a photo the product does not take."""
    check_photo(data, filename)  # size in bytes, format and size in pixels, from the header
    image = _open_verified(data, filename)
    position = exif_position(image)  # read before anything strips the EXIF
    taken_at = exif_taken_at(image)
    try:
        upright = ImageOps.exif_transpose(image)
    except (OSError, ValueError, SyntaxError) as exc:
        msg = f"{filename}: cannot apply the image orientation ({exc})"
        raise ValidationError(msg) from None
    upright = _to_srgb(upright)
    body, width, height = _jpeg(upright, int(settings.get("photo_max_side_px")))
    thumb, _, _ = _jpeg(upright, THUMB_SIDE_PX)
    digest = hashlib.sha256(body).hexdigest()
    folder = settings.media_dir() / digest[:2]
    folder.mkdir(parents=True, exist_ok=True)
    path, thumb_path = folder / f"{digest}.jpg", folder / f"{digest}_thumb.jpg"
    for target, content in ((path, body), (thumb_path, thumb)):
        if not target.exists():
            tmp = target.with_suffix(".tmp")
            tmp.write_bytes(content)
            tmp.replace(target)  # atomic: a reader never sees half a file
    lat, lon = position if position else (None, None)
    return StoredPhoto(path, thumb_path, digest, width, height, taken_at, lat, lon)


def photo_from_path(path: str | Path) -> StoredPhoto:
    """``photo_from_bytes`` for a file on disk (size checked before reading)."""
    path = Path(path)
    limit_mb = float(settings.get("photo_max_mb"))
    if path.stat().st_size > limit_mb * 1024 * 1024:
        msg = f"{path.name}: the photo is {path.stat().st_size / 1024 / 1024:.1f} MB; the limit is {limit_mb:g} MB"
        raise ValidationError(msg)
    return photo_from_bytes(path.read_bytes(), path.name)
