"""Photos: EXIF position and time read first, stored file without EXIF, bombs and oversize refused."""

from __future__ import annotations

import datetime as dt
import io
import struct
import zlib
from pathlib import Path
from zoneinfo import ZoneInfo

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
    assert stored.taken_at is not None, "no time read from the EXIF"
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


# --- issue 11: every metadata segment stripped, only the accepted formats opened, bombs refused by header ------


def _jpeg_markers(data: bytes) -> list[tuple[int, bytes]]:
    """The (marker, first bytes of the segment) of a JPEG's header segments, up to the start of the scan."""
    assert data[:2] == b"\xff\xd8"
    found, pos = [], 2
    while pos < len(data):
        assert data[pos] == 0xFF, f"no marker at byte {pos}"
        marker = data[pos + 1]
        length = struct.unpack(">H", data[pos + 2:pos + 4])[0]
        found.append((marker, data[pos + 4:pos + 4 + 14]))
        if marker == 0xDA:  # start of scan: image data follows
            return found
        pos += 2 + length
    return found


def _app13_iptc(text: bytes) -> bytes:
    """A Photoshop APP13 segment with an IPTC caption (as photo tools write one)."""
    iptc = b"\x1c\x02\x78" + struct.pack(">H", len(text)) + text
    resource = b"8BIM\x04\x04\x00\x00" + struct.pack(">I", len(iptc)) + iptc
    body = b"Photoshop 3.0\x00" + resource
    return b"\xff\xed" + struct.pack(">H", len(body) + 2) + body


def _jpeg_with_all_metadata() -> bytes:
    from PIL import ImageCms

    img = Image.new("RGB", (300, 200), (20, 120, 60))
    exif = Image.Exif()
    exif[Base.Make] = "HEMLIG-EXIF"
    xmp = (b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
           b"<rdf:Description>HEMLIG-XMP</rdf:Description></rdf:RDF></x:xmpmeta>")
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    out = io.BytesIO()
    img.save(out, format="JPEG", exif=exif, comment=b"HEMLIG-KOMMENTAR telefon 070-1234567", xmp=xmp,
             icc_profile=icc, extra=_app13_iptc(b"HEMLIG-IPTC"))
    return out.getvalue()


def test_every_metadata_segment_is_stripped() -> None:
    data = _jpeg_with_all_metadata()
    markers = {m for m, _ in _jpeg_markers(data)}
    # the fixture really has them: COM, EXIF/XMP (APP1), ICC (APP2), IPTC (APP13)
    assert {0xFE, 0xE1, 0xE2, 0xED} <= markers
    for secret in (b"HEMLIG-KOMMENTAR", b"HEMLIG-XMP", b"HEMLIG-IPTC", b"HEMLIG-EXIF", b"ICC_PROFILE"):
        assert secret in data
    stored = photos.photo_from_bytes(data, "meta.jpg")
    for path in (stored.path, stored.thumb_path):
        raw = path.read_bytes()
        for secret in (b"HEMLIG", b"070-1234567", b"xmpmeta", b"ns.adobe.com", b"ICC_PROFILE", b"Photoshop",
                       b"8BIM", b"Exif\x00"):
            assert secret not in raw, (path.name, secret)
        segments = _jpeg_markers(raw)
        kept = {m for m, _ in segments}
        assert not kept & {0xFE, *range(0xE1, 0xF0)}, [hex(m) for m in kept]  # no COM, no APP1..APP15
        assert all(head.startswith(b"JFIF\x00") for m, head in segments if m == 0xE0)  # only the JFIF header
        with Image.open(path) as img:
            assert img.format == "JPEG" and not img.info.get("comment") and not img.info.get("icc_profile")
            assert not img.info.get("xmp") and len(img.getexif()) == 0


