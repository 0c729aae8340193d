"""Where an experiment's runs are kept as they finish, so a killed run resumes.

Each finished batch of runs is one Parquet part in ``FOLDER/parts/``,
published by atomic rename and keyed by run id. A rerun reads the parts and
runs only what is missing. A part's name ends in the SHA-256 of its bytes,
checked on every read: a damaged or truncated part is named in a note, set
aside in ``parts/bad/`` and its runs are run again, so a stored result is never
trusted unchecked. A value is a dict of numbers, or of numbers and
one-dimensional arrays (a trial's per-participant outcomes), kept as Parquet
list columns. ``FOLDER/experiment.json`` records what the runs
belong to (the design's fingerprint and the model version); a different
experiment or model in the same folder is refused unless asked to start afresh.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import signal
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from introsim.experiments.engine import TaskResult
from introsim.output import STOP_AFTER_PARTS, write_bytes, write_json

if TYPE_CHECKING:  # imported where used: `introsim run` checks its folder without them
    import pandas as pd

__all__ = ["RunStore", "StoreMismatch"]

PARTS = "parts"
IDENTITY = "experiment.json"
BAD = "bad"
_PART = re.compile(r"part-[0-9a-f]{20}-(?P<sha>[0-9a-f]{16})\.parquet")


class StoreMismatch(Exception):
    """The folder holds runs of another experiment or model version."""


class RunStore:
    """Append-only run results in a folder.

    Args:
        folder: The experiment's output folder.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.parts = self.folder / PARTS
        self._reused: set[str] = set()  # runs found stored, not run by this process
        self._stored: set[str] = set()  # runs this process stored
        self.notes: list[str] = []
        """What the store found wrong and did about it, for the user."""
        self._written = 0

    @property
    def reused(self) -> int:
        """Runs found stored (and sound) by every :meth:`load` so far, each counted once.

        A study that runs in rounds (a calibration's waves) loads once a round, so this
        counts runs, never parts or loads, and not the runs this process stored itself.
        """
        return len(self._reused)

    def open(
        self, identity: Mapping[str, Any], *, fresh: bool = False, replace_other: bool = False
    ) -> int:
        """Claim the folder for an experiment.

        Args:
            identity: What the runs belong to (must match a previous run's to resume).
            fresh: Discard stored runs of anything else instead of refusing.
            replace_other: Discard stored runs of another study without being asked.

        Returns:
            How many parts were already stored (0 for a new or fresh folder).
            The runs among them are counted by :meth:`load` (:attr:`reused`).

        Raises:
            StoreMismatch: The folder holds runs of something else and ``fresh`` is False.
        """
        marker = self.folder / IDENTITY
        wanted = json.loads(json.dumps(dict(identity), sort_keys=True, default=str))
        if marker.is_file():
            try:
                found = json.loads(marker.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                found = None
            if found != wanted and replace_other:
                fresh = True
            if found != wanted and not fresh:
                what = _difference(found, wanted)
                raise StoreMismatch(
                    f"{self.folder} holds runs of {what}; use another --out or --fresh to "
                    "discard them"
                )
        elif _holds_files(self.folder) and not _published(self.folder):
            # Not a study's folder: its files are someone else's, never to be discarded.
            raise StoreMismatch(
                f"{self.folder} holds files that are not a study's stored runs; "
                "choose another --out"
            )
        if fresh:
            shutil.rmtree(self.parts, ignore_errors=True)
        # The record first: a folder whose record could not be written (a full disk) holds
        # nothing but, at most, an empty parts folder, and is claimed again on the next run.
        write_json(wanted, marker)
        self.parts.mkdir(parents=True, exist_ok=True)
        return sum(1 for _ in self.parts.glob("*.parquet"))

    def load(self, ids: Sequence[str]) -> dict[str, TaskResult]:
        """The stored results of the given run ids (others in the folder are ignored).

        Every part is checked against the checksum in its name first; one that
        fails, or cannot be read, is set aside (see the module docstring).
        """
        wanted = set(ids)
        out: dict[str, TaskResult] = {}
        if not self.parts.is_dir():
            return out
        for part in sorted(self.parts.glob("*.parquet")):
            df = self._read(part)
            if df is None:
                continue
            values = [c for c in df.columns if c not in ("run_id", "error")]
            # Records, not itertuples: outcome names need not be Python identifiers.
            for rec in df.to_dict("records"):
                rid = rec["run_id"]
                if rid not in wanted:
                    continue
                error = str(rec.get("error") or "")
                value = None if error else {c: _cell(rec[c]) for c in values}
                out[rid] = TaskResult(rid, value, error)
        self._reused.update(rid for rid in out if rid not in self._stored)
        return out

    def _read(self, part: Path) -> pd.DataFrame | None:
        """A part's table if its bytes match its checksum and it reads; else set it aside."""
        match = _PART.fullmatch(part.name)
        problem = "" if match else "has no checksum in its name (an older introsim wrote it)"
        try:
            data = part.read_bytes() if match else b""
        except OSError as exc:  # not a file, or unreadable: a read error, said as one
            match, problem = None, f"cannot be read ({exc.strerror or exc})"
        if match:
            if hashlib.sha256(data).hexdigest()[:16] != match["sha"]:
                problem = "is damaged: its bytes do not match its checksum"
            else:
                import pyarrow.parquet as pq

                try:
                    df = pq.read_table(io.BytesIO(data)).to_pandas()
                    if {"run_id", "error"} <= set(df.columns):
                        return df
                    problem = "is not a table of runs"
                except Exception as exc:  # pyarrow's errors have no common base
                    problem = f"cannot be read ({type(exc).__name__})"
        bad = self.parts / BAD
        try:
            bad.mkdir(exist_ok=True)
            os.replace(part, bad / part.name)
        except OSError as exc:
            raise StoreMismatch(
                f"{part} {problem}, and it cannot be set aside in {bad} "
                f"({exc.strerror or exc}); move it away or use --fresh"
            ) from None
        self.notes.append(f"{part} {problem}; set aside in {bad}, and its runs are run again")
        return None

    def write(self, results: Sequence[TaskResult]) -> None:
        """Store a batch of results as one part (atomically: all of it or none)."""
        if not results:
            return
        import pandas as pd

        rows: list[dict[str, Any]] = []
        for r in results:
            row: dict[str, Any] = {"run_id": r.run_id, "error": r.error}
            if r.value is not None:
                row.update({k: _stored(v) for k, v in r.value.items()})
            rows.append(row)
        df = pd.DataFrame(rows)
        for c in df.columns:
            if c not in ("run_id", "error") and not any(isinstance(v, list | str) for v in df[c]):
                df[c] = df[c].astype(np.float64)
        name = hashlib.sha256("".join(r.run_id for r in results).encode()).hexdigest()[:20]
        buffer = io.BytesIO()
        df.to_parquet(buffer, index=False, engine="pyarrow", compression="zstd")
        data = buffer.getvalue()
        checksum = hashlib.sha256(data).hexdigest()[:16]
        write_bytes(data, self.parts / f"part-{name}-{checksum}.parquet")
        self._stored.update(r.run_id for r in results)
        self._written += 1
        if str(self._written) == os.environ.get(STOP_AFTER_PARTS):
            os.kill(os.getpid(), signal.SIGKILL)  # a test's kill at a chosen point


def _holds_files(folder: Path) -> bool:
    """Whether ``folder`` holds anything but, at most, an empty parts folder."""
    if not folder.is_dir():
        return False
    return any(
        not (p.name == PARTS and p.is_dir() and not any(p.iterdir())) for p in folder.iterdir()
    )


def _published(folder: Path) -> bool:
    """Whether ``folder`` holds results introsim published whole, and nothing else."""
    from introsim.output import MARKER, published_files

    marker = published_files(folder)
    if marker is None:
        return False
    found = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}
    return found - {MARKER} <= set(marker["files"])


def _stored(value: Any) -> float | list[float] | str:
    """A number as a float, an array as a list of floats (a Parquet list column), text as is."""
    if isinstance(value, str):
        return value
    if isinstance(value, str):
        return value
    if np.ndim(value) == 0:
        return float(value)
    return np.asarray(value, dtype=np.float64).ravel().tolist()


def _cell(value: Any) -> float | np.ndarray | str:
    """A stored cell back as a float, a float array for a list column, or text."""
    if isinstance(value, str):
        return value
    if np.ndim(value) == 0:
        return float(value)
    return np.asarray(value, dtype=np.float64)


def _difference(found: Any, wanted: dict[str, Any]) -> str:
    if not isinstance(found, dict):
        return "an unreadable experiment record"
    for key in ("model_version", "experiment", "fingerprint"):
        if found.get(key) != wanted.get(key):
            if key == "model_version":
                return f"model version {found.get(key)} (this is {wanted.get(key)})"
            if key == "experiment":
                return f"experiment {found.get(key)!r} (this is {wanted.get(key)!r})"
            return "a different version of this experiment (its file or base scenario changed)"
    return "a different experiment"
