"""Property-based fuzzing of the scenario loader and the commands that read scenarios.

For generated TOML documents, and for generated values of every schema field,
``validate`` and ``run`` must either accept the file or answer with exit status
2 and one line: never a traceback, a hang or a runaway allocation. ``run`` is
fuzzed on tiny cohorts and horizons, in this process, so the test stays fast.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
import typing
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from introsim.experiments.executor import memory_needed
from introsim.params.loader import ScenarioError, load_scenario
from introsim.params.schema import Scenario

from clitools import call_cli

FUZZ = settings(
    # INTROSIM_FUZZ_EXAMPLES=1000 fuzzes longer; the suite keeps it quick.
    max_examples=int(os.environ.get("INTROSIM_FUZZ_EXAMPLES", "60")),
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TINY_COHORT, TINY_WEEKS = 20, 20  # runs of this size take milliseconds
TINY_MEMORY = 1 << 28  # a tiny run needs far less than this; more would be a runaway


def schema_fields(model: type[BaseModel] = Scenario, prefix: tuple[str, ...] = ()) -> dict:
    """Every leaf field of the schema: dotted path -> (annotation, bounds metadata)."""
    found = {}
    for name, info in model.model_fields.items():
        annotation = info.annotation
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        plain = args[0] if len(args) == 1 and typing.get_origin(annotation) else annotation
        if isinstance(plain, type) and issubclass(plain, BaseModel):
            found |= schema_fields(plain, (*prefix, name))
        else:
            found[(*prefix, name)] = (plain, info.metadata)
    return found


def bound(metadata: list, *names: str) -> float | None:
    values = [getattr(m, n, None) for m in metadata for n in names]
    return next((v for v in values if v is not None), None)


def in_range(kind: type, metadata: list) -> st.SearchStrategy:
    """Values inside a numeric field's bounds, its edges most of all."""
    low, high = bound(metadata, "ge", "gt"), bound(metadata, "le", "lt")
    low = 0 if low is None else low
    high = low + 1000 if high is None else high
    if kind is int:
        return st.sampled_from([int(low), int(high)]) | st.integers(int(low), int(high))
    return st.sampled_from([float(low), float(high)]) | st.floats(float(low), float(high))


FIELDS = schema_fields()


# --------------------------------------------------------------------------- TOML writing
def toml_value(value: Any) -> str:
    """Write a value as TOML (enough for what the strategies make)."""
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
    if isinstance(value, str):
        return json.dumps(value)  # JSON's escapes are TOML's (\uXXXX included)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(k)} = {toml_value(v)}" for k, v in value.items()) + "}"
    raise TypeError(type(value))


def toml_document(values: dict[tuple[str, ...], Any]) -> str:
    """A scenario file setting each dotted field to its value, one table per section."""
    tables: dict[tuple[str, ...], list[str]] = {}
    for path, value in values.items():
        tables.setdefault(path[:-1], []).append(f"{json.dumps(path[-1])} = {toml_value(value)}")
    parts = []
    for table, lines in tables.items():
        if table:
            parts.append("[" + ".".join(table) + "]")
        parts.extend(lines)
    return "\n".join(parts) + "\n"


# --------------------------------------------------------------------------- strategies
numbers = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.integers(min_value=-3, max_value=600),
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(min_value=-2.0, max_value=2.0),
    st.sampled_from([0, 1, -1, 0.0, 1e-300, 1e308, -1e308, 2**63 - 1, 2**31, 1e9, 1e19]),
)
texts = st.text(max_size=40) | st.sampled_from(["", "ips", "standard", "\x1b[31m", "x" * 300])
scalars = numbers | texts | st.booleans()
anything = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)


def value_for(annotation: Any, metadata: list) -> st.SearchStrategy:
    """Values a user might write for a field: inside its bounds, at them, or anything."""
    origin = typing.get_origin(annotation)
    if annotation in (int, float):
        inside = in_range(annotation, metadata)
        return st.one_of(inside, inside, inside, inside, scalars, anything)  # mostly inside
    if origin is tuple:
        items = [a for a in typing.get_args(annotation) if a is not Ellipsis]
        if items and isinstance(items[0], type) and issubclass(items[0], BaseModel):
            table = st.dictionaries(
                st.sampled_from(list(items[0].model_fields)), scalars, max_size=4
            )
            return st.lists(table, max_size=3) | anything
        if items and typing.get_origin(items[0]) is typing.Annotated:
            kind, info = typing.get_args(items[0])
            size = len(items)
            inside = st.lists(in_range(kind, info.metadata), min_size=size, max_size=size)
            return st.one_of(inside, inside, inside, st.lists(numbers, max_size=5), anything)
        return st.lists(numbers, min_size=0, max_size=5) | anything
    if origin is typing.Literal:
        return st.sampled_from(typing.get_args(annotation)) | texts
    return scalars | anything


