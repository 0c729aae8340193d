"""The notebooks in notebooks/ run top to bottom (code cells in order, one namespace)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))


def test_there_are_notebooks():
    assert NOTEBOOKS


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs(path, monkeypatch, tmp_path):
    # Started anywhere (a kernel's folder is the front end's choice): the notebook finds the
    # repository from its own path, which Jupyter's server gives its kernel.
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("JPY_SESSION_NAME", str(path))
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    code = [c for c in cells if c["cell_type"] == "code"]
    assert code, f"{path.name} has no code"
    namespace: dict = {}
    for number, cell in enumerate(code, 1):
        # A failing cell raises here, naming the notebook and cell.
        exec(
            compile("".join(cell["source"]), f"{path.name}, code cell {number}", "exec"), namespace
        )
