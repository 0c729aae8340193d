"""Writing results: Parquet and JSON, atomically, with what is needed to reproduce them."""

from __future__ import annotations

import csv
import ctypes
import errno
import hashlib
import io
import json
import math
import os
import platform
import re
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import introsim
from introsim.params.text import visible
from introsim.tables import Columns, arrow_table, csv_rows

if TYPE_CHECKING:
    import pandas as pd

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


def _atomic(path: Path, write: Callable[[Path], object]) -> None:
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


MARKER = ".introsim-output.json"
"""File in every published output folder listing its files, so a changed folder is noticed."""

_STAGING = re.compile(r"\.(?:staging|old)-(\d+)-[^/]*$")
_MAX_STEM = 40  # characters of the output folder's name kept in a staging folder's name


def _short(name: str, keep: int) -> str:
    """``name`` cut to ``keep`` characters plus a short hash when longer (unique, bounded)."""
    if len(name.encode()) <= keep:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return name.encode()[:keep].decode(errors="ignore") + "-" + digest


def _pid_alive(pid: int) -> bool:
    """Whether a process of this id exists (a zombie counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def clean_stale_staging(parent: Path) -> list[str]:
    """Remove staging folders in ``parent`` left by processes that no longer run.

    Staging folders carry their process id in their name
    (``.NAME.staging-PID-XXXX``); a run killed while writing leaves one behind.

    Args:
        parent: The folder that holds output folders.

    Returns:
        One note per folder removed.
    """
    notes: list[str] = []
    try:
        entries = list(parent.iterdir())
    except OSError:
        return notes
    for entry in entries:
        match = _STAGING.search(entry.name)
        if match and entry.name.startswith(".") and not _pid_alive(int(match[1])):
            shutil.rmtree(entry, ignore_errors=True)
            notes.append(f"removed {entry}, left by a run that was killed (process {match[1]})")
    return notes


def _checksums(folder: Path) -> dict[str, dict[str, Any]]:
    """Size and SHA-256 of every file under ``folder`` but the marker, by relative path."""
    found = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file() and path.name != MARKER:
            digest = hashlib.sha256()
            with path.open("rb") as handle:
                while block := handle.read(1 << 20):
                    digest.update(block)
            rel = path.relative_to(folder).as_posix()
            found[rel] = {"bytes": path.stat().st_size, "sha256": digest.hexdigest()}
    return found


def output_folder_problem(out: Path) -> tuple[str | None, list[str]]:
    """Check an output folder before any work: may introsim replace it, and is it whole?

    A folder is replaced as a whole when results are published, so it must be
    new, empty, or one introsim wrote (it holds :data:`MARKER`) with no files
    added since. Stale staging folders beside it are removed.

    Args:
        out: The output folder.

    Returns:
        ``(problem, notes)``: why the folder cannot be used (None if it can), and
        notes for the user (staging folders removed, an incomplete folder found).
    """
    out = Path(os.path.abspath(out))
    notes = clean_stale_staging(out.parent)
    if not out.exists():
        return None, notes
    if not out.is_dir():
        return "--out must be a folder, found a file", notes
    entries = list(out.iterdir())
    if not entries:
        return None, notes
    marker = out / MARKER
    try:
        listed = json.loads(marker.read_text(encoding="utf-8"))["files"]
    except (OSError, ValueError, KeyError, TypeError):
        return (
            "the folder exists and was not written by this version of introsim "
            f"(no {MARKER}); it would be replaced as a whole: empty it or choose another --out",
            notes,
        )
    found = _checksums(out)
    extra = sorted(set(found) - set(listed))
    if extra:
        return (
            f"the folder holds files introsim did not write ({', '.join(extra[:3])}); "
            "it would be replaced as a whole: move them or choose another --out",
            notes,
        )
    if found != listed:
        changed = sorted(k for k in listed if found.get(k) != listed[k])
        notes.append(
            f"{out} held an incomplete or altered result ({', '.join(changed[:3])} missing or "
            "changed); it will be replaced"
        )
    return None, notes


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one step (Linux ``renameat2``); False where the system cannot."""
    libc = ctypes.CDLL(None, use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is None:
        return False
    at_fdcwd, rename_exchange = -100, 2
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), str(b))


STOP_AT = "INTROSIM_STOP_AT"
"""Environment variable naming a point where the process kills itself, for tests of
interrupted work: ``staged`` (a study's outputs written beside its folder) or ``swapped``
(the new folder in place, the old one not yet removed)."""
STOP_AFTER_PARTS = "INTROSIM_STOP_AFTER_PARTS"
"""Environment variable: kill the process once it has stored this many parts of runs."""