def test_strip_jpeg_metadata_keeps_the_image() -> None:
    data = _jpeg_with_all_metadata()
    stripped = photos.strip_jpeg_metadata(data)
    assert b"HEMLIG" not in stripped and len(stripped) < len(data)
    with Image.open(io.BytesIO(stripped)) as a, Image.open(io.BytesIO(data)) as b:
        assert a.size == b.size and a.tobytes() == b.tobytes()  # the same pixels
    with pytest.raises(ValidationError, match="not a JPEG"):
        photos.strip_jpeg_metadata(b"\x89PNG\r\n\x1a\n")


def test_huge_png_refused_from_its_header_with_the_limit_named() -> None:
    import time

    bomb = _png_bomb(30_000, 30_000)
    started = time.perf_counter()
    with pytest.raises(photos.PhotoRejectedError, match="more than 50 000 000 pixels") as refused:
        photos.check_photo(bomb, "stor.png")
    assert time.perf_counter() - started < 1.0  # from the header: nothing decoded
    assert refused.value.reason == "too_many_pixels" and refused.value.limit == photos.MAX_PIXELS
    with pytest.raises(photos.PhotoRejectedError, match="9000 × 9000 pixels") as refused:
        photos.check_photo(_png_bomb(9000, 9000), "big.png")
    assert (refused.value.width, refused.value.height) == (9000, 9000)
    from trygghetskarta import capture

    assert capture.position_from_photo(bomb) is None  # the report page's position probe does not crash


def _psd(width: int = 4, height: int = 3) -> bytes:
    """A minimal uncompressed RGB Photoshop file (Pillow's PSD plugin reads it)."""
    header = b"8BPS" + struct.pack(">H6xHIIHH", 1, 3, height, width, 8, 3)
    sections = struct.pack(">III", 0, 0, 0)  # colour mode data, image resources, layers: all empty
    return header + sections + struct.pack(">H", 0) + b"\x80" * (width * height * 3)


def _saved(fmt: str, **options: object) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (10, 20, 30)).save(out, format=fmt, **options)
    return out.getvalue()


@pytest.mark.parametrize(("data", "named"), [
    (_saved("TIFF"), "TIFF"), (_psd(), "PSD"), (_saved("GIF"), "GIF"), (_saved("BMP"), "BMP"),
    (_saved("PPM"), None), (_saved("TGA"), None), (_saved("PCX"), None),
])
def test_only_accepted_formats_are_opened(data: bytes, named: str | None) -> None:
    from PIL import Image as PILImage

    with PILImage.open(io.BytesIO(data)) as img:  # Pillow itself would read each of them
        img.load()
    with pytest.raises(photos.PhotoRejectedError, match="send a photo in JPEG, PNG, WebP") as refused:
        photos.photo_from_bytes(data, "bild.x")
    assert refused.value.reason == "format"
    if named:
        assert f"a {named}" in str(refused.value) and str(refused.value.format).startswith(named)
    else:
        assert refused.value.format is None and "not a readable image" in str(refused.value)
    assert not list(settings.media_dir().rglob("*.jpg"))


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_accepted_formats_are_stored(fmt: str) -> None:
    header = photos.check_photo(_saved(fmt), f"ok.{fmt.lower()}")
    assert (header.format, header.width, header.height) == (fmt, 40, 30)
    stored = photos.photo_from_bytes(_saved(fmt), f"ok.{fmt.lower()}")
    assert (stored.width, stored.height) == (40, 30)


def test_protocol_base_map_opens_only_tile_formats(monkeypatch: pytest.MonkeyPatch) -> None:
    """Base-map tiles come from a server: Pillow parses them only as PNG, JPEG or WebP (issue 11)."""
    from trygghetskarta import protocol

    monkeypatch.setenv("TRYGGHETSKARTA_BASEMAP", "custom")
    monkeypatch.setenv("TRYGGHETSKARTA_TILES_URL", "http://127.0.0.1:9/{z}/{x}/{y}.png")
    bounds = (660_000.0, 6_600_000.0, 661_000.0, 6_601_000.0)
    served: dict[str, bytes] = {}
    monkeypatch.setattr(protocol, "_fetch_tile", lambda url: served["tile"])
    served["tile"] = _saved("PNG")
    assert protocol.basemap_image(bounds, width_px=200) is not None
    for fmt in ("TIFF", "BMP", "GIF"):
        served["tile"] = _saved(fmt)
        assert protocol.basemap_image(bounds, width_px=200) is None, fmt  # not parsed: no base map
    served["tile"] = _png_bomb(30_000, 30_000)
    assert protocol.basemap_image(bounds, width_px=200) is None  # a bomb does not crash the protocol


