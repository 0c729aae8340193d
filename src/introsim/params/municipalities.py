"""Read and validate the municipal profile files in ``municipalities/``.

Three kinds of CSV file live there, each described column by column in
``municipalities/README.md``:

- ``kommuner_2024.csv``: the reference list of municipalities (2024 structure),
  against which every other file's municipality numbers, names and counties are checked;
- ``norway_<year>.csv``: one profile row per municipality that settles refugees
  (:class:`MunicipalityProfile`), the inputs of a municipality's run;
- ``observed_<year>.csv``: outcome statistics by municipality
  (:class:`ObservedOutcome`), for comparison only, never for fitting or calibration.

Files are data: they are parsed with :mod:`csv`, never evaluated. An empty cell is a
figure that could not be found (``None``), never a zero. Every problem is raised as one
:class:`~introsim.params.loader.ScenarioError` whose message is a single line naming the
file, the line and the column, as the scenario loader's errors do::

    norway_2023.csv:12: settled_2023: expected a whole number from 0 to 1000000 (persons), ...

The error's ``errors`` attribute lists every problem found in the file.
"""

from __future__ import annotations

import csv
import difflib
import os
import stat
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import UnionType
from typing import Annotated, Any, Generic, TypeVar, Union, cast, get_args, get_origin

import annotated_types
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.fields import FieldInfo

from introsim.params.loader import ScenarioError

__all__ = [
    "MunicipalityCode",
    "MunicipalityProfile",
    "ObservedOutcome",
    "Table",
    "load_observed",
    "load_profiles",
    "load_reference",
    "validate_profile_files",
]

REFERENCE_NAME = "kommuner_2024.csv"
"""The reference list's file name; by default it is looked for next to the file read."""
MAX_CSV_BYTES = 8 << 20
"""Largest file read: a national profile file is about 50 KiB."""
MAX_POPULATION = 2_000_000
"""Largest population a municipality may have: Oslo, the largest, has about 720 000."""
MAX_PERSONS = 1_000_000
"""Largest count of persons in one cell (settled, participants, employed)."""
CENTRALITY_CLASS_FLOOR = {1: 925, 2: 870, 3: 775, 4: 670, 5: 565, 6: 0}
"""Lowest centrality index value of each SSB centrality class (classification 128): class 1 is
925-1000, class 2 870-924, ..., class 6 0-564. A profile's index must fall in its class."""
SUPPRESSED_CELLS_PER_YEAR = 4
"""IMDi withholds each sex x age-group cell (men/women x 55 or under/over 55) of a
municipality's non-Ukrainian refugees when it holds 1-4 persons: at most 4 cells a year."""

Persons = Annotated[int, Field(ge=0, le=MAX_PERSONS, json_schema_extra={"unit": "persons"})]
SuppressedCells = Annotated[
    int, Field(ge=0, le=SUPPRESSED_CELLS_PER_YEAR, json_schema_extra={"unit": "cells"})
]
Share = Annotated[float, Field(ge=0, le=1, json_schema_extra={"unit": "share of 1"})]


