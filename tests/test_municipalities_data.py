"""Shipped municipal profiles: they load, match the national figures; bad rows give one line."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from introsim.params.loader import ScenarioError
from introsim.params.municipalities import (
    MunicipalityProfile,
    Table,
    csv_kind,
    load_observed,
    load_profiles,
    load_reference,
    validate_profile_files,
)

from clitools import call_cli

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "municipalities"
PROFILES = DATA / "norway_2023.csv"
OBSERVED = DATA / "observed_2023.csv"
REFERENCE = DATA / "kommuner_2024.csv"

MOSKENES = "1874"
"""The one municipality that settled nobody in 2022-2024 (IMDi), so it has no profile."""
MOSKENES_POPULATION = 954
"""Moskenes's residents on 1 January 2024 (SSB table 07459)."""


@pytest.fixture(scope="module")
def table() -> Table[MunicipalityProfile]:
    return load_profiles(PROFILES)


def total(table: Table[MunicipalityProfile], column: str) -> int:
    return sum(getattr(row, column) or 0 for row in table)


# --------------------------------------------------------------------------- the shipped files
def test_every_municipality_that_settles_has_one_profile(table: Table[MunicipalityProfile]) -> None:
    reference = load_reference(REFERENCE)
    assert len(reference) == 357  # the 2024 municipal structure (SSB classification 131)
    numbers = [row.municipality_number for row in table]
    assert len(numbers) == len(set(numbers)) == 356
    assert set(reference) - set(numbers) == {MOSKENES}


def test_settled_2023_matches_the_ministrys_national_figures(
    table: Table[MunicipalityProfile],
) -> None:
    # Press release "Rekordmange flykninger bosatt i 2023" (regjeringen.no, January 2024): over
    # 33 000 settled in 2023, over 29 000 of them from Ukraine, close to 65 000 in 2022-2023.
    settled = total(table, "settled_2023")
    ceiling = settled + 4 * total(table, "settled_2023_suppressed_cells")
    assert 33_000 <= settled < 34_000
    assert ceiling >= settled
    assert 29_000 <= total(table, "settled_2023_collective_protection") < 30_000
    assert 63_000 <= settled + total(table, "settled_2022") < 65_000
    # The same release: municipalities were asked to settle 37 000 in 2024.
    assert abs(total(table, "requested_2024") - 37_000) < 500


def test_population_adds_up_to_ssbs_national_total(table: Table[MunicipalityProfile]) -> None:
    # SSB: 5 550 203 residents on 1 January 2024.
    assert total(table, "population") + MOSKENES_POPULATION == 5_550_203


def test_only_the_five_most_central_municipalities_are_class_1(
    table: Table[MunicipalityProfile],
) -> None:
    central = {row.municipality_name for row in table if row.centrality_class == 1}
    assert central == {"Oslo", "Bærum", "Lillestrøm", "Lørenskog", "Rælingen"}


SSB_EMPLOYED_2023Q4 = 2_863_317 - 18_010
"""Employed persons aged 15-74, 4th quarter 2023, whole country: SSB's register-based employment
page gives 2 863 317 for 2024 and a change of 18 010 from 2023 (table by workplace county)."""
ALESUND_1507_2022 = {"employed_workplace_2022": 38_059, "employed_residents_2022": 35_662}
"""SSB table 11616, 4th quarter 2022, for Ålesund in its 2020-2023 borders (Ålesund and Haram of
2024), which no 2024 profile row can hold."""
MOSKENES_2022 = {"employed_workplace_2022": 481, "employed_residents_2022": 518}
"""The same for Moskenes, which has no profile (it settled nobody)."""


def test_centrality_index_is_given_for_every_profile_and_orders_the_classes(
    table: Table[MunicipalityProfile],
) -> None:
    index = {row.municipality_name: row.centrality_index for row in table}
    assert None not in index.values()
    assert index["Oslo"] == 1000  # SSB scales the index so that the most central is 1000
    # The loader checks each index against its class; here the ordering across classes.
    by_class: dict[int, list[int]] = {}
    for row in table:
        by_class.setdefault(row.centrality_class, []).append(row.centrality_index or 0)
    for klass in range(1, 6):
        assert min(by_class[klass]) > max(by_class[klass + 1])


@pytest.mark.parametrize("column", ["employed_workplace_2022", "employed_residents_2022"])
def test_employment_2022_is_plausible_against_ssbs_national_total(
    table: Table[MunicipalityProfile], column: str
) -> None:
    national = total(table, column) + ALESUND_1507_2022[column] + MOSKENES_2022[column]
    # One year of growth (about 1 %) separates SSB's 2022 and 2023 totals.
    assert 0.97 < national / SSB_EMPLOYED_2023Q4 < 1.0