def stop_point(name: str) -> None:
    """Kill this process with SIGKILL here if :data:`STOP_AT` names this point (tests only)."""
    if os.environ.get(STOP_AT) == name:
        os.kill(os.getpid(), signal.SIGKILL)


def _publish(stage: Path, out: Path, keep: set[str] | None = None) -> None:
    """Put the staged folder at ``out`` all at once; the old folder, if any, goes away.

    ``keep`` names files of the stage (relative paths) that are not results but a
    study's stored work: the marker lists the rest.
    """
    found = _checksums(stage)
    files = {k: v for k, v in found.items() if k not in (keep or set())}
    marker: dict[str, Any] = {"introsim": introsim.__version__, "files": files}
    if keep:
        marker["store"] = {k: v for k, v in found.items() if k == STORE_IDENTITY}
    write_json(marker, stage / MARKER)
    stop_point("staged")
    if not out.exists():
        os.rename(stage, out)  # one step: readers see no folder, or the whole new one
        return
    if _exchange(stage, out):
        stop_point("swapped")
        shutil.rmtree(stage, ignore_errors=True)  # now holds the old folder
        return
    # Two renames: between them ``out`` is absent, never mixed.
    old = stage.with_name(stage.name.replace(".staging-", ".old-", 1))
    os.rename(out, old)
    try:
        os.rename(stage, out)
    except BaseException:
        os.rename(old, out)
        raise
    shutil.rmtree(old, ignore_errors=True)


@contextmanager
def staged_output(out: Path, keep: bool = False) -> Iterator[Any]:
    """Write a set of files into a staging folder, then publish the whole folder as ``out``.

    The staging folder is a sibling of ``out`` named after this process
    (``.NAME.staging-PID-XXXX``). Publishing renames it to ``out`` in one step
    (swapping it with an existing ``out`` where the system can), so ``out`` is
    never half-written or a mix of two runs. If anything fails inside the
    ``with`` block, ``out`` is untouched and the staging folder is removed; a
    staging folder left by a killed process is removed by the next run
    (:func:`clean_stale_staging`).

    Args:
        out: The output folder (replaced as a whole; see :func:`output_folder_problem`).
        keep: Also yield a set to add the stage's files that are stored work to
            (see :func:`staged_study`); the marker lists only the others.

    Yields:
        The staging folder to write the files into (with ``keep``, the folder and
        the set of its files that are stored work, not results).
    """
    out = Path(os.path.realpath(out))
    out.parent.mkdir(parents=True, exist_ok=True)
    prefix = f".{_short(out.name, _MAX_STEM)}.staging-{os.getpid()}-"
    stage = Path(tempfile.mkdtemp(prefix=prefix, dir=out.parent))
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(stage, 0o777 & ~umask)  # mkdtemp's folder is private; results are for sharing
    kept: set[str] = set()
    try:
        yield (stage, kept) if keep else stage
        _publish(stage, out, kept)
    finally:
        shutil.rmtree(stage, ignore_errors=True)


STORE_IDENTITY = "experiment.json"
"""The file that says which study a folder's stored runs belong to (see the run store)."""


