"""Reading scenario files: extends chains, defaults and one-line errors for bad input."""

from __future__ import annotations

from pathlib import Path

import pytest

from introsim.params.loader import ScenarioError, load_scenario, load_scenario_data, validate_files
from introsim.params.schema import Scenario

from clitools import write

REPO = Path(__file__).resolve().parents[1]


def error_of(path: Path, at: Path | None = None) -> ScenarioError:
    """Load ``path``, expecting an error located in ``at`` (default: ``path`` itself)."""
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    err = info.value
    text = str(err)
    assert "\n" not in text, text
    assert text.startswith(f"{at or path}:"), text
    assert err.path == (at or path)
    assert err.errors and err.errors[0] == text
    return err


# --------------------------------------------------------------------------- good files
def test_minimal_file_loads_with_defaults(tmp_path: Path) -> None:
    path = write(tmp_path, "mini.toml", '[scenario]\nname = "mini"\n\n[follow_up]\ncaseload = 10\n')
    scenario = load_scenario(path)
    assert isinstance(scenario, Scenario)
    assert scenario.scenario.name == "mini"
    assert scenario.follow_up.caseload == 10
    assert scenario.cohort.size == Scenario().cohort.size


def test_name_defaults_to_file_stem(tmp_path: Path) -> None:
    path = write(tmp_path, "oslo_ips.toml", "[follow_up]\nmethod = 'ips'\n")
    assert load_scenario(path).scenario.name == "oslo_ips"
    assert load_scenario_data(path)["scenario"]["name"] == "oslo_ips"


def test_name_comes_from_top_file_not_parent(tmp_path: Path) -> None:
    write(tmp_path, "base.toml", '[scenario]\nname = "base"\nseed = 5\n')
    child = write(tmp_path, "child.toml", 'extends = "base.toml"\n')
    scenario = load_scenario(child)
    assert scenario.scenario.name == "child"
    assert scenario.scenario.seed == 5
    named = write(tmp_path, "named.toml", 'extends = "base.toml"\n[scenario]\nname = "mine"\n')
    assert load_scenario(named).scenario.name == "mine"


def test_path_may_be_str(tmp_path: Path) -> None:
    path = write(tmp_path, "s.toml", "[cohort]\nsize = 12\n")
    assert load_scenario(str(path)).cohort.size == 12


def test_shipped_scenarios_are_valid() -> None:
    files = sorted((REPO / "scenarios").glob("*.toml"))
    assert len(files) >= 15, "the scenario library is missing files"
    assert [str(e) for e in validate_files(files)] == []


# --------------------------------------------------------------------------- extends
def test_three_file_chain_resolves_as_written(tmp_path: Path) -> None:
    write(
        tmp_path,
        "a.toml",
        "[scenario]\nseed = 11\n\n[cohort]\nsize = 100\nshare_female = 0.5\n\n"
        "[follow_up]\nmethod = 'standard'\ncaseload = 30\n",
    )
    write(tmp_path, "b.toml", "extends = 'a.toml'\n\n[cohort]\nsize = 200\n")
    c = write(tmp_path, "c.toml", "extends = 'b.toml'\n\n[follow_up]\nmethod = 'ips'\n")
    scenario = load_scenario(c)
    assert scenario.cohort.size == 200  # the middle file's override
    assert scenario.follow_up.method == "ips"  # the last file's override
    assert scenario.follow_up.caseload == 30  # set only in the base, same table as an override
    assert scenario.cohort.share_female == 0.5  # set only in the base
    assert scenario.scenario.seed == 11
    data = load_scenario_data(c)
    assert "extends" not in data
    assert data["cohort"] == {"size": 200, "share_female": 0.5}


def test_extends_is_relative_to_the_file_that_writes_it(tmp_path: Path) -> None:
    write(tmp_path, "common/base.toml", "[cohort]\nsize = 77\n")
    write(tmp_path, "common/mid.toml", "extends = 'base.toml'\n")
    top = write(tmp_path, "deep/dir/top.toml", "extends = '../../common/mid.toml'\n")
    assert load_scenario(top).cohort.size == 77


