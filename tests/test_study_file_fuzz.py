"""Every number of every study file kind is bounded; any value is accepted or refused in a line.

The scenario fuzz test (``test_fuzz_loader.py``) does this for scenario files; here
the same is done for experiment, trial, calibration and targets files: the numeric
fields are found in their models, each must have both bounds (or a stated reason
why a bound lies elsewhere), and generated values of those fields, written into
otherwise valid tiny files, make ``introsim validate`` answer ``ok`` or exit 2 with
a line per problem, never a traceback, a hang or a runaway allocation. Sensitivity
files (morris, sobol and delta designs) and ensemble files are fuzzed the same way.
"""

from __future__ import annotations

import copy
import math
import tempfile
import typing
from pathlib import Path
from typing import Any

import pytest
from hypothesis import event, given
from hypothesis import strategies as st
from pydantic import BaseModel

from introsim.experiments.posterior_calibration import MetaSpec, RangeSpec, TargetSettings
from introsim.params.calibration_file import TargetSpec, TermSpec
from introsim.params.experiment_file import ExperimentMeta
from introsim.params.factors import FactorSpec
from introsim.params.trial_file import Recruitment, TakeUp, TrialMeta
from introsim.params.wording import strip_optional
from test_fuzz_loader import FUZZ, bound, check_answer, numbers, toml_value

from clitools import call_cli

MODELS: dict[str, type[BaseModel]] = {
    "experiment": ExperimentMeta,
    "factor": FactorSpec,
    "trial": TrialMeta,
    "recruitment": Recruitment,
    "take_up": TakeUp,
    "calibration": MetaSpec,
    "range": RangeSpec,
    "settings": TargetSettings,
    "target": TargetSpec,
    "term": TermSpec,
}
BOUNDED_ELSEWHERE = {
    ("factor", "min"): "both ends are validated as values of the parameter the factor varies",
    ("factor", "max"): "both ends are validated as values of the parameter the factor varies",
    ("range", "min"): "both ends are validated as values of the free parameter",
    ("range", "max"): "both ends are validated as values of the free parameter",
    ("target", "band"): "either end may be open (inf); finite ends are bounded by the model",
}


def numeric_fields(model: type[BaseModel]) -> dict[str, tuple[type, list[Any]]]:
    """A model's numeric fields (list items included): name -> (int or float, bound metadata)."""
    found = {}
    for name, info in model.model_fields.items():
        plain = strip_optional(info.annotation)
        metadata = list(info.metadata)
        if typing.get_origin(plain) is list:
            item = typing.get_args(plain)[0]
            if typing.get_origin(item) is typing.Annotated:
                item, *extra = typing.get_args(item)
                metadata = [b for m in extra for b in getattr(m, "metadata", [m])]
            plain = item
        if plain in (int, float):
            found[name] = (plain, metadata)
    return found


FIELDS = {
    (kind, name): spec for kind, m in MODELS.items() for name, spec in numeric_fields(m).items()
}


def test_every_numeric_field_of_every_study_file_is_bounded() -> None:
    assert len(FIELDS) > 35  # the walk found the study files' numbers
    unbounded = [
        f"{kind}.{name}"
        for (kind, name), (_, metadata) in FIELDS.items()
        if (kind, name) not in BOUNDED_ELSEWHERE
        and (bound(metadata, "ge", "gt") is None or bound(metadata, "le", "lt") is None)
    ]
    assert unbounded == []