def published_files(out: Path) -> dict[str, Any] | None:
    """The marker of a published folder (files and, for a study, its store), or None."""
    try:
        marker = json.loads((out / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return marker if isinstance(marker, dict) and isinstance(marker.get("files"), dict) else None


def stale_problem(folder: Path, name: str) -> str | None:
    """Why the result ``name`` in a study's folder cannot be trusted, or None.

    In a folder introsim wrote (it holds stored runs or a marker), the result
    must be listed, unchanged, in the folder's marker, and the stored runs
    beside it must still be those of the study that published it (not of one
    started since with ``--fresh`` or another file, and not yet finished).
    """
    marker = published_files(folder)
    if marker is None:
        if not (folder / STORE_IDENTITY).exists():
            return None  # not a study's folder: a table made by other means is the user's own
        return (
            f"{folder} holds a study that has not finished (no {MARKER}): run it again to finish it"
        )
    listed = marker["files"].get(name)
    if listed is None or _checksums(folder).get(name) != listed:
        return f"{folder / name} is not the result the folder's marker lists (missing or changed)"
    store = marker.get("store")
    if (
        store is not None
        and {k: v for k, v in _checksums(folder).items() if k == STORE_IDENTITY} != store
    ):
        return (
            f"{folder} holds the results of an earlier study; the study started in it since "
            "has not finished: run it again to finish it"
        )
    return None


@contextmanager
def staged_study(out: Path) -> Iterator[Path]:
    """Like :func:`staged_output`, for a folder that also holds a study's stored work.

    Everything in ``out`` that is not a published result (the stored runs, the
    file naming their study, a study database) is hard-linked into the staging
    folder first, so swapping the folders keeps it, and the old results go with
    the old folder: ``out`` holds the old results or the new, never a mix. The
    marker records the store's identity, so results whose study was since
    restarted (``--fresh``) are known for stale.

    Args:
        out: The study's folder.

    Yields:
        The staging folder to write the results into.
    """
    out = Path(os.path.realpath(out))
    old = published_files(out) or {"files": {}}
    with staged_output(out, keep=True) as (stage, keep):
        linked = {}
        for path in sorted(out.rglob("*")) if out.is_dir() else []:
            rel = path.relative_to(out).as_posix()
            if path.is_file() and rel not in old["files"] and path.name != MARKER:
                (stage / rel).parent.mkdir(parents=True, exist_ok=True)
                os.link(path, stage / rel)
                linked[rel] = path.stat().st_ino
        yield stage
        # A result written over a linked file (a folder an older introsim published) is a result.
        keep.update(rel for rel, ino in linked.items() if (stage / rel).stat().st_ino == ino)


MAX_FOLDER_NAME = 64
"""Longest folder name made from a scenario name (longer ones are cut and given a hash)."""


def folder_name(name: str) -> str:
    """A safe folder name for a scenario name: path separators and oddities become '_'.

    Names longer than :data:`MAX_FOLDER_NAME` are cut and end in a short hash
    of the whole name, so they stay distinct and within the file system's limit.
    """
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("._") or "scenario"
    if len(safe) <= MAX_FOLDER_NAME:
        return safe
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return safe[: MAX_FOLDER_NAME - len(digest) - 1] + "-" + digest


def write_parquet(df: pd.DataFrame | Columns, path: Path) -> None:
    """Write a DataFrame or a table of columns to Parquet atomically.

    The file is byte-identical for identical data.
    """
    if isinstance(df, Mapping):
        import pyarrow.parquet as pq

        table = arrow_table(df)
        _atomic(path, lambda p: pq.write_table(table, p, compression="zstd"))
        return
    _atomic(path, lambda p: df.to_parquet(p, index=False, engine="pyarrow", compression="zstd"))


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _neutral(value: Any) -> Any:
    """A text cell with its hidden characters escaped, and made inert if it reads as a formula."""
    if not isinstance(value, str):
        return value
    value = visible(value)
    return "'" + value if value.startswith(_FORMULA_START) else value


def write_csv(df: pd.DataFrame | Columns, path: Path) -> None:
    r"""Write a DataFrame as CSV atomically, with formula-like text cells neutralised.

    Text (names, labels) beginning with ``= + - @``, tab or carriage return is
    prefixed with ``'`` so a spreadsheet shows it instead of running it (CSV
    formula injection), and control, format and invisible characters in text are
    written as escapes (a right-to-left override as the six characters ``\u202e``)
    so a cell shows what it holds; numbers are written as they are, text is quoted.
    Every CSV the tool writes goes through here. A table of columns gives the same text as
    its DataFrame (:func:`introsim.tables.frame`).
    """
    if isinstance(df, Mapping):
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n", quoting=csv.QUOTE_NONNUMERIC)
        writer.writerows(csv_rows(df, _neutral))
        write_text(buffer.getvalue(), path)
        return
    import pandas as pd

    safe = df.rename(columns=_neutral)
    for column in safe.columns:
        if not pd.api.types.is_numeric_dtype(safe[column]):
            safe[column] = safe[column].map(_neutral)
    # Text quoted always: a carriage return inside an unquoted cell would split the row.
    text = safe.to_csv(index=False, lineterminator="\n", quoting=csv.QUOTE_NONNUMERIC)
    write_text(text, path)


def write_json(data: Any, path: Path) -> None:
    """Write JSON atomically (sorted keys, NaN written as null)."""
    text = json_text(data)
    _atomic(path, lambda p: p.write_text(text + "\n", encoding="utf-8"))


def write_bytes(data: bytes, path: Path) -> None:
    """Write a binary file atomically."""
    _atomic(path, lambda p: p.write_bytes(data))


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


def toml_value(value: Any) -> str:
    """A Python scalar as a TOML value (a JSON string is a TOML basic string)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    return json.dumps(str(value), ensure_ascii=False)
