"""Photos from the walk: verified, position and time read, orientation applied, EXIF removed.

The file is opened with Pillow's decompression-bomb limit on (a warning is treated as an error), its
EXIF GPS position and DateTimeOriginal are read *first*, then it is re-encoded as JPEG with no EXIF at
all, scaled so its longest side is at most ``photo_max_side_px``, with a thumbnail beside it. Files are
stored by content hash under ``settings.media_dir()``, so the same photo is stored once.
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
from zoneinfo import ZoneInfo

from PIL import Image, ImageOps, UnidentifiedImageError
from PIL.ExifTags import GPS, IFD, Base

from trygghetskarta import settings
from trygghetskarta.errors import ValidationError

THUMB_SIDE_PX = 320
JPEG_QUALITY = 85
MAX_PIXELS = 50_000_000  # ~ a 50-megapixel camera; larger is refused as a decompression bomb


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
    return naive.replace(tzinfo=ZoneInfo(settings.get("timezone")))


def _open_verified(data: bytes, filename: str) -> Image.Image:
    if Image.MAX_IMAGE_PIXELS is None:  # someone switched Pillow's bomb check off; switch it back on
        Image.MAX_IMAGE_PIXELS = 1024 * 1024 * 1024 // 4 // 3
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            probe = Image.open(io.BytesIO(data))
            width, height = probe.size  # from the header, before any pixel is decoded
            if width * height > MAX_PIXELS:
                msg = (f"{filename}: refused: {width} × {height} pixels is more than {MAX_PIXELS:,} "
                       f"(a possible decompression bomb)").replace(",", " ")
                raise ValidationError(msg)
            probe.verify()  # checks the file structure; the image must be reopened afterwards
            image = Image.open(io.BytesIO(data))
            image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        msg = f"{filename}: refused: the image is too large in pixels ({exc}); a possible decompression bomb"
        raise ValidationError(msg) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError, TypeError) as exc:
        if isinstance(exc, ValidationError):
            raise
        msg = f"{filename}: not a readable image ({exc})"
        raise ValidationError(msg) from None
    return image


def _jpeg(image: Image.Image, max_side: int) -> tuple[bytes, int, int]:
    img = image.copy()
    img.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    if img.mode not in ("RGB", "L"):
        img = img.convert("RGBA") if "transparency" in img.info else img
        img = img.convert("RGB")
    out = io.BytesIO()
    img.save(out, format="JPEG", quality=JPEG_QUALITY, optimize=True)  # no exif= argument: nothing kept
    return out.getvalue(), img.width, img.height


def photo_from_bytes(data: bytes, filename: str) -> StoredPhoto:
    """Verify, read EXIF position/time, re-encode without EXIF, store by hash; returns the record."""
    limit_mb = float(settings.get("photo_max_mb"))
    if len(data) > limit_mb * 1024 * 1024:
        msg = f"{filename}: the photo is {len(data) / 1024 / 1024:.1f} MB; the limit is {limit_mb:g} MB"
        raise ValidationError(msg)
    if not data:
        msg = f"{filename}: the file is empty"
        raise ValidationError(msg)
    image = _open_verified(data, filename)
    position = exif_position(image)  # read before anything strips the EXIF
    taken_at = exif_taken_at(image)
    try:
        upright = ImageOps.exif_transpose(image)
    except (OSError, ValueError, SyntaxError) as exc:
        msg = f"{filename}: cannot apply the image orientation ({exc})"
        raise ValidationError(msg) from None
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
