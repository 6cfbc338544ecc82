"""notebooks/lagesbild.ipynb runs top to bottom and builds the same month's figures the store holds."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from trygghetskarta import demo, privacy
from trygghetskarta.store import open_store

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "lagesbild.ipynb"


def _ensure_kernel() -> None:
    """Install this venv's python3 kernelspec if missing, so a fresh clone runs the notebook."""
    from jupyter_client.kernelspec import KernelSpecManager

    if "python3" not in KernelSpecManager().find_kernel_specs():
        subprocess.run([sys.executable, "-m", "ipykernel", "install", "--sys-prefix"], check=True,
                       capture_output=True)


@pytest.mark.slow
def test_lagesbild_notebook_runs_and_matches_the_store(tmp_path, monkeypatch):
    _ensure_kernel()
    url = f"sqlite:///{tmp_path / 'nb.sqlite'}"
    store = open_store(url)
    store.init()
    demo.fill(store, seed=21)
    monkeypatch.setenv("LAGESBILD_NOTEBOOK_DB", url)
    nb = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    printed = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
                      if o.get("output_type") == "stream")
    totals = ast.literal_eval(printed.split("TOTALS ", 1)[1].splitlines()[0])
    partner = ast.literal_eval(printed.split("PARTNER ", 1)[1].splitlines()[0])
    start, end = "2026-10-01", "2026-10-31"
    assert totals["finding"] == int(store.count_by("finding", ["category"], start=start, end=end)["count"].sum())
    assert totals["incident"] == int(store.count_by("incident", ["type"], start=start, end=end)["count"].sum())
    assert totals["sighting"] == int(store.count_by("sighting", ["type"], start=start, end=end)["count"].sum())
    # Partners get field sightings only as sums of published cells over whole ISO weeks (issue 11).
    published = int(privacy.published_counts(store, "sighting", [], start, end)["count"].sum())
    for kind, shown in partner.items():
        value = published if kind == "sighting" else totals[kind]
        assert shown == (str(value) if value >= 5 else "<5")
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
              if o.get("output_type") == "error"]
    assert not errors
    store.dispose()