field_values = st.sampled_from(sorted(FIELDS)).flatmap(
    lambda path: st.tuples(st.just(path), value_for(*FIELDS[path]))
)


# --------------------------------------------------------------------------- the commands
def check_answer(code: int, err: str, *, every: bool = False) -> None:
    """Accepted, or refused with exit 2 and exactly one line (``every``: a line per problem).

    ``validate`` lists every problem of a file, up to its limit, one line each.
    """
    from introsim.experiments.checks import MAX_SHOWN

    lines = [line for line in err.splitlines() if line.strip() and not line.startswith("note: ")]
    if code == 0:
        return
    assert code == 2, err
    most = MAX_SHOWN + 1 if every else 1
    assert 1 <= len(lines) <= most and all(line.startswith("error: ") for line in lines), err
    assert "\x1b" not in err and "\x00" not in err


def validate_and_run(text: str, may_run: bool = True) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fuzz.toml"
        path.write_text(text, encoding="utf-8")
        try:
            scenario = load_scenario(path)
        except ScenarioError as e:
            assert "\n" not in str(e) and str(e).startswith(str(path))
            scenario = None
        res = call_cli("validate", path)
        code, err = res.returncode, res.stderr
        event("accepted" if code == 0 else "refused")
        check_answer(code, err, every=True)
        assert (code == 0) == (scenario is not None)
        if scenario is None or not may_run:
            return
        assert memory_needed(scenario) < TINY_MEMORY
        res = call_cli("run", path, "--seed", "1", "--out", Path(folder) / "o", "--json")
        code, out, err = res.returncode, res.stdout, res.stderr
        check_answer(code, err)
        event("ran" if code == 0 else "run refused")
        if code == 0:
            summary = json.loads(out)
            costs = [summary["outcomes"]["cost_per_participant_nok"], *summary["costs"].values()]
            assert all(isinstance(c, float | int) and math.isfinite(c) for c in costs), costs
            assert (Path(folder) / "o" / "summary.json").is_file()
        else:
            assert not (Path(folder) / "o").exists()


# --------------------------------------------------------------------------- properties
@FUZZ
@given(st.lists(field_values, min_size=1, max_size=4, unique_by=lambda pv: pv[0]))
def test_generated_values_of_every_field_are_accepted_or_refused_in_one_line(pairs) -> None:
    values = dict(pairs)
    size, weeks = values.get(("cohort", "size")), values.get(("scenario", "weeks"))
    tiny_run = all(
        not isinstance(v, int | float) or isinstance(v, bool) or v <= limit
        for v, limit in ((size, TINY_COHORT), (weeks, TINY_WEEKS))
    )
    values.setdefault(("cohort", "size"), TINY_COHORT)
    values.setdefault(("scenario", "weeks"), TINY_WEEKS)
    validate_and_run(toml_document(values), may_run=tiny_run)


@FUZZ
@given(st.text(max_size=300))
def test_generated_text_is_accepted_or_refused_in_one_line(text) -> None:
    validate_and_run(text, may_run=False)


TOP_KEYS = [*sorted({p[0] for p in FIELDS}), "extends", "x"]


@FUZZ
@given(st.dictionaries(st.sampled_from(TOP_KEYS), anything))
def test_generated_documents_are_accepted_or_refused_in_one_line(doc) -> None:
    text = "\n".join(f"{json.dumps(k)} = {toml_value(v)}" for k, v in doc.items())
    validate_and_run(text + "\n", may_run=False)


NUMERIC = sorted(p for p, (kind, _) in FIELDS.items() if kind in (int, float))
SIZE_FIELDS = {("cohort", "size"), ("scenario", "weeks")}


@FUZZ
@given(
    st.lists(
        st.sampled_from([p for p in NUMERIC if p not in SIZE_FIELDS]).flatmap(
            lambda path: st.tuples(st.just(path), in_range(*FIELDS[path]))
        ),
        min_size=1,
        max_size=6,
        unique_by=lambda pv: pv[0],
    )
)
def test_values_within_the_bounds_run_or_are_refused_in_one_line(pairs) -> None:
    # Every bound must be runnable: the largest values a field accepts may not crash a run.
    values = {("cohort", "size"): TINY_COHORT, ("scenario", "weeks"): TINY_WEEKS, **dict(pairs)}
    validate_and_run(toml_document(values))
