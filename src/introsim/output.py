"""Writing results: Parquet and JSON, atomically, with what is needed to reproduce them."""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd

import introsim

PACKAGES: tuple[str, ...] = (
    "mesa",
    "numpy",
    "numba",
    "pandas",
    "pyarrow",
    "pydantic",
    "SALib",
    "plotly",
)


def _atomic(path: Path, write: Callable[[Path], None]) -> None:
    """Write through a temporary file in the same folder, then rename over ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(fd)
    # mkstemp makes the file private (0600); results are for sharing, so honour the umask.
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    try:
        write(Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@contextmanager
def staged_output(out: Path) -> Iterator[Path]:
    """Write a set of files into a staging folder, then publish them into ``out`` together.

    If anything fails inside the ``with`` block, no file reaches ``out`` and the
    staging folder is removed, so a folder is never left half-written.

    Args:
        out: The output folder (created when the files are published).

    Yields:
        The staging folder to write the files into.
    """
    out.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{out.name}.staging-", dir=out.parent))
    try:
        yield stage
        out.mkdir(parents=True, exist_ok=True)
        for f in sorted(stage.iterdir()):
            os.replace(f, out / f.name)
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def folder_name(name: str) -> str:
    """A safe folder name for a scenario name: path separators and oddities become '_'."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("._") or "scenario"


def write_parquet(df: pd.DataFrame, path: Path) -> None:
    """Write a DataFrame to Parquet atomically, byte-identical for identical data."""
    _atomic(path, lambda p: df.to_parquet(p, index=False, engine="pyarrow", compression="zstd"))


def write_csv(df: pd.DataFrame, path: Path) -> None:
    """Write a table as CSV (UTF-8, no index) atomically."""
    _atomic(path, lambda tmp: df.to_csv(tmp, index=False))


def write_json(data: Any, path: Path) -> None:
    """Write JSON atomically (sorted keys, NaN written as null)."""
    text = json_text(data)
    _atomic(path, lambda p: p.write_text(text + "\n", encoding="utf-8"))


def write_text(text: str, path: Path) -> None:
    """Write a text file atomically."""
    _atomic(path, lambda p: p.write_text(text, encoding="utf-8"))


def json_text(data: Any) -> str:
    """JSON with sorted keys; NaN and infinities become null (JSON has neither)."""
    return json.dumps(_clean(data), indent=2, sort_keys=True, allow_nan=False)


def _clean(x: Any) -> Any:
    if isinstance(x, dict):
        return {str(k): _clean(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_clean(v) for v in x]
    if isinstance(x, float):
        return x if x == x and abs(x) != float("inf") else None
    if hasattr(x, "item"):  # numpy scalars
        return _clean(x.item())
    return x


def package_versions(names: Iterable[str] = PACKAGES) -> dict[str, str]:
    """Installed versions of introsim and the packages results depend on."""
    out = {"introsim": introsim.__version__, "python": platform.python_version()}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def git_commit() -> str | None:
    """The commit of the introsim checkout, where it is one; else None."""
    here = Path(__file__).resolve().parent
    try:
        out = subprocess.run(
            ["git", "-C", str(here), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None