def test_arrays_of_tables_replace_wholesale(tmp_path: Path) -> None:
    write(
        tmp_path,
        "base.toml",
        "[[labour_market.sectors]]\nname = 'a'\nshare = 0.5\nlanguage_requirement = 4.0\n\n"
        "[[labour_market.sectors]]\nname = 'b'\nshare = 0.5\n\n"
        "[[labour_market.sectors]]\nname = 'c'\nshare = 0.5\n",
    )
    child = write(
        tmp_path,
        "child.toml",
        "extends = 'base.toml'\n\n[[labour_market.sectors]]\nname = 'only'\nshare = 1.0\n",
    )
    sectors = load_scenario(child).labour_market.sectors
    assert [s.name for s in sectors] == ["only"]
    # Nothing of the base's first row leaks into the child's first row.
    assert sectors[0].language_requirement == 2.0


def test_plain_arrays_replace_wholesale(tmp_path: Path) -> None:
    write(
        tmp_path, "base.toml", "[cohort]\neducation_shares_male = [0.1, 0.2, 0.3, 0.4]\nsize = 9\n"
    )
    child = write(
        tmp_path,
        "child.toml",
        "extends = 'base.toml'\n[cohort]\neducation_shares_male = [1, 0, 0, 0]\n",
    )
    cohort = load_scenario(child).cohort
    assert cohort.education_shares_male == (1, 0, 0, 0)
    assert cohort.size == 9


def test_extends_cycle_names_the_chain(tmp_path: Path) -> None:
    a = write(tmp_path, "a.toml", "extends = 'b.toml'\n")
    b = write(tmp_path, "b.toml", "# b\nextends = 'a.toml'\n")
    err = error_of(a, at=b)
    assert "a.toml -> b.toml -> a.toml" in str(err)
    assert err.field == "extends"
    assert err.path.name == "b.toml" and err.line == 2
    assert str(err).startswith(f"{tmp_path / 'b.toml'}:2: extends: cycle")


def test_self_extends_is_a_cycle(tmp_path: Path) -> None:
    path = write(tmp_path, "self.toml", "extends = 'self.toml'\n")
    assert "self.toml -> self.toml" in str(error_of(path))


def test_missing_extends_target_names_both_files(tmp_path: Path) -> None:
    path = write(tmp_path, "child.toml", "# child\n\nextends = 'nowhere/base.toml'\n")
    err = error_of(path)
    text = str(err)
    assert text.startswith(f"{path}:3: extends: ")
    assert "nowhere/base.toml" in text and "not found" in text
    assert err.field == "extends"


def test_missing_extends_target_deeper_in_chain(tmp_path: Path) -> None:
    write(tmp_path, "mid.toml", "extends = 'gone.toml'\n")
    top = write(tmp_path, "top.toml", "extends = 'mid.toml'\n")
    with pytest.raises(ScenarioError) as info:
        load_scenario(top)
    assert str(info.value).startswith(f"{tmp_path / 'mid.toml'}:1: extends:")
    assert "gone.toml" in str(info.value)


def test_extends_must_be_a_string(tmp_path: Path) -> None:
    path = write(tmp_path, "x.toml", "extends = ['a.toml', 'b.toml']\n")
    text = str(error_of(path))
    assert "x.toml:1: extends: expected a string" in text
    assert "found array" in text


def test_extends_target_is_a_directory(tmp_path: Path) -> None:
    (tmp_path / "base").mkdir()
    path = write(tmp_path, "x.toml", "extends = 'base'\n")
    text = str(error_of(path))
    assert "x.toml:1: extends:" in text and "directory" in text


def test_error_is_reported_in_the_file_that_wrote_the_value(tmp_path: Path) -> None:
    write(tmp_path, "base.toml", "# base\n[follow_up]\nmethod = 'ips'\ncaseload = 0\n")
    write(tmp_path, "mid.toml", "extends = 'base.toml'\n[follow_up]\nmethod = 'se'\n")
    top = write(tmp_path, "top.toml", "extends = 'mid.toml'\n[cohort]\nsize = 5\n")
    err = error_of(top, at=tmp_path / "base.toml")
    assert err.path == tmp_path / "base.toml"
    assert err.line == 4
    assert err.field == "follow_up.caseload"
    base = tmp_path / "base.toml"
    assert str(err) == f"{base}:4: follow_up.caseload: expected an integer >= 1, found 0"


def test_overridden_bad_value_is_no_error(tmp_path: Path) -> None:
    write(tmp_path, "base.toml", "[follow_up]\ncaseload = 0\n")
    top = write(tmp_path, "top.toml", "extends = 'base.toml'\n[follow_up]\ncaseload = 15\n")
    assert load_scenario(top).follow_up.caseload == 15