def _heic_with_gps_and_xmp(lat: float, lon: float) -> bytes:
    """A real HEIC (HEVC in HEIF, as an iPhone sends), written by pillow-heif, with EXIF GPS, time and XMP."""
    from pillow_heif import from_pillow

    img = Image.new("RGB", (400, 300), (30, 90, 200))
    exif = Image.Exif()
    exif[Base.Make] = "HEMLIG-EXIF"
    gps = exif.get_ifd(IFD.GPSInfo)
    for ref, key, value, sign in ((GPS.GPSLatitudeRef, GPS.GPSLatitude, lat, "NS"),
                                  (GPS.GPSLongitudeRef, GPS.GPSLongitude, lon, "EW")):
        d, m = int(abs(value)), int(abs(value) * 60) % 60
        gps[ref], gps[key] = sign[value < 0], (float(d), float(m), round((abs(value) - d - m / 60) * 3600, 4))
    exif.get_ifd(IFD.Exif)[Base.DateTimeOriginal] = "2026:10:14 19:42:05"
    xmp = (b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
           b"<rdf:Description>HEMLIG-XMP</rdf:Description></rdf:RDF></x:xmpmeta>")
    out = io.BytesIO()
    from_pillow(img).save(out, quality=90, exif=exif.tobytes(), xmp=xmp)
    return out.getvalue()


def test_heic_from_an_iphone_is_read_and_stored_without_metadata() -> None:
    data = _heic_with_gps_and_xmp(59.5234, 17.6321)
    assert data[4:12] == b"ftypheic" and b"HEMLIG-EXIF" in data and b"HEMLIG-XMP" in data
    assert "heic" in photos.EXTENSIONS  # the report page offers it
    header = photos.check_photo(data, "IMG_0001.HEIC")
    assert (header.format, header.width, header.height) == ("HEIF", 400, 300)
    stored = photos.photo_from_bytes(data, "IMG_0001.HEIC")
    assert stored.lat == pytest.approx(59.5234, abs=1e-5) and stored.lon == pytest.approx(17.6321, abs=1e-5)
    assert stored.taken_at == dt.datetime(2026, 10, 14, 19, 42, 5, tzinfo=ZoneInfo("Europe/Stockholm"))
    assert (stored.width, stored.height) == (400, 300)
    for path in (stored.path, stored.thumb_path):
        raw = path.read_bytes()
        for secret in (b"HEMLIG", b"xmpmeta", b"Exif\x00", b"ICC_PROFILE"):
            assert secret not in raw, (path.name, secret)
        assert not {m for m, _ in _jpeg_markers(raw)} & {0xFE, *range(0xE1, 0xF0)}
        with Image.open(path) as img:
            assert img.format == "JPEG" and len(img.getexif()) == 0 and not img.info.get("xmp")
            centre = img.convert("RGB").getpixel((img.width // 2, img.height // 2))
            assert isinstance(centre, tuple)
            assert max(abs(c - e) for c, e in zip(centre, (30, 90, 200), strict=True)) <= 8  # the same picture


def test_a_broken_heic_is_refused_by_name() -> None:
    data = _heic_with_gps_and_xmp(59.5, 17.6)
    with pytest.raises(photos.PhotoRejectedError, match=r"IMG_0002\.HEIC: not a readable image") as refused:
        photos.photo_from_bytes(data[: len(data) // 2], "IMG_0002.HEIC")  # cut off in the upload
    assert refused.value.reason == "format" and refused.value.format is None
    assert not list(settings.media_dir().rglob("*.jpg"))
