"""The documentation stays true: generated references match, links resolve, nothing points out."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from introsim.params.catalog import params_table

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def test_parameter_reference_is_generated_from_the_schema():
    text = (ROOT / "docs" / "parameters.md").read_text(encoding="utf-8")
    assert text == params_table("markdown"), (
        "docs/parameters.md is stale: regenerate it with "
        "`introsim params --format markdown > docs/parameters.md`"
    )


def test_whole_amounts_in_the_reference_are_written_in_full():
    # Read as a scenario file would take it, each default is the schema's value; a whole
    # amount is written in full (1350000, not the 1.35e+06 of six significant digits).
    import tomllib

    from introsim.params.catalog import iter_params

    checked = 0
    for p in iter_params():
        values = p.default if isinstance(p.default, tuple) else (p.default,)
        if not all(isinstance(v, float) and v.is_integer() for v in values):
            continue
        text = p.default_text()
        assert "e" not in text, f"{p.path}: {text}"
        parsed = tomllib.loads(f"x = {text}")["x"]
        assert list(values) == (parsed if isinstance(parsed, list) else [parsed]), p.path
        checked += 1
    assert checked > 0


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_relative_links_resolve(doc: Path):
    targets = [t for t in LINK.findall(doc.read_text(encoding="utf-8"))]
    local = [t.split("#")[0] for t in targets if not re.match(r"[a-z]+:", t) and t[0] != "#"]
    assert local or doc.name != "README.md"
    for target in local:
        path = (doc.parent / target).resolve()
        assert path.exists(), f"{doc.name}: link to {target} does not resolve"
        assert ROOT in path.parents or path == ROOT, f"{doc.name}: {target} leaves the repository"


def test_nothing_points_outside_the_repository():
    files = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    # The design notes and evidence tables the project was built from live outside it.
    pattern = re.compile(r"\.\./shared|\bDESIGN\.md|\bEVIDENCE\.md|\b[Ii]ssue \d+\b|\bseed 00\d\b")
    offenders = []
    for name in files:
        path = ROOT / name
        if path.suffix not in {".py", ".md", ".toml", ".j2", ".ipynb", ".txt"}:
            continue
        if path.resolve() == Path(__file__).resolve():
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if pattern.search(line):
                offenders.append(f"{name}:{number}: {line.strip()[:90]}")
    assert not offenders, "\n".join(offenders[:20])