def test_employment_2022_covers_all_but_the_split_alesund(
    table: Table[MunicipalityProfile],
) -> None:
    empty = {r.municipality_name for r in table if r.employed_workplace_2022 is None}
    assert empty == {"Ålesund", "Haram"}
    rates = [
        r.employed_residents_2022 / r.population_15_74_2022
        for r in table
        if r.population_15_74_2022
    ]
    national = total(table, "employed_residents_2022") / total(table, "population_15_74_2022")
    # SSB's labour force survey: 69.8 % of 15-74 year olds employed in March 2022.
    assert 0.66 < national < 0.72
    assert 0.5 < min(rates) and max(rates) < 0.85


def test_2022_and_2023_employment_agree_where_both_are_given(
    table: Table[MunicipalityProfile],
) -> None:
    # Two routes to SSB table 11616 (a saved query for 2023, SSB's own repository for 2022):
    # a municipality's employment moves by a few per cent a year, not more.
    both = [r for r in table if r.employed_workplace_2023 is not None]
    assert len(both) == 8
    for row in both:
        for kind in ("workplace", "residents"):
            new, old = getattr(row, f"employed_{kind}_2023"), getattr(row, f"employed_{kind}_2022")
            assert abs(new / old - 1) < 0.05, (row.municipality_name, kind, new, old)


def test_parts_of_the_2023_intake_add_up(table: Table[MunicipalityProfile]) -> None:
    # The loader refuses rows whose parts do not add up; here, the national sums.
    women_and_men = total(table, "settled_2023_women") + total(table, "settled_2023_men")
    assert women_and_men == total(table, "settled_2023")


def test_readme_coverage_table_matches_the_file(table: Table[MunicipalityProfile]) -> None:
    readme = (DATA / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Coverage of `norway_2023.csv`", 1)[1].split("\n## ", 1)[0]
    stated = {m[0]: int(m[1]) for m in re.findall(r"^\| `(\w+)` \| (\d+) \|$", section, re.M)}
    assert stated == table.coverage()


def test_observed_file_is_marked_comparison_only_and_loads() -> None:
    assert OBSERVED.read_text(encoding="utf-8").startswith("# COMPARISON ONLY")
    assert len(load_observed(OBSERVED)) == 0
    assert validate_profile_files([PROFILES, OBSERVED]) == []


def test_every_shipped_data_file_is_told_apart_and_checked(tmp_path: Path) -> None:
    # validate takes municipalities/*.csv: the reference list is a list, not a bad profile.
    assert [csv_kind(p) for p in (REFERENCE, PROFILES, OBSERVED)] == [
        "reference",
        "profiles",
        "observed",
    ]
    assert validate_profile_files([REFERENCE, PROFILES, OBSERVED]) == []
    res = call_cli("validate", REFERENCE)
    assert res.returncode == 0 and "list of municipalities: " in res.stdout
    # A reference list with a broken row is still checked, as a reference list.
    broken = tmp_path / "kommuner.csv"
    text = REFERENCE.read_text(encoding="utf-8").replace("0301,Oslo", "301,Oslo", 1)
    broken.write_text(text, encoding="utf-8")
    assert csv_kind(broken) == "reference"
    (error,) = validate_profile_files([broken])
    assert "municipality_number" in str(error) and ":2:" in str(error)


# --------------------------------------------------------------------------- bad files
HEADER, *ROWS = PROFILES.read_text(encoding="utf-8").splitlines()
COLUMNS = HEADER.split(",")


def edited(row: str, column: str, value: str) -> str:
    cells = row.split(",")
    cells[COLUMNS.index(column)] = f'"{value}"' if "," in value else value
    return ",".join(cells)


def write_profiles(tmp_path: Path, *rows: str, header: str = HEADER) -> Path:
    """A profile file next to a copy of the reference list."""
    (tmp_path / REFERENCE.name).write_bytes(REFERENCE.read_bytes())
    path = tmp_path / "panel.csv"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def error_of(path: Path, load=load_profiles) -> ScenarioError:
    with pytest.raises(ScenarioError) as info:
        load(path)
    text = str(info.value)
    assert "\n" not in text, text
    assert info.value.errors[0] == text
    return info.value


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        (
            "settled_2023",
            "many",
            "expected a whole number from 0 to 1000000 (persons), found 'many'",
        ),
        (
            "population",
            "12 000",
            "expected a whole number from 1 to 2000000 (persons), found '12 000'",
        ),
        ("settled_2022", "-3", "expected a whole number from 0 to 1000000 (persons), found '-3'"),
        (
            "unemployment_rate_2023",
            "1.5",
            "expected a number between 0 and 1 (share of 1), found '1.5'",
        ),
        (
            "unemployment_rate_2023",
            "0,02",
            "expected a number between 0 and 1 (share of 1), found '0,02'",
        ),
        ("municipality_number", "9999", "unknown municipality number '9999'"),
        ("municipality_number", "301", "expected a four-digit municipality number such as '0301'"),
        ("centrality_class", "7", "expected a whole number from 1 to 6 (class), found '7'"),
        (
            "population",
            "",
            "the cell is empty; expected a whole number from 1 to 2000000 (persons)",
        ),
        ("municipality_name", "Olso", "expected 'Stavanger' for 1103, found 'Olso'"),
        (
            "centrality_index",
            "1001",
            "expected a whole number from 0 to 1000 (index points), found '1001'",
        ),
        ("centrality_index", "700", "700 is outside class 2 (870-924)"),
        (
            "employed_residents_2022",
            "200000",
            "200000 is more than population_15_74_2022 = 110184",
        ),
    ],
)
def test_a_bad_cell_gives_one_line_naming_file_line_and_column(
    tmp_path: Path, column: str, value: str, message: str
) -> None:
    path = write_profiles(tmp_path, ROWS[0], ROWS[1], edited(ROWS[2], column, value))
    assert ROWS[2].startswith("1103,Stavanger,")
    err = error_of(path)
    assert str(err).startswith(f"{path}:4: {column}: {message}")
    assert (err.path, err.line, err.field) == (path, 4, column)


