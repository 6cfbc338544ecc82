"""Photos: EXIF position and time read first, stored file without EXIF, bombs and oversize refused."""

from __future__ import annotations

import datetime as dt
import io
import struct
import zlib
from pathlib import Path

import pytest
from PIL import Image
from PIL.ExifTags import GPS, IFD, Base

from trygghetskarta import photos, settings
from trygghetskarta.errors import ValidationError


def _jpeg_with_gps(lat: float, lon: float, size: tuple[int, int] = (400, 300), orientation: int = 1) -> bytes:
    img = Image.new("RGB", size, (200, 30, 30))
    exif = Image.Exif()
    exif[Base.Orientation] = orientation
    exif[Base.Make] = "TestCam"

    def dms(value: float) -> tuple[float, float, float]:
        value = abs(value)
        d = int(value)
        m = int((value - d) * 60)
        s = (value - d - m / 60) * 3600
        return (float(d), float(m), round(s, 4))

    gps = exif.get_ifd(IFD.GPSInfo)
    gps[GPS.GPSLatitudeRef] = "N" if lat >= 0 else "S"
    gps[GPS.GPSLatitude] = dms(lat)
    gps[GPS.GPSLongitudeRef] = "E" if lon >= 0 else "W"
    gps[GPS.GPSLongitude] = dms(lon)
    sub = exif.get_ifd(IFD.Exif)
    sub[Base.DateTimeOriginal] = "2026:10:14 19:42:05"
    out = io.BytesIO()
    img.save(out, format="JPEG", exif=exif)
    return out.getvalue()


def test_gps_exif_gives_position_and_time() -> None:
    data = _jpeg_with_gps(59.5234, 17.6321)
    stored = photos.photo_from_bytes(data, "lampa.jpg")
    assert stored.lat == pytest.approx(59.5234, abs=1e-5)
    assert stored.lon == pytest.approx(17.6321, abs=1e-5)
    assert stored.taken_at == dt.datetime(2026, 10, 14, 19, 42, 5, tzinfo=stored.taken_at.tzinfo)
    assert stored.taken_at.utcoffset() == dt.timedelta(hours=2)  # Stockholm summer time, no zone in EXIF


def test_stored_file_has_no_exif_and_is_named_by_hash() -> None:
    stored = photos.photo_from_bytes(_jpeg_with_gps(59.5, 17.6), "x.jpg")
    raw = stored.path.read_bytes()
    assert b"Exif" not in raw[:4096]
    with Image.open(stored.path) as img:
        assert img.format == "JPEG"
        assert len(img.getexif()) == 0
        assert not img.getexif().get_ifd(IFD.GPSInfo)
    with Image.open(stored.thumb_path) as thumb:
        assert max(thumb.size) <= photos.THUMB_SIDE_PX
        assert len(thumb.getexif()) == 0
    assert stored.path.name == f"{stored.sha256}.jpg"
    assert stored.path.is_relative_to(settings.media_dir())


def test_orientation_is_applied_and_long_side_limited(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRYGGHETSKARTA_PHOTO_MAX_SIDE_PX", "100")
    # orientation 6 = rotate 90° clockwise to display: a 400 × 300 sensor image is shown upright as 300 × 400
    stored = photos.photo_from_bytes(_jpeg_with_gps(59.5, 17.6, orientation=6), "r.jpg")
    assert (stored.width, stored.height) == (75, 100)


def test_same_photo_stored_once() -> None:
    data = _jpeg_with_gps(59.5, 17.6)
    a = photos.photo_from_bytes(data, "a.jpg")
    b = photos.photo_from_bytes(data, "b.jpg")
    assert a.path == b.path
    assert len(list(a.path.parent.glob("*.jpg"))) == 2  # the photo and its thumbnail


def test_photo_without_gps() -> None:
    out = io.BytesIO()
    Image.new("RGB", (50, 40), "white").save(out, format="PNG")
    stored = photos.photo_from_bytes(out.getvalue(), "plain.png")
    assert (stored.lat, stored.lon, stored.taken_at) == (None, None, None)
    assert (stored.width, stored.height) == (50, 40)


def _png_bomb(width: int, height: int) -> bytes:
    """A valid 1-bit PNG header of the given size with a tiny compressed body (never decoded)."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    row = b"\x00" + b"\x00" * ((width + 7) // 8)
    idat = zlib.compress(row * 16, 9)  # only the start; the size check must refuse before decoding
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def test_png_decompression_bomb_refused() -> None:
    bomb = _png_bomb(20_000, 20_000)
    assert len(bomb) < 10_000
    with pytest.raises(ValidationError, match="bomb.png: refused.*decompression bomb"):
        photos.photo_from_bytes(bomb, "bomb.png")
    assert not list(settings.media_dir().rglob("*.jpg"))


def test_our_pixel_limit_refuses_below_pillows_warning() -> None:
    # 81 Mpx is under Pillow's warning threshold (~89 Mpx) but over the project's limit
    with pytest.raises(ValidationError, match="big.png: refused: 9000 × 9000 pixels"):
        photos.photo_from_bytes(_png_bomb(9000, 9000), "big.png")


def test_size_limit_has_a_clear_message(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRYGGHETSKARTA_PHOTO_MAX_MB", "0.01")
    data = _jpeg_with_gps(59.5, 17.6, size=(800, 800))
    assert len(data) > 0.01 * 1024 * 1024
    with pytest.raises(ValidationError, match=r"big.jpg: the photo is .* MB; the limit is 0.01 MB"):
        photos.photo_from_bytes(data, "big.jpg")


@pytest.mark.parametrize("data", [b"", b"not an image at all", b"\x89PNG\r\n\x1a\n" + b"\x00" * 40])
def test_garbage_is_refused(data: bytes) -> None:
    with pytest.raises(ValidationError, match="junk.jpg"):
        photos.photo_from_bytes(data, "junk.jpg")


def test_photo_from_path(tmp_path: Path) -> None:
    p = tmp_path / "p.jpg"
    p.write_bytes(_jpeg_with_gps(59.51, 17.7))
    assert photos.photo_from_path(p).lat == pytest.approx(59.51, abs=1e-5)
