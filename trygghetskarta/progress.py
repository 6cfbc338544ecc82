"""The progress callback every long job takes (demo, import, reports): ``progress(fraction, message)``, with
``fraction`` from 0 to 1 and a short Swedish message. The CLI shows a bar, the pages a progress widget."""

from __future__ import annotations

from collections.abc import Callable

Progress = Callable[[float, str], None]


def silent(fraction: float, message: str) -> None:
    """A progress callback that shows nothing (scripts, tests)."""