class _Row(BaseModel):
    """One CSV row: strings in, typed values out, nothing else allowed."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class MunicipalityCode(_Row):
    """One municipality of the reference list (SSB's classification 131, 2024 structure)."""

    municipality_number: str = Field(
        pattern=r"^\d{4}$",
        description="Municipality number, four digits, valid from 1 January 2024.",
        json_schema_extra={"expected": "a four-digit municipality number such as '0301'"},
    )
    municipality_name: str = Field(min_length=1, max_length=100, description="Official name.")
    county_number: str = Field(
        pattern=r"^\d{2}$",
        description="County number, two digits: the municipality number's first two.",
        json_schema_extra={"expected": "a two-digit county number such as '03'"},
    )
    county_name: str = Field(min_length=1, max_length=100, description="Official county name.")


class MunicipalityProfile(MunicipalityCode):
    """One municipality's profile for 2023: its intake, its size and its labour market.

    Sources, definitions and coverage of every field: ``municipalities/README.md``.
    Optional fields are ``None`` where the figure was not found or is not published.
    """

    population: int = Field(
        ge=1,
        le=MAX_POPULATION,
        description="Residents on 1 January 2024 (persons); SSB table 07459.",
        json_schema_extra={"unit": "persons"},
    )
    centrality_class: int = Field(
        ge=1,
        le=6,
        description="SSB's centrality class (classification 128): 1 most central, 6 least.",
        json_schema_extra={"unit": "class"},
    )
    centrality_index: int | None = Field(
        None,
        ge=0,
        le=1000,
        description=(
            "SSB's centrality index for the 2024 municipalities (population 1 January 2023,"
            " workplaces and services 2020), 0-1000; Oslo = 1000."
        ),
        json_schema_extra={"unit": "index points"},
    )
    settled_2022: Persons | None = Field(
        None, description="Refugees settled in 2022 (IMDi); a lower bound, see suppressed cells."
    )
    settled_2022_suppressed_cells: SuppressedCells | None = Field(
        None, description="Cells of 1-4 persons IMDi withheld from settled_2022."
    )
    settled_2023: Persons | None = Field(
        None, description="Refugees settled in 2023 (IMDi); a lower bound, see suppressed cells."
    )
    settled_2023_suppressed_cells: SuppressedCells | None = Field(
        None, description="Cells of 1-4 persons IMDi withheld from settled_2023."
    )
    settled_2024_partial: Persons | None = Field(
        None, description="Refugees settled in 2024 up to IMDi's extract of 13 November 2024."
    )
    settled_2024_partial_suppressed_cells: SuppressedCells | None = Field(
        None, description="Cells of 1-4 persons IMDi withheld from settled_2024_partial."
    )
    settled_2023_collective_protection: Persons | None = Field(
        None, description="Of settled_2023: displaced persons from Ukraine (collective protection)."
    )
    settled_2023_other: Persons | None = Field(
        None, description="Of settled_2023: other refugees; a lower bound (suppressed cells)."
    )
    settled_2023_women: Persons | None = Field(
        None, description="Of settled_2023: women and girls."
    )
    settled_2023_men: Persons | None = Field(None, description="Of settled_2023: men and boys.")
    settled_2023_over_55: Persons | None = Field(None, description="Of settled_2023: aged over 55.")
    requested_2024: Persons | None = Field(
        None, description="Refugees IMDi asked the municipality to settle in 2024 (anmodning)."
    )
    decided_2024: Persons | None = Field(
        None, description="Refugees the municipality decided to settle in 2024 (vedtak)."
    )
    intro_participants_2023: Persons | None = Field(
        None, description="Introduction-programme participants in 2023 (SSB 'introinnv')."
    )
    intro_finishers_2023: Persons | None = Field(
        None, description="Participants who finished the programme in 2023."
    )
    unemployment_rate_2023: Share | None = Field(
        None, description="Registered wholly unemployed, share of the labour force (NAV), 2023."
    )
    employed_residents_2023: Persons | None = Field(
        None, description="Employed residents aged 15-74, 4th quarter 2023 (SSB table 11616)."
    )
    employed_workplace_2023: Persons | None = Field(
        None, description="Employed persons aged 15-74 working in the municipality, Q4 2023."
    )
    employed_residents_2022: Persons | None = Field(
        None, description="Employed residents aged 15-74, 4th quarter 2022 (SSB table 11616)."
    )
    employed_workplace_2022: Persons | None = Field(
        None, description="Employed persons aged 15-74 working in the municipality, Q4 2022."
    )
    population_15_74_2022: Persons | None = Field(
        None, description="Residents aged 15-74 in SSB table 11616, 4th quarter 2022."
    )


class ObservedOutcome(MunicipalityCode):
    """One municipality's observed programme results: for comparison only, never for fitting."""

    finished_year: int = Field(
        ge=2004,
        le=2100,
        description="Calendar year in which the participants finished the programme.",
        json_schema_extra={"unit": "year"},
    )
    finishers: Persons | None = Field(None, description="Participants who finished that year.")
    work_or_education_at_exit: Persons | None = Field(
        None, description="Of the finishers: directly into work or education (IMDi)."
    )
    share_work_or_education_at_exit: Share | None = Field(
        None, description="work_or_education_at_exit / finishers."
    )
    share_work_or_education_1y_after: Share | None = Field(
        None, description="Share in work or education in November a year later (SSB)."
    )
    source: str | None = Field(None, max_length=300, description="Publisher, table and year.")


RowT = TypeVar("RowT", bound=MunicipalityCode)


@dataclass(frozen=True)
class Table(Generic[RowT]):
    """The validated rows of one file, in file order.

    Attributes:
        path: The file read.
        rows: One validated row per data line.
    """

    path: Path
    rows: tuple[RowT, ...]

    def __len__(self) -> int:
        """Number of rows."""
        return len(self.rows)

    def __iter__(self) -> Iterator[RowT]:
        """The rows, in file order."""
        return iter(self.rows)

    def by_number(self) -> dict[str, RowT]:
        """The rows keyed by municipality number (the last row wins where a key repeats)."""
        return {row.municipality_number: row for row in self.rows}

    def coverage(self) -> dict[str, int]:
        """How many rows give a value for each column (an empty cell gives none)."""
        names = list(type(self.rows[0]).model_fields) if self.rows else []
        return {n: sum(getattr(row, n) is not None for row in self.rows) for n in names}


# --------------------------------------------------------------------------- public API
def load_reference(path: str | os.PathLike[str]) -> dict[str, MunicipalityCode]:
    """Read the reference list of municipalities.

    Args:
        path: ``kommuner_2024.csv`` or a file of the same columns.

    Returns:
        The municipalities keyed by number.

    Raises:
        ScenarioError: One line naming the file, line and column of the first problem.
    """
    return _read(Path(path), MunicipalityCode, None, _KEY_NUMBER).by_number()


def load_profiles(
    path: str | os.PathLike[str], *, reference: str | os.PathLike[str] | None = None
) -> Table[MunicipalityProfile]:
    """Read and validate a municipal profile file such as ``municipalities/norway_2023.csv``.

    Args:
        path: The profile file.
        reference: The reference list of municipalities; by default
            ``kommuner_2024.csv`` in the profile file's folder.

    Returns:
        The validated profiles, one per municipality, in file order.

    Raises:
        ScenarioError: For any problem: an unreadable file, an unknown or missing column,
            text in a number, a value out of bounds, an unknown municipality number, a name
            or county that does not match the reference, a repeated municipality, or parts
            that do not add up to their total. The message is the first problem.
    """
    ref = _reference_path(Path(path), reference)
    return _read(Path(path), MunicipalityProfile, ref, _KEY_NUMBER, _profile_sums)


def load_observed(
    path: str | os.PathLike[str], *, reference: str | os.PathLike[str] | None = None
) -> Table[ObservedOutcome]:
    """Read and validate an observed-outcomes file such as ``municipalities/observed_2023.csv``.

    The figures are for comparison with model results only, never for fitting.

    Args:
        path: The observed-outcomes file.
        reference: As for :func:`load_profiles`.

    Returns:
        The validated rows, one per municipality and year finished.

    Raises:
        ScenarioError: As for :func:`load_profiles`; a municipality may appear once per year.
    """
    ref = _reference_path(Path(path), reference)
    return _read(Path(path), ObservedOutcome, ref, _KEY_NUMBER_YEAR, _observed_sums)


def csv_kind(path: str | os.PathLike[str]) -> str:
    """Which of the municipal data files a CSV is: ``observed``, ``reference`` or ``profiles``.

    ``observed_*.csv`` holds observed outcomes (comparison only); a file whose header is the
    reference list's columns (``kommuner_2024.csv``) is the list of municipalities; any other
    is read as profiles, whose loader names what is missing.
    """
    path = Path(path)
    if path.name.startswith("observed_"):
        return "observed"
    records = _records(path, _read_text(path))
    header = [c.strip() for c in records[0][1]] if records else []
    return "reference" if header == list(MunicipalityCode.model_fields) else "profiles"


def load_any(path: str | os.PathLike[str]) -> tuple[str, int]:
    """Load a municipal data file of any kind (:func:`csv_kind`); return its kind and rows.

    Raises:
        ScenarioError: One line naming the file, line and column of the first problem.
    """
    kind = csv_kind(path)
    if kind == "observed":
        return kind, len(load_observed(path))
    if kind == "reference":
        return kind, len(load_reference(path))
    return kind, len(load_profiles(path))


def validate_profile_files(paths: Iterable[str | os.PathLike[str]]) -> list[ScenarioError]:
    """Check municipal data files of any kind (profiles, observed outcomes, the reference list).

    Args:
        paths: Files to check.

    Returns:
        One :class:`ScenarioError` per bad file (holding all its problems), in the
        order given; empty when every file is valid.
    """
    found: list[ScenarioError] = []
    for path in paths:
        try:
            load_any(path)
        except ScenarioError as exc:
            found.append(exc)
    return found


# --------------------------------------------------------------------------- reading
_KEY_NUMBER = ("municipality_number",)
_KEY_NUMBER_YEAR = ("municipality_number", "finished_year")

Problem = tuple[int | None, str | None, str]
"""Line (None: the whole file), column (None: the whole line) and message."""


def _reference_path(path: Path, reference: str | os.PathLike[str] | None) -> Path:
    """The reference list named, or the one next to ``path``."""
    return Path(reference) if reference is not None else path.parent / REFERENCE_NAME


def _read(
    path: Path,
    model: type[RowT],
    reference_path: Path | None,
    key: Sequence[str],
    sums: Callable[[Any], list[tuple[str, str]]] | None = None,
) -> Table[RowT]:
    """Parse, type-check and cross-check one file; raise all its problems at once."""
    text = _read_text(path)
    # The file itself first: a missing file is named before a missing reference list.
    reference = load_reference(reference_path) if reference_path is not None else None
    problems: list[Problem] = []
    rows: list[RowT] = []
    first_line: dict[tuple[Any, ...], int] = {}
    records = _records(path, text)
    header_line, header = records[0] if records else (1, [])
    columns = _check_header(header, model, problems, header_line)
    if columns is not None:
        for line, cells in records[1:]:
            if len(cells) != len(columns):
                problems.append((line, None, f"expected {len(columns)} fields, found {len(cells)}"))
                continue
            raw = {c: v.strip() for c, v in zip(columns, cells, strict=True)}
            row = _validate_row(model, raw, line, problems)
            if row is None:
                continue
            ident = tuple(getattr(row, k) for k in key)
            if ident in first_line:
                what = " in ".join(map(str, ident))
                problems.append((line, key[-1], f"{what} is already on line {first_line[ident]}"))
                continue
            first_line[ident] = line
            problems.extend((line, c, m) for c, m in _against_reference(row, reference))
            problems.extend((line, c, m) for c, m in (sums(row) if sums else ()))
            rows.append(row)
    if problems:
        _raise(path, problems)
    return Table(path=path, rows=tuple(rows))


def _read_text(path: Path) -> str:
    """Return the file's text, or raise one line: missing, not a file, too big or not UTF-8."""
    try:
        info = path.stat()
    except FileNotFoundError:
        raise ScenarioError(path, "file does not exist") from None
    except OSError as exc:
        raise ScenarioError(path, f"cannot read file: {exc.strerror or exc}") from None
    # A device or FIFO would be read without end or block: only regular files are read.
    if not stat.S_ISREG(info.st_mode):
        raise ScenarioError(path, "is not a regular file; name a CSV file")
    if info.st_size > MAX_CSV_BYTES:
        raise ScenarioError(path, f"file is larger than {MAX_CSV_BYTES >> 20} MiB")
    try:
        raw = path.read_bytes()
        return raw.decode("utf-8-sig")
    except OSError as exc:
        raise ScenarioError(path, f"cannot read file: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise ScenarioError(path, "file is not UTF-8 text; save it as UTF-8", line=line) from None


def _records(path: Path, text: str) -> list[tuple[int, list[str]]]:
    """Return (line, cells) for each record, skipping blank lines and ``#`` comment lines."""
    kept = [
        (number, line)
        for number, line in enumerate(text.splitlines(), start=1)
        if line.strip() and not line.startswith("#")
    ]
    reader = csv.reader((line for _, line in kept), strict=True)
    records: list[tuple[int, list[str]]] = []
    consumed = 0  # physical lines the reader had read before this record
    try:
        for cells in reader:
            records.append((kept[consumed][0], cells))
            consumed = reader.line_num
    except csv.Error as exc:
        line = kept[min(reader.line_num, len(kept)) - 1][0]
        raise ScenarioError(path, f"malformed CSV: {exc}", line=line) from None
    return records


def _check_header(
    header: list[str], model: type[BaseModel], problems: list[Problem], line: int
) -> list[str] | None:
    """Return the columns if the header is usable; else record why and return None."""
    names = [h.strip() for h in header]
    fields = model.model_fields
    if not names:
        problems.append((None, None, "file is empty; the first line must name the columns"))
        return None
    for name in names:
        if name not in fields:
            close = difflib.get_close_matches(name, fields, n=1)
            hint = f"did you mean {close[0]!r}?" if close else "municipalities/README.md lists them"
            problems.append((line, name, f"unknown column; {hint}"))
    seen: set[str] = set()
    for name in names:
        if name in seen:
            problems.append((line, name, "column named twice"))
        seen.add(name)
    for name, info in fields.items():
        if info.is_required() and name not in seen:
            problems.append((line, name, "required column is missing"))
    return None if problems else names


def _validate_row(
    model: type[RowT], raw: Mapping[str, str], line: int, problems: list[Problem]
) -> RowT | None:
    """Validate one row; an empty cell is None (not found), never zero."""
    data = {c: (v if v != "" else None) for c, v in raw.items()}
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors():
            column = str(err["loc"][0]) if err["loc"] else None
            problems.append((line, column, _message(model, column, err, raw)))
        return None


def _message(model: type[BaseModel], column: str | None, err: Any, raw: Mapping[str, str]) -> str:
    """Say what the column expects and what the cell holds."""
    if column is None or column not in model.model_fields:
        return str(err["msg"])
    found = raw.get(column, "")
    if found == "":
        return f"the cell is empty; expected {_expected(model, column)}"
    return f"expected {_expected(model, column)}, found {found!r}"


def _expected(model: type[BaseModel], column: str) -> str:
    """Describe a column's type, bounds and unit, e.g. 'a whole number >= 0 (persons)'."""
    info = model.model_fields[column]
    base, metadata = info.annotation, list(info.metadata)
    extra = dict(info.json_schema_extra) if isinstance(info.json_schema_extra, dict) else {}
    if get_origin(base) in (Union, UnionType):  # an optional column: T | None
        base = next(a for a in get_args(base) if a is not type(None))
    if get_origin(base) is Annotated:  # a shared type such as Persons
        base, *inner = get_args(base)
        for meta in inner:
            if isinstance(meta, FieldInfo):
                metadata += meta.metadata
                if isinstance(meta.json_schema_extra, dict):
                    extra = {**meta.json_schema_extra, **extra}
    if "expected" in extra:
        return str(extra["expected"])
    lo = next((m.ge for m in metadata if isinstance(m, annotated_types.Ge)), None)
    hi = next((m.le for m in metadata if isinstance(m, annotated_types.Le)), None)
    kind = {int: "a whole number", float: "a number"}.get(cast(type, base), "text")
    if lo is not None and hi is not None:
        bounds = f" from {lo} to {hi}" if base is int else f" between {lo} and {hi}"
    else:
        bounds = f" >= {lo}" if lo is not None else ""
    unit = f" ({extra['unit']})" if "unit" in extra else ""
    return f"{kind}{bounds}{unit}"


def _against_reference(
    row: MunicipalityCode, reference: Mapping[str, MunicipalityCode] | None
) -> list[tuple[str, str]]:
    """Check the row's number, name and county against the reference list."""
    if reference is None:
        return []
    known = reference.get(row.municipality_number)
    if known is None:
        return [("municipality_number", f"unknown municipality number {row.municipality_number!r}")]
    wrong = []
    for column in ("municipality_name", "county_number", "county_name"):
        want, have = getattr(known, column), getattr(row, column)
        if want != have:
            wrong.append(
                (column, f"expected {want!r} for {row.municipality_number}, found {have!r}")
            )
    return wrong


def _parts(row: BaseModel, total: str, *parts: str) -> list[tuple[str, str]]:
    """Check that the parts add up to the total where all are given."""
    values = [getattr(row, n) for n in (total, *parts)]
    if any(v is None for v in values) or sum(values[1:]) == values[0]:
        return []
    return [(parts[-1], f"{' + '.join(parts)} = {sum(values[1:])}, but {total} = {values[0]}")]


def _at_most(row: BaseModel, part: str, whole: str) -> list[tuple[str, str]]:
    """Check that a part is no larger than its whole where both are given."""
    p, w = getattr(row, part), getattr(row, whole)
    return [(part, f"{p} is more than {whole} = {w}")] if None not in (p, w) and p > w else []


def _profile_sums(row: MunicipalityProfile) -> list[tuple[str, str]]:
    """Cross-column checks of a profile row."""
    return (
        _parts(row, "settled_2023", "settled_2023_collective_protection", "settled_2023_other")
        + _parts(row, "settled_2023", "settled_2023_women", "settled_2023_men")
        + _at_most(row, "settled_2023_over_55", "settled_2023")
        + _at_most(row, "intro_finishers_2023", "intro_participants_2023")
        + _at_most(row, "employed_residents_2023", "population")
        + _at_most(row, "employed_residents_2022", "population_15_74_2022")
        + _at_most(row, "population_15_74_2022", "population")
        + _centrality_in_class(row)
    )


def _centrality_in_class(row: MunicipalityProfile) -> list[tuple[str, str]]:
    """Check that the centrality index lies in the interval of the row's centrality class."""
    index, klass = row.centrality_index, row.centrality_class
    if index is None:
        return []
    low = CENTRALITY_CLASS_FLOOR[klass]
    high = CENTRALITY_CLASS_FLOOR[klass - 1] - 1 if klass > 1 else 1000
    if low <= index <= high:
        return []
    return [("centrality_index", f"{index} is outside class {klass} ({low}-{high})")]


def _observed_sums(row: ObservedOutcome) -> list[tuple[str, str]]:
    """Cross-column checks of an observed-outcomes row."""
    return _at_most(row, "work_or_education_at_exit", "finishers")


def _raise(path: Path, problems: list[Problem]) -> None:
    """Raise the first problem (in line order) as a ScenarioError listing them all."""
    ordered = sorted(problems, key=lambda p: p[0] or 0)
    errors = [str(ScenarioError(path, m, line=ln, field=c)) for ln, c, m in ordered]
    line, column, message = ordered[0]
    raise ScenarioError(path, message, line=line, field=column, errors=errors)