def test_unknown_key_in_parent_reported_in_parent(tmp_path: Path) -> None:
    base = write(tmp_path, "base.toml", "[cohort]\nsize = 10\nszie = 3\n")
    top = write(tmp_path, "top.toml", "extends = 'base.toml'\n")
    err = error_of(top, at=base)
    assert err.line == 3 and "did you mean 'size'?" in str(err)


def test_extends_inside_a_section_is_explained(tmp_path: Path) -> None:
    path = write(tmp_path, "late.toml", "[cohort]\nsize = 3\nextends = 'base.toml'\n")
    text = str(error_of(path))
    assert "late.toml:3: unknown key 'extends' in [cohort]" in text
    assert "before any [section]" in text


# --------------------------------------------------------------------------- file-level errors
def test_toml_syntax_error_gives_line(tmp_path: Path) -> None:
    path = write(tmp_path, "syntax.toml", "[scenario]\nname = 'x'\n\n[cohort]\nsize = = 4\n")
    err = error_of(path)
    assert "syntax.toml:5: invalid TOML" in str(err)
    assert err.line == 5
    assert "column" in str(err)


def test_toml_duplicate_key_is_a_syntax_error(tmp_path: Path) -> None:
    path = write(tmp_path, "dup.toml", "[cohort]\nsize = 1\nsize = 2\n")
    err = error_of(path)
    assert err.line == 3 and "invalid TOML" in str(err)


def test_toml_error_at_end_of_file(tmp_path: Path) -> None:
    path = write(tmp_path, "eof.toml", "[cohort]\nsize = [1, 2,\n")
    assert "invalid TOML" in str(error_of(path))


@pytest.mark.parametrize("text", ["", "\n\n   \n", "# just a comment\n\n# and another\n"])
def test_empty_file_is_an_error(tmp_path: Path, text: str) -> None:
    path = write(tmp_path, "empty.toml", text)
    err = error_of(path)
    assert str(err) == f"{path}: file is empty; a scenario needs at least [scenario] name"
    assert err.line is None and err.field is None


def test_empty_base_file_is_an_error(tmp_path: Path) -> None:
    write(tmp_path, "base.toml", "# nothing yet\n")
    top = write(tmp_path, "top.toml", "extends = 'base.toml'\n")
    with pytest.raises(ScenarioError, match=r"base\.toml: file is empty"):
        load_scenario(top)


def test_not_utf8_names_byte_offset(tmp_path: Path) -> None:
    path = write(tmp_path, "latin1.toml", "[scenario]\nname = 'Tromsø'\n".encode("latin-1"))
    err = error_of(path)
    text = str(err)
    assert "not UTF-8" in text
    assert "byte offset 24" in text
    assert "0xf8" in text
    assert err.line == 2


def test_utf8_with_bom_is_fine(tmp_path: Path) -> None:
    path = write(tmp_path, "bom.toml", "\ufeff[scenario]\nname = 'Bodø'\n".encode())
    assert load_scenario(path).scenario.name == "Bodø"


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "absent.toml"
    err = error_of(path)
    assert str(err) == f"{path}: file does not exist"


def test_directory_given_as_file(tmp_path: Path) -> None:
    path = tmp_path / "folder.toml"
    path.mkdir()
    err = error_of(path)
    assert str(err) == f"{path}: is a directory, not a scenario file"


def test_load_scenario_data_raises_for_file_errors(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="does not exist"):
        load_scenario_data(tmp_path / "nope.toml")


# --------------------------------------------------------------------------- unknown names
def test_unknown_key_suggests_close_match(tmp_path: Path) -> None:
    path = write(tmp_path, "typo.toml", "[scenario]\nname = 't'\n\n[follow_up]\ncaseloda = 10\n")
    err = error_of(path)
    assert str(err) == (
        f"{path}:5: unknown key 'caseloda' in [follow_up]; did you mean 'caseload'?"
    )
    assert err.field == "follow_up.caseloda"
    assert err.line == 5


def test_unknown_section_suggests_close_match(tmp_path: Path) -> None:
    path = write(tmp_path, "typo.toml", "[scenario]\nname = 't'\n\n[folow_up]\ncaseload = 10\n")
    err = error_of(path)
    assert str(err) == f"{path}:4: unknown section [folow_up]; did you mean [follow_up]?"
    assert err.field == "folow_up"


def test_unknown_subsection_suggests_close_match(tmp_path: Path) -> None:
    path = write(tmp_path, "typo.toml", "[methods.ipss]\ntraining_hours = 10\n")
    err = error_of(path)
    assert "typo.toml:1: unknown section [methods.ipss]; did you mean [methods.ips]?" in str(err)


