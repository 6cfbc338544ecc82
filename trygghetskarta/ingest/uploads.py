"""Uploaded import files waiting for their preview to be confirmed (``data/uploads``).

An upload is stored under a random name that keeps only a cleaned stem and the suffix (the suffix names the
declared format; the stem only helps people recognise the file in messages). An upload whose preview is never
confirmed is removed after ``upload_max_age_hours`` by ``remove_stale``, which the import pages call on every
visit and ``trygghetskarta gallra`` calls daily.
"""

from __future__ import annotations

import re
import time
import uuid
from pathlib import Path

from trygghetskarta import settings

_UNSAFE = re.compile(r"[^\w.-]+")


def folder() -> Path:
    """The uploads folder (created when missing)."""
    path = settings.data_dir() / "uploads"
    path.mkdir(parents=True, exist_ok=True)
    return path


def save(name: str, data: bytes) -> Path:
    """Store an upload's bytes under a fresh name; returns its path."""
    original = Path(name.replace("\\", "/")).name
    suffix = Path(original).suffix.lower()[:10]
    stem = _UNSAFE.sub("_", Path(original).stem).strip("._")[:60] or "upload"
    path = folder() / f"{uuid.uuid4().hex[:12]}_{stem}{_UNSAFE.sub('', suffix)}"
    path.write_bytes(data)
    return path


def remove_stale(max_age_hours: float | None = None, now: float | None = None) -> int:
    """Remove uploads older than the limit; returns how many were removed."""
    hours = float(settings.get("upload_max_age_hours")) if max_age_hours is None else max_age_hours
    cutoff = (time.time() if now is None else now) - hours * 3600
    removed = 0
    for path in folder().iterdir():
        if path.is_file() and path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)
            removed += 1
    return removed