def test_a_repeated_municipality_names_both_lines(tmp_path: Path) -> None:
    path = write_profiles(tmp_path, ROWS[0], ROWS[1], ROWS[0])
    assert str(error_of(path)) == f"{path}:4: municipality_number: 0301 is already on line 2"


def test_parts_that_do_not_add_up_are_refused(tmp_path: Path) -> None:
    bad = edited(ROWS[0], "settled_2023_other", "5")
    err = error_of(write_profiles(tmp_path, bad))
    assert err.field == "settled_2023_other"
    assert "settled_2023_collective_protection + settled_2023_other = 1590" in str(err)


def test_every_problem_is_listed_first_line_first(tmp_path: Path) -> None:
    path = write_profiles(
        tmp_path,
        ROWS[0],
        edited(ROWS[1], "settled_2022", "x"),
        edited(ROWS[2], "unemployment_rate_2023", "2"),
    )
    err = error_of(path)
    assert [e.split(": ")[0:2] for e in err.errors] == [
        [f"{path}:3", "settled_2022"],
        [f"{path}:4", "unemployment_rate_2023"],
    ]


def test_comment_and_blank_lines_keep_line_numbers(tmp_path: Path) -> None:
    path = write_profiles(tmp_path, "", "# a note", edited(ROWS[0], "settled_2023", "x"))
    assert error_of(path).line == 4


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (
            HEADER.replace("settled_2023,", "setled_2023,", 1),
            "setled_2023: unknown column; did you mean",
        ),
        (HEADER.replace(",population,", ",", 1), "population: required column is missing"),
        (HEADER + ",population", "population: column named twice"),
    ],
)
def test_a_bad_header_is_reported_on_line_1(tmp_path: Path, header: str, message: str) -> None:
    path = write_profiles(tmp_path, header=header)
    assert str(error_of(path)).startswith(f"{path}:1: {message}")


def test_a_short_row_is_reported(tmp_path: Path) -> None:
    path = write_profiles(tmp_path, ROWS[0].rsplit(",", 1)[0])
    assert (
        str(error_of(path)) == f"{path}:2: expected {len(COLUMNS)} fields, found {len(COLUMNS) - 1}"
    )


def test_unreadable_files_give_one_line(tmp_path: Path) -> None:
    missing = tmp_path / "none.csv"
    assert str(error_of(missing)) == f"{missing}: file does not exist"
    assert "is not a regular file" in str(error_of(tmp_path))
    latin1 = write_profiles(tmp_path, ROWS[0])
    latin1.write_bytes(HEADER.encode() + b"\n" + "Bærum".encode("latin-1") + b"\n")
    assert str(error_of(latin1)) == f"{latin1}:2: file is not UTF-8 text; save it as UTF-8"
    good = write_profiles(tmp_path, ROWS[0])
    (tmp_path / REFERENCE.name).unlink()
    assert str(error_of(good)) == f"{tmp_path / REFERENCE.name}: file does not exist"


def test_observed_outcomes_are_checked_like_profiles(tmp_path: Path) -> None:
    header = OBSERVED.read_text(encoding="utf-8").splitlines()[-1]
    good = "0301,Oslo,03,Oslo,2023,400,200,0.5,,IMDi"
    path = write_profiles(tmp_path, good, "0301,Oslo,03,Oslo,2023,10,3,1.3,,IMDi", header=header)
    assert str(error_of(path, load_observed)).startswith(
        f"{path}:3: share_work_or_education_at_exit: expected a number between 0 and 1"
    )
    path = write_profiles(tmp_path, good, good, header=header)
    assert str(error_of(path, load_observed)).endswith(
        "finished_year: 0301 in 2023 is already on line 2"
    )
    path = write_profiles(tmp_path, "0301,Oslo,03,Oslo,2023,10,30,,,", header=header)
    assert "work_or_education_at_exit: 30 is more than finishers = 10" in str(
        error_of(path, load_observed)
    )
    assert len(load_observed(write_profiles(tmp_path, good, header=header))) == 1


def test_validate_profile_files_collects_one_error_per_bad_file(tmp_path: Path) -> None:
    bad = write_profiles(tmp_path, edited(ROWS[0], "settled_2023", "x"))
    found = validate_profile_files([PROFILES, bad])
    assert [err.path for err in found] == [bad]
