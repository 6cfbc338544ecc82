"""The report page's photo uploader (issue 11, Low): a 30000 × 30000 PNG, a TIFF or a photo with metadata is
handled where it is chosen: a refused photo gets a clear Swedish message naming the limit or the formats, the
form (and its Save button) stays usable, and the report is saved without it."""

from __future__ import annotations

import io
import struct
import sys
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import streamlit
from PIL import Image
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # the pages import app_pages as the running app does
    sys.path.insert(0, str(ROOT))

from app_pages import _ui  # noqa: E402
from trygghetskarta.store import open_store  # noqa: E402

BRO = (17.6366, 59.5115)


@dataclass
class FakeUpload:
    """What ``st.file_uploader`` returns for one file (AppTest cannot upload files itself)."""

    name: str
    data: bytes

    def getvalue(self) -> bytes:
        return self.data


def _png_header_of_size(width: int, height: int) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    idat = zlib.compress(b"\x00" * ((width + 7) // 8 + 1) * 8, 9)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0))
            + chunk(b"IDAT", idat) + chunk(b"IEND", b""))


def _image(fmt: str, **options: Any) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (90, 40, 40)).save(out, format=fmt, **options)
    return out.getvalue()


def _heic(xmp_secret: bytes) -> bytes:
    """A real HEIC written by pillow-heif, with XMP that must not be kept."""
    from pillow_heif import from_pillow

    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:Description>' + xmp_secret + b"</rdf:Description></x:xmpmeta>"
    out = io.BytesIO()
    from_pillow(Image.new("RGB", (64, 48), (40, 90, 40))).save(out, quality=90, xmp=xmp)
    return out.getvalue()


@pytest.fixture
def report_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'report.sqlite'}"
    store = open_store(url)
    store.init()
    store.dispose()
    monkeypatch.setenv("TRYGGHETSKARTA_DB", url)
    monkeypatch.setenv("TRYGGHETSKARTA_BASEMAP", "none")
    return url


def _with_uploads(monkeypatch: pytest.MonkeyPatch, uploads: list[FakeUpload]) -> None:
    real = streamlit.file_uploader

    def file_uploader(label: str, *args: Any, **kwargs: Any) -> Any:
        if str(kwargs.get("key", "")).startswith("rap_files_"):
            assert kwargs.get("type") == ["jpg", "jpeg", "png", "webp", "heic", "heif"]
            return list(uploads)
        return real(label, *args, **kwargs)

    monkeypatch.setattr(streamlit, "file_uploader", file_uploader)


def test_huge_png_and_tiff_are_refused_and_the_form_stays_usable(report_db: str,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    good = _image("JPEG", comment=b"HEMLIG-KOMMENTAR")
    heic = _heic(b"HEMLIG-XMP")  # an iPhone's photo
    _with_uploads(monkeypatch, [FakeUpload("stor.png", _png_header_of_size(30_000, 30_000)),
                                FakeUpload("skannad.tif", _image("TIFF")), FakeUpload("lampa.jpg", good),
                                FakeUpload("IMG_0042.HEIC", heic)])
    at = AppTest.from_file(str(ROOT / "app_pages" / "rapportera.py"), default_timeout=120)
    at.session_state["tk_user"] = {"username": "test_deltagare", "role": "deltagare", "organisation": None}
    at.session_state["tk_lang"] = "sv"
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    errors = [str(e.value) for e in at.error]
    assert not any("fel-id" in e for e in errors), errors  # not "Något gick fel"
    assert any(e.startswith("stor\\.png: bilden är för stor") and "Gränsen är 50 miljoner pixlar" in e
               for e in errors), errors
    assert any(e.startswith("skannad\\.tif: TIFF tas inte emot") and "JPEG, PNG, WebP eller HEIC" in e
               for e in errors), errors
    assert not any("IMG_0042" in e for e in errors), errors
    save = [b for b in at.button if b.label == _ui.text("save")]
    assert save, "the Save button must stay"
    at.session_state["rap_cat_0"] = "belysning_trasig"
    at.session_state["rap_finding_tap"] = BRO
    at.run()
    next(b for b in at.button if b.label == _ui.text("save")).click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert any(s.startswith("Sparat (nr ") for s in (str(x.value) for x in at.success)), \
        [str(x.value) for x in at.success] + [str(e.value) for e in at.error]
    store = open_store(report_db)
    [finding_id] = store.read("finding", None)["id"].tolist()
    stored = store.photos([int(finding_id)])
    assert len(stored) == 2  # the accepted photos only (the JPEG and the HEIC), without their metadata
    for path in stored["path"]:
        assert Path(path).suffix == ".jpg" and b"HEMLIG" not in Path(path).read_bytes()
    store.dispose()
