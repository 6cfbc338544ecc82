"""Limits that keep a hostile or mistaken file from exhausting memory: size, rows, archive bombs."""

from __future__ import annotations

import zipfile
import zlib
from pathlib import Path

from trygghetskarta import settings
from trygghetskarta.errors import ValidationError

MAX_RATIO = 200  # a member that expands more than this is treated as a bomb
MAX_MEMBERS = 2000


def max_bytes() -> int:
    """The largest import file (and uncompressed archive content), in bytes."""
    return int(float(settings.get("import_max_mb")) * 1024 * 1024)


def check_file_size(path: Path) -> int:
    """The file's size, or a ValidationError when it is missing or too large."""
    if not path.is_file():
        msg = f"{path.name}: no such file"
        raise ValidationError(msg)
    size = path.stat().st_size
    if size > max_bytes():
        msg = (f"{path.name}: the file is {size / 1024 / 1024:.1f} MB; the limit is "
               f"{settings.get('import_max_mb')} MB (setting import_max_mb)")
        raise ValidationError(msg)
    if size == 0:
        msg = f"{path.name}: the file is empty"
        raise ValidationError(msg)
    return size


def check_rows(n: int, file: str) -> None:
    """Refuse a file with more rows than ``import_max_rows``."""
    limit = int(settings.get("import_max_rows"))
    if n > limit:
        msg = f"{file}: more than {limit:,} rows; the limit is {limit:,} (setting import_max_rows)".replace(",", " ")
        raise ValidationError(msg)


def open_zip(path: Path) -> zipfile.ZipFile:
    """Open an archive after checking its members' total uncompressed size and compression ratio."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        msg = f"{path.name}: not a readable zip archive ({exc})"
        raise ValidationError(msg) from None
    try:
        infos = archive.infolist()
        if len(infos) > MAX_MEMBERS:
            msg = f"{path.name}: the archive holds {len(infos)} files; at most {MAX_MEMBERS} are read"
            raise ValidationError(msg)
        total = sum(i.file_size for i in infos)
        if total > max_bytes():
            msg = (f"{path.name}: the archive would expand to {total / 1024 / 1024:.0f} MB, more than the "
                   f"{settings.get('import_max_mb')} MB limit (setting import_max_mb); refused as a possible zip bomb")
            raise ValidationError(msg)
        for info in infos:
            if info.file_size > 1024 * 1024 and info.file_size > MAX_RATIO * max(info.compress_size, 1):
                ratio = info.file_size / max(info.compress_size, 1)
                msg = (f"{path.name}: member {info.filename!r} expands {ratio:.0f} times (limit {MAX_RATIO}); "
                       f"refused as a possible zip bomb")
                raise ValidationError(msg)
            if info.flag_bits & 0x1:
                msg = f"{path.name}: member {info.filename!r} is encrypted"
                raise ValidationError(msg)
    except ValidationError:
        archive.close()
        raise
    return archive


def read_member(archive: zipfile.ZipFile, name: str, file: str) -> bytes:
    """Read one archive member, never more than the import limit even if its header lies."""
    limit = max_bytes()
    try:
        with archive.open(name) as handle:
            data = handle.read(limit + 1)
    except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError, EOFError, zlib.error) as exc:
        msg = f"{file}: cannot read {name!r} from the archive ({exc})"
        raise ValidationError(msg) from None
    if len(data) > limit:
        msg = f"{file}: {name!r} expands beyond the {settings.get('import_max_mb')} MB limit; refused"
        raise ValidationError(msg)
    return data