def test_unknown_key_in_array_of_tables(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "typo.toml",
        "[[labour_market.sectors]]\nname = 'a'\nshare = 1\n\n"
        "[[labour_market.sectors]]\nname = 'b'\nshaer = 1\n",
    )
    err = error_of(path)
    assert err.line == 7
    assert err.field == "labour_market.sectors[1].shaer"
    assert "did you mean 'share'?" in str(err)


def test_key_in_wrong_section_says_where_it_belongs(tmp_path: Path) -> None:
    path = write(tmp_path, "wrong.toml", "name = 'x'\n")
    text = str(error_of(path))
    assert "wrong.toml:1: unknown key 'name' at top level" in text
    assert "[scenario]" in text


# --------------------------------------------------------------------------- bad values
def test_wrong_type_integer(tmp_path: Path) -> None:
    path = write(tmp_path, "type.toml", "[cohort]\n\nsize = 'ten'\n")
    err = error_of(path)
    assert str(err) == f"{path}:3: cohort.size: expected an integer, found string 'ten'"
    assert err.field == "cohort.size" and err.line == 3


def test_wrong_type_number(tmp_path: Path) -> None:
    path = write(tmp_path, "type.toml", "[wage_subsidy]\nrate = 'half'\n")
    assert "type.toml:2: wage_subsidy.rate: expected a number, found string 'half'" in str(
        error_of(path)
    )


def test_numeric_string_and_boolean_are_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "type.toml", "[cohort]\nsize = '10'\nlanguage_sd = true\n")
    err = error_of(path)
    assert str(err).endswith("cohort.size: expected an integer, found string '10'")
    assert any("cohort.language_sd: expected a number, found boolean true" in e for e in err.errors)


def test_fractional_integer(tmp_path: Path) -> None:
    path = write(tmp_path, "type.toml", "[follow_up]\ncaseload = 12.5\n")
    text = str(error_of(path))
    assert "follow_up.caseload: expected an integer, found float 12.5" in text


def test_wrong_type_string(tmp_path: Path) -> None:
    path = write(tmp_path, "type.toml", "[scenario]\nname = 42\n")
    assert "type.toml:2: scenario.name: expected a string, found integer 42" in str(error_of(path))


def test_section_that_is_not_a_table(tmp_path: Path) -> None:
    path = write(tmp_path, "type.toml", "cohort = 5\n")
    assert "type.toml:1: cohort: expected a table, found integer 5" in str(error_of(path))


def test_negative_cohort_size(tmp_path: Path) -> None:
    path = write(tmp_path, "range.toml", "[cohort]\nsize = -5\n")
    assert str(error_of(path)) == f"{path}:2: cohort.size: expected an integer >= 1, found -5"


def test_rate_above_one(tmp_path: Path) -> None:
    path = write(tmp_path, "range.toml", "[wage_subsidy]\nweeks = 26\nrate = 1.5\n")
    assert str(error_of(path)) == f"{path}:3: wage_subsidy.rate: expected a number <= 1, found 1.5"


def test_caseload_zero(tmp_path: Path) -> None:
    path = write(tmp_path, "range.toml", "[scenario]\nname = 'r'\n[follow_up]\ncaseload = 0\n")
    err = error_of(path)
    assert str(err) == f"{path}:4: follow_up.caseload: expected an integer >= 1, found 0"
    assert (err.path, err.line, err.field) == (path, 4, "follow_up.caseload")


def test_strictly_positive_bound(tmp_path: Path) -> None:
    path = write(tmp_path, "range.toml", "[labour_market]\nemployers_per_participant = 0\n")
    expected = "labour_market.employers_per_participant: expected a number > 0, found 0"
    assert expected in str(error_of(path))


def test_nan_and_inf_are_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "nan.toml", "[labour_market]\noutside_bar = nan\n")
    assert "nan.toml:2: labour_market.outside_bar: expected a finite number, found nan" in str(
        error_of(path)
    )
    path = write(tmp_path, "inf.toml", "[cohort]\nlanguage_sd = inf\n")
    assert "expected a finite number, found inf" in str(error_of(path))


def test_unknown_method_suggests_close_match(tmp_path: Path) -> None:
    path = write(tmp_path, "method.toml", '[follow_up]\nmethod = "ipss"\n')
    err = error_of(path)
    text = str(err)
    assert text.startswith(f"{path}:2: follow_up.method: expected one of standard, ips, se")
    assert "found string 'ipss'" in text
    assert text.endswith("did you mean 'ips'?")


