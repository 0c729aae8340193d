"""The schema as a table: every scenario parameter with its dotted path and metadata.

Commands that list parameters (``introsim params``), check experiment factors
or build controls read the schema through this module, so the schema stays
the one place that holds defaults, units, bounds and sources.
"""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass
from typing import Any, Literal

import annotated_types
from pydantic import BaseModel

from introsim.params.schema import Scenario

__all__ = [
    "ParamInfo",
    "iter_params",
    "matching",
    "not_a_parameter",
    "param_info",
    "params_table",
    "params_text",
]


@dataclass(frozen=True)
class ParamInfo:
    """One scenario parameter.

    Attributes:
        path: Dotted path, as used by ``Scenario.with_overrides`` and ``--set``.
        kind: ``"int"``, ``"float"``, ``"bool"``, ``"category"``, ``"text"`` or ``"other"``.
        default: The default value.
        unit: Unit of the value.
        meaning: One line saying what it is.
        source: Where the figure comes from, or None.
        low: Smallest accepted value (numbers), or None.
        high: Largest accepted value (numbers), or None.
        low_open: True where ``low`` itself is excluded (``gt``).
        high_open: True where ``high`` itself is excluded (``lt``).
        choices: The accepted values of a category, else None.
        optional: True where the field also accepts None ("derived" when unset).
        plausible: ``(low, high)`` the schema declares as the range a value without a direct
            source may take, else None (calibration and sensitivity studies read it).
        kernel: The name the compiled kernels read the value by, else None.
    """

    path: str
    kind: str
    default: Any
    unit: str
    meaning: str
    source: str | None
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    choices: tuple[str, ...] | None = None
    optional: bool = False
    plausible: tuple[float, float] | None = None
    kernel: str | None = None

    def default_text(self) -> str:
        """The default as a scenario file would write it ('derived' where None)."""
        if self.default is None:
            return "derived"
        if isinstance(self.default, bool):
            return str(self.default).lower()
        if isinstance(self.default, float):
            return _default_number(self.default)
        if isinstance(self.default, tuple):
            return (
                "["
                + ", ".join(
                    _default_number(v) if isinstance(v, float) else str(v) for v in self.default
                )
                + "]"
            )
        return str(self.default)

    def bounds_text(self) -> str:
        """The accepted range in words, e.g. ``[1, 520]`` or ``(0, 1]``; '' when unbounded."""
        if self.choices:
            return " | ".join(self.choices)
        if self.low is None and self.high is None:
            return ""
        left = "(" if self.low_open else "["
        right = ")" if self.high_open else "]"
        low = "-inf" if self.low is None else _number(self.low)
        high = "inf" if self.high is None else _number(self.high)
        return f"{left}{low}, {high}{right}"

    def plausible_text(self) -> str:
        """The declared plausible range, e.g. ``0.3 to 1``; '' when none is declared."""
        if self.plausible is None:
            return ""
        return f"{_number(self.plausible[0])} to {_number(self.plausible[1])}"


def _default_number(x: float) -> str:
    """A float default as a scenario file would write it: whole amounts in full, not 1.35e+06."""
    if x.is_integer() and abs(x) < 1e15:
        return str(int(x))
    return f"{x:g}"


def _number(x: float) -> str:
    """A bound as people write it: whole numbers in full, others to 6 significant digits."""
    if isinstance(x, int) or float(x).is_integer():
        return f"{int(x):,}".replace(",", "\u202f")  # a thin space groups thousands
    return f"{x:g}"


def _kind(annotation: Any) -> tuple[str, tuple[str, ...] | None, bool]:
    origin = typing.get_origin(annotation)
    optional = False
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        optional = len(args) < len(typing.get_args(annotation))
        if len(args) == 1:
            annotation = args[0]
            origin = typing.get_origin(annotation)
    if origin is Literal:
        return "category", tuple(str(a) for a in typing.get_args(annotation)), optional
    if annotation is bool:
        return "bool", None, optional
    if annotation is int:
        return "int", None, optional
    if annotation is float:
        return "float", None, optional
    if annotation is str:
        return "text", None, optional
    return "other", None, optional


def _walk(model: type[BaseModel], instance: BaseModel, prefix: str) -> list[ParamInfo]:
    out: list[ParamInfo] = []
    for name, field in model.model_fields.items():
        path = f"{prefix}{name}"
        value = getattr(instance, name)
        if isinstance(value, BaseModel) and typing.get_origin(field.annotation) is None:
            out += _walk(type(value), value, f"{path}.")
            continue
        kind, choices, optional = _kind(field.annotation)
        extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
        low = high = None
        low_open = high_open = False
        for meta in field.metadata:
            # The schema's bounds are numbers; annotated_types types them only as comparable.
            if isinstance(meta, annotated_types.Ge):
                low = _exact(meta.ge)
            elif isinstance(meta, annotated_types.Gt):
                low, low_open = _exact(meta.gt), True
            elif isinstance(meta, annotated_types.Le):
                high = _exact(meta.le)
            elif isinstance(meta, annotated_types.Lt):
                high, high_open = _exact(meta.lt), True
        out.append(
            ParamInfo(
                path=path,
                kind=kind,
                default=value,
                unit=str(extra.get("unit", "")),
                meaning=field.description or "",
                source=str(extra["source"]) if extra.get("source") is not None else None,
                low=low,
                high=high,
                low_open=low_open,
                high_open=high_open,
                choices=choices,
                optional=optional,
                plausible=_plausible(extra.get("plausible")),
                kernel=_kernel_name(name, extra.get("kernel")),
            )
        )
    return out


