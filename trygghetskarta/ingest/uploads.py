"""Uploaded import files waiting for their preview to be confirmed (``data/uploads``).

An upload is stored in a folder of its own with a random name, under its cleaned file name (the suffix names the
declared format; the name is what messages show the user). An upload whose preview is never
confirmed is removed after ``upload_max_age_hours`` by ``remove_stale``, which the import pages call on every
visit and ``trygghetskarta gallra`` calls daily.
"""

from __future__ import annotations

import re
import shutil
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
    """Store an upload's bytes in a fresh folder under its cleaned name (so messages name the file the user
    chose); returns its path."""
    original = Path(name.replace("\\", "/")).name
    suffix = _UNSAFE.sub("", Path(original).suffix.lower()[:10])
    stem = _UNSAFE.sub("_", Path(original).stem).strip("._")[:60] or "upload"
    own = folder() / uuid.uuid4().hex
    own.mkdir()
    path = own / f"{stem}{suffix}"
    path.write_bytes(data)
    return path


def discard(path: str | Path) -> None:
    """Remove an upload (and its folder) once it is imported or replaced."""
    path = Path(path)
    if path.parent.parent == folder():
        shutil.rmtree(path.parent, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def remove_stale(max_age_hours: float | None = None, now: float | None = None) -> int:
    """Remove uploads older than the limit; returns how many were removed."""
    hours = float(settings.get("upload_max_age_hours")) if max_age_hours is None else max_age_hours
    cutoff = (time.time() if now is None else now) - hours * 3600
    removed = 0
    for path in folder().iterdir():
        if path.stat().st_mtime >= cutoff:
            continue
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
        removed += 1
    return removed