# --------------------------------------------------------------------------- tiny valid files
BASE = '[scenario]\nname = "base"\nweeks = 60\nseed = 7\n[cohort]\nsize = 40\n'
IPS = 'extends = "base.toml"\n[scenario]\nname = "ips"\n[follow_up]\nmethod = "ips"\n'
TABLES: dict[str, dict[str, Any]] = {
    "experiment": {
        "file": "study.toml",
        "tables": {
            "experiment": {
                "name": "fuzz",
                "question": "q",
                "base": "base.toml",
                "replications": 2,
                "seed": 5,
                "design": "lhs",
                "samples": 4,
            },
            "factors": {"follow_up.caseload": {"min": 10, "max": 30}},
        },
        "fields": {
            "experiment": ("experiment",),
            "factor": ("factors", "follow_up.caseload"),
        },
    },
    "trial": {
        "file": "trial.toml",
        "tables": {
            "trial": {
                "name": "fuzz",
                "question": "q",
                "control": "base.toml",
                "treatment": "ips.toml",
                "outcome": "employed_12m",
                "sample_sizes": [40, 80],
                "trials": 200,
                "seed": 5,
                "designs": ["individual"],
            },
            "recruitment": {"sites": 6, "per_site": 30, "weeks": 4},
            "take_up": {"share": 0.6},
        },
        "fields": {"trial": ("trial",), "recruitment": ("recruitment",), "take_up": ("take_up",)},
    },
    "calibration": {
        "file": "cal.toml",
        "tables": {
            "calibration": {
                "name": "fuzz",
                "targets": "targets.toml",
                "seed": 5,
                "waves": 1,
                "points": 8,
                "members": 2,
                "replicates": 2,
            },
            "target": {"t": {"replicates": 2}},
            "parameters": {"follow_up.caseload": {"min": 10, "max": 30}},
        },
        "fields": {
            "calibration": ("calibration",),
            "settings": ("target", "t"),
            "range": ("parameters", "follow_up.caseload"),
        },
    },
    "targets": {
        "file": "targets.toml",
        "tables": {
            "target": [
                {
                    "name": "t",
                    "statistic": "employed_12m",
                    "terms": [{"scenario": "ips.toml", "coef": 1.0}],
                    "band": [0.1, 0.9],
                    "source": "s",
                }
            ]
        },
        "fields": {"target": ("target", 0), "term": ("target", 0, "terms", 0)},
    },
}
SENSITIVITY = {
    "morris": {"trajectories": 2},
    "sobol": {"samples": 8},
    "delta": {"samples": 100},
}
for _design, _size in SENSITIVITY.items():  # sensitivity files: the same tables, another design
    _tables = copy.deepcopy(TABLES["experiment"]["tables"])
    _tables["experiment"] = {
        **{k: v for k, v in _tables["experiment"].items() if k != "samples"},
        "design": _design,
        **_size,
    }
    _tables["factors"]["mechanisms.separation_hazard"] = {"min": 0.002, "max": 0.012}
    TABLES[_design] = {**TABLES["experiment"], "tables": _tables}
TARGETS = TABLES["targets"]["tables"]
# Fields that decide how many points validation builds (about 7 ms each): inside their bounds
# they are drawn small, so the test stays fast; beyond their bounds anything is drawn.
SIZES = {
    ("experiment", "samples"): 60,
    ("experiment", "replications"): 1_000,
    ("experiment", "trajectories"): 20,
    ("experiment", "resamples"): 400,
}


def toml_text(tables: dict[str, Any]) -> str:
    """A study file: each top-level table as inline TOML (the loaders read any layout)."""
    return "".join(f"{key} = {toml_value(value)}\n" for key, value in tables.items())


def inside(kind: type, metadata: list[Any], most: float | None = None) -> st.SearchStrategy:
    """Values inside a field's bounds, its edges most of all."""
    low, high = bound(metadata, "ge", "gt"), bound(metadata, "le", "lt")
    low = 0 if low is None else low
    high = low + 1000 if high is None else high
    if most is not None:
        high = min(high, most)
    if kind is int:
        return st.sampled_from([int(low), int(high)]) | st.integers(int(low), int(high))
    return st.sampled_from([float(low), float(high)]) | st.floats(float(low), float(high))


def value_for(key: tuple[str, str]) -> st.SearchStrategy:
    kind, metadata = FIELDS[key]
    within = inside(kind, metadata, SIZES.get(key))
    return st.one_of(within, within, within, numbers, st.lists(within, min_size=1, max_size=3))


def field_edits(file_kind: str) -> st.SearchStrategy:
    """One to three (table, field, value) edits of a file kind's numeric fields."""
    keys = [k for k in FIELDS if k[0] in TABLES[file_kind]["fields"]]
    one = st.sampled_from(keys).flatmap(lambda k: st.tuples(st.just(k), value_for(k)))
    return st.lists(one, min_size=1, max_size=3, unique_by=lambda kv: kv[0])