def _exact(bound: Any) -> float:
    """A schema bound as a number; an integer stays one (a float rounds 2^63 - 1 to 2^63)."""
    return bound if isinstance(bound, int) and not isinstance(bound, bool) else float(bound)


def _plausible(value: Any) -> tuple[float, float] | None:
    if value is None:
        return None
    low, high = value
    return float(low), float(high)


def _kernel_name(name: str, mark: Any) -> str | None:
    if not mark:
        return None
    return name if mark is True else str(mark)


def iter_params(scenario: Scenario | None = None) -> list[ParamInfo]:
    """Every parameter of the schema, in declaration order.

    Args:
        scenario: Whose values to report as defaults (the schema's own when None).

    Returns:
        One :class:`ParamInfo` per leaf field, nested sections flattened to dotted paths.
    """
    sc = scenario if scenario is not None else Scenario()
    return _walk(Scenario, sc, "")


def param_info(path: str, scenario: Scenario | None = None) -> ParamInfo | None:
    """The parameter at a dotted path, or None where there is none."""
    for info in iter_params(scenario):
        if info.path == path:
            return info
    return None


def not_a_parameter(path: str, what: str = "a parameter") -> str:
    """Why ``path`` is refused, with the closest parameter's path where one is close.

    ``'follow_up.caseloda' is not a parameter; did you mean 'follow_up.caseload'?``
    """
    import difflib

    paths = [p.path for p in iter_params()]
    close = difflib.get_close_matches(path, paths, n=1)
    if not close:  # a misspelt section: compare the last part within every section
        tail = path.rpartition(".")[2]
        close = [p for p in paths if p.rpartition(".")[2] == tail][:1]
    hint = f"did you mean {close[0]!r}?" if close else "see `introsim params` for the paths"
    return f"{path!r} is not {what}; {hint}"


def params_table(fmt: str) -> str:
    """Every parameter as text: ``markdown`` (the parameter reference), ``csv`` or ``json``.

    Args:
        fmt: ``"markdown"``, ``"csv"`` or ``"json"``.

    Returns:
        The whole table, ending in a newline.
    """
    import csv
    import io
    import json

    rows = [
        {
            "path": p.path,
            "default": p.default_text(),
            "unit": p.unit,
            "bounds": p.bounds_text() if p.kind != "category" else "",
            "choices": " | ".join(p.choices or ()),
            "meaning": p.meaning,
            "source": p.source or "",
            "plausible": p.plausible_text(),
        }
        for p in iter_params()
        if p.kind != "other" or p.default is not None
    ]
    if fmt == "json":
        return json.dumps(rows, indent=1, ensure_ascii=False) + "\n"
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        return buf.getvalue()
    if fmt != "markdown":
        raise ValueError(f"unknown format {fmt!r}")

    def cell(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", " ")

    out = [
        "# Parameter reference",
        "",
        "Generated from the scenario schema by `introsim params --format markdown`; "
        "do not edit by hand. Set any of these in a scenario file's section, or on the "
        "command line with `--set PATH=VALUE`. *plausible* is the range the schema declares "
        "for a value without a direct source (its source says why); calibration and "
        "sensitivity studies read it.",
        "",
    ]
    section = None
    for r in rows:
        head = r["path"].split(".")[0]
        if head != section:
            section = head
            out += [
                "",
                f"## [{head}]",
                "",
                "| path | default | unit | bounds | plausible | meaning | source |",
            ]
            out.append("|---|---|---|---|---|---|---|")
        bounds = r["bounds"] or r["choices"]
        out.append(
            f"| `{r['path']}` | {cell(r['default'])} | {cell(r['unit'])} | {cell(bounds)} | "
            f"{cell(r['plausible'])} | {cell(r['meaning'])} | {cell(r['source'])} |"
        )
    return "\n".join(out) + "\n"


def matching(pattern: str | None) -> list[ParamInfo]:
    """The parameters whose path or meaning holds ``pattern`` (case ignored; a ``*`` is a glob).

    Args:
        pattern: ``caseload``, ``wage_subsidy.*``, ...; None or empty for every parameter.
    """
    import fnmatch

    every = [p for p in iter_params() if p.kind != "other" or p.default is not None]
    if not pattern:
        return every
    text = pattern.lower()
    glob = text if any(c in text for c in "*?[") else f"*{text}*"
    return [p for p in every if fnmatch.fnmatch(p.path.lower(), glob) or text in p.meaning.lower()]


def params_text(params: list[ParamInfo], width: int) -> str:
    """Parameters for a terminal ``width`` columns wide, words never split.

    Each parameter is a block: its path, default, unit and bounds on the first line,
    its meaning and source wrapped at word boundaries and indented under it.
    """
    import textwrap

    out = []
    for p in params:
        bounds = p.bounds_text()
        head = f"{p.path} = {p.default_text()}" + (f"  ({p.unit})" if p.unit else "")
        head += f"  {bounds}" if bounds else ""
        out += textwrap.wrap(head, width, subsequent_indent="    ", break_long_words=False)
        for text in (p.meaning, f"source: {p.source}" if p.source else ""):
            if text:
                out += textwrap.wrap(
                    text,
                    width,
                    initial_indent="    ",
                    subsequent_indent="    ",
                    break_long_words=False,
                    break_on_hyphens=False,
                )
    return "\n".join(out) + ("\n" if out else "")