def test_unknown_eligibility(tmp_path: Path) -> None:
    path = write(tmp_path, "elig.toml", "[wage_subsidy]\neligibility = 'everyone'\n")
    text = str(error_of(path))
    assert "wage_subsidy.eligibility: expected one of none, all, low_language" in text


def test_fixed_length_array(tmp_path: Path) -> None:
    path = write(tmp_path, "arr.toml", "[cohort]\neducation_shares_male = [0.5, 0.5]\n")
    err = error_of(path)
    assert (
        str(err) == f"{path}:2: cohort.education_shares_male: expected an array of 4 items, found 2"
    )
    assert len(err.errors) == 1
    path = write(
        tmp_path, "long.toml", "[cohort]\neducation_shares_male = [0.2, 0.2, 0.2, 0.2, 0.2]\n"
    )
    assert "expected an array of 4 items, found 5" in str(error_of(path))


def test_field_validator_message(tmp_path: Path) -> None:
    path = write(tmp_path, "sum.toml", "[cohort]\neducation_shares_male = [0.5, 0.5, 0.5, 0.5]\n")
    text = str(error_of(path))
    assert (
        "sum.toml:2: cohort.education_shares_male: expected four non-negative shares summing"
        in text
    )
    assert "found [0.5, 0.5, 0.5, 0.5]" in text


def test_model_validator_message(tmp_path: Path) -> None:
    path = write(tmp_path, "ws.toml", "[wage_subsidy]\nweeks = 10\nstep_down_week = 20\n")
    err = error_of(path)
    assert err.field == "wage_subsidy" and err.line == 1
    assert "expected step_down_week (20) at most weeks (10)" in str(err)


def test_bad_value_in_array_of_tables_has_its_line(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "sec.toml",
        "[[labour_market.sectors]]\nname = 'a'\nshare = 1\n\n"
        "[[labour_market.sectors]]\nname = 'b'\nshare = -1\n",
    )
    assert str(error_of(path)) == (
        f"{path}:7: labour_market.sectors[1].share: expected a number >= 0, found -1"
    )


def test_several_errors_first_in_message_all_in_errors(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "many.toml",
        "[cohort]\nsize = 0\nshare_female = 2\n\n[follow_up]\ncaseload = 0\nmethod = 'x'\n",
    )
    err = error_of(path)
    assert str(err) == f"{path}:2: cohort.size: expected an integer >= 1, found 0"
    assert len(err.errors) == 4
    assert all("\n" not in e and e.startswith(f"{path}:") for e in err.errors)
    assert [e.split(":")[1] for e in err.errors] == ["2", "3", "6", "7"]


def test_lines_found_after_multiline_values(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "ml.toml",
        '[scenario]\ndescription = """\nsize = 1\n[cohort]\n"""\n'
        "[cohort]\neducation_shares_male = [\n  0.25, 0.25,\n  0.25, 0.25,\n]\n"
        "size = 0  # too small\n",
    )
    err = error_of(path)
    assert err.line == 11 and err.field == "cohort.size"


def test_quoted_and_dotted_keys_are_located(tmp_path: Path) -> None:
    path = write(tmp_path, "dot.toml", '[scenario]\nname = "d"\n\nfollow_up.caseload = 0\n')
    err = error_of(path)
    assert err.field == "scenario.follow_up"  # a dotted key under [scenario] is unknown there
    assert err.line == 4
    path = write(tmp_path, "dot2.toml", '\n"follow_up".caseload = 0\n')
    err = error_of(path)
    assert (err.field, err.line) == ("follow_up.caseload", 2)


def test_file_content_is_never_evaluated(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    path = write(
        tmp_path,
        "evil.toml",
        f"[scenario]\nname = \"__import__('pathlib').Path('{marker}').touch()\"\n",
    )
    assert load_scenario(path).scenario.name.startswith("__import__")
    assert not marker.exists()


# --------------------------------------------------------------------------- validate_files
def test_validate_files_collects_one_error_per_bad_file(tmp_path: Path) -> None:
    good = write(tmp_path, "good.toml", "[cohort]\nsize = 10\n")
    bad = write(tmp_path, "bad.toml", "[cohort]\nsize = 0\n")
    missing = tmp_path / "missing.toml"
    errors = validate_files([good, bad, missing])
    assert [e.path for e in errors] == [bad, missing]
    assert validate_files([good]) == []