def apply(tables: dict[str, Any], where: tuple[Any, ...], name: str, value: Any) -> None:
    node: Any = tables
    for part in where:
        node = node[part]
    # Lists of numbers (sample sizes, ratio, band) take a list; a single number is also tried.
    node[name] = value


def answer(file_kind: str, edits: list[tuple[tuple[str, str], Any]]):
    """``introsim validate`` of a tiny file of this kind with the edits made."""
    spec = TABLES[file_kind]
    tables = copy.deepcopy(spec["tables"])
    for (kind, name), value in edits:
        apply(tables, spec["fields"][kind], name, value)
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "base.toml").write_text(BASE, encoding="utf-8")
        (root / "ips.toml").write_text(IPS, encoding="utf-8")
        if file_kind == "calibration":
            (root / "targets.toml").write_text(toml_text(TARGETS), encoding="utf-8")
        path = root / spec["file"]
        path.write_text(toml_text(tables), encoding="utf-8")
        return call_cli("validate", path)


def validate(file_kind: str, edits: list[tuple[tuple[str, str], Any]]) -> None:
    res = answer(file_kind, edits)
    event("accepted" if res.returncode == 0 else "refused")
    check_answer(res.returncode, res.stderr, every=True)
    assert res.returncode != 0 or ": ok (" in res.stdout, res.stdout


def test_the_tiny_files_are_valid() -> None:
    for file_kind in TABLES:
        res = answer(file_kind, [])
        assert res.returncode == 0, res.stderr


@pytest.mark.parametrize("file_kind", list(TABLES))
def test_generated_numbers_are_accepted_or_refused_in_one_line(file_kind: str) -> None:
    @FUZZ
    @given(field_edits(file_kind))
    def check(edits: list[tuple[tuple[str, str], Any]]) -> None:
        validate(file_kind, edits)

    check()


def test_nan_and_infinity_are_refused_in_every_numeric_field() -> None:
    for kind, name in FIELDS:
        file_kind = next(k for k, spec in TABLES.items() if kind in spec["fields"])
        is_list = typing.get_origin(strip_optional(MODELS[kind].model_fields[name].annotation))
        for value in (math.nan, math.inf):
            if (kind, name, value) == ("target", "band", math.inf):
                continue  # an open band is allowed: [0, inf]
            written = [value, value] if is_list is list else value
            res = answer(file_kind, [((kind, name), written)])
            assert res.returncode == 2, (kind, name, value, res.stdout)
            check_answer(res.returncode, res.stderr, every=True)


# --------------------------------------------------------------------------- ensemble files
def _member_values() -> st.SearchStrategy:
    """One member: one to three scenario parameters (dotted) with generated values."""
    from test_fuzz_loader import FIELDS as SCENARIO_FIELDS
    from test_fuzz_loader import value_for as scenario_value

    numeric = sorted(p for p, (kind, _) in SCENARIO_FIELDS.items() if kind in (int, float))
    one = st.sampled_from(numeric).flatmap(
        lambda p: st.tuples(st.just(".".join(p)), scenario_value(*SCENARIO_FIELDS[p]))
    )
    return st.lists(one, min_size=1, max_size=3, unique_by=lambda kv: kv[0]).map(dict)


@FUZZ
@given(st.lists(_member_values(), min_size=1, max_size=3))
def test_generated_ensemble_members_are_accepted_or_refused_in_one_line(members) -> None:
    # Every member's numbers are the schema's parameters, each within the schema's bounds.
    text = "".join(
        "[[member]]\n" + "".join(f'"{k}" = {toml_value(v)}\n' for k, v in m.items())
        for m in members
    )
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "ensemble.toml"
        path.write_text(text, encoding="utf-8")
        res = call_cli("validate", path)
    event("accepted" if res.returncode == 0 else "refused")
    check_answer(res.returncode, res.stderr, every=True)
    assert res.returncode != 0 or ": ok (ensemble: " in res.stdout, res.stdout
