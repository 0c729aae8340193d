"""``introsim validate FILE...``: ok per good file, one stderr line per problem, exit 2.

``run`` and the study commands answer a bad file with its first problem alone.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from clitools import call_cli, stderr_lines, write


def validate(*paths: Path | str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return call_cli("validate", *paths, cwd=cwd)


BAD_FILES: dict[str, str | bytes] = {
    "syntax.toml": "[cohort]\nsize = = 3\n",
    "unknown_section.toml": "[folow_up]\ncaseload = 10\n",
    "unknown_key.toml": "[follow_up]\ncaseloda = 10\n",
    "wrong_type.toml": "[cohort]\nsize = 'ten'\n",
    "negative_size.toml": "[cohort]\nsize = -5\n",
    "rate_above_one.toml": "[wage_subsidy]\nrate = 1.5\n",
    "caseload_zero.toml": "[follow_up]\ncaseload = 0\n",
    "unknown_method.toml": "[follow_up]\nmethod = 'ipss'\n",
    "missing_extends.toml": "extends = 'nowhere.toml'\n",
    "empty.toml": "# nothing but a comment\n",
    "latin1.toml": "[scenario]\nname = 'Tromsø'\n".encode("latin-1"),
    "many_errors.toml": "[cohort]\nsize = 0\nshare_female = 2\n[follow_up]\ncaseload = 0\n",
}


def test_valid_file_prints_ok(tmp_path: Path) -> None:
    path = write(tmp_path, "good.toml", "[scenario]\nname = 'good'\n[follow_up]\nmethod = 'ips'\n")
    result = validate(path)
    assert result.returncode == 0, result.stderr
    assert "ok" in result.stdout
    assert stderr_lines(result) == []


def test_several_valid_files_print_ok_each(tmp_path: Path) -> None:
    paths = [write(tmp_path, f"good{i}.toml", f"[cohort]\nsize = {10 + i}\n") for i in range(3)]
    result = validate(*paths)
    assert result.returncode == 0, result.stderr
    ok_lines = [line for line in result.stdout.splitlines() if "ok" in line]
    assert len(ok_lines) == 3


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_bad_file_exits_2_with_one_line_per_problem(tmp_path: Path, name: str) -> None:
    path = write(tmp_path, name, BAD_FILES[name])
    result = validate(path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = stderr_lines(result)
    assert len(lines) == (3 if name == "many_errors.toml" else 1), result.stderr
    assert all(line.startswith(f"error: {path}") for line in lines)


def test_missing_file_exits_2(tmp_path: Path) -> None:
    result = validate(tmp_path / "absent.toml")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = stderr_lines(result)
    assert len(lines) == 1 and "absent.toml" in lines[0]


def test_directory_exits_2(tmp_path: Path) -> None:
    folder = tmp_path / "folder.toml"
    folder.mkdir()
    result = validate(folder)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = stderr_lines(result)
    assert len(lines) == 1 and "folder.toml" in lines[0]


def test_extends_cycle_exits_2(tmp_path: Path) -> None:
    a = write(tmp_path, "a.toml", "extends = 'b.toml'\n")
    write(tmp_path, "b.toml", "extends = 'a.toml'\n")
    result = validate(a)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = stderr_lines(result)
    assert len(lines) == 1 and "a.toml -> b.toml -> a.toml" in lines[0]


def test_line_number_and_field_in_message(tmp_path: Path) -> None:
    path = write(tmp_path, "caseload.toml", "[scenario]\nname = 'c'\n\n[follow_up]\ncaseload = 0\n")
    result = validate("caseload.toml", cwd=tmp_path)
    assert result.returncode == 2
    lines = stderr_lines(result)
    assert len(lines) == 1
    assert "caseload.toml:5:" in lines[0]
    assert "follow_up.caseload" in lines[0]
    assert path.exists()


def test_mixed_good_and_bad_files(tmp_path: Path) -> None:
    good = write(tmp_path, "good.toml", "[cohort]\nsize = 10\n")
    bad1 = write(tmp_path, "bad1.toml", "[cohort]\nsize = 0\n")
    bad2 = write(tmp_path, "bad2.toml", "[follow_up]\ncaseloda = 3\n")
    result = validate(good, bad1, bad2)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = stderr_lines(result)
    assert len(lines) == 2, result.stderr
    assert "bad1.toml" in lines[0] and "bad2.toml" in lines[1]
    assert not any("good.toml" in line for line in lines)


# What each bad file's one line must name: the dotted field, or the key or problem.
NAMES: dict[str, str] = {
    "syntax.toml": "invalid TOML",
    "unknown_section.toml": "follow_up",
    "unknown_key.toml": "caseload",
    "wrong_type.toml": "cohort.size",
    "negative_size.toml": "cohort.size",
    "rate_above_one.toml": "wage_subsidy.rate",
    "caseload_zero.toml": "follow_up.caseload",
    "unknown_method.toml": "follow_up.method",
    "missing_extends.toml": "extends",
    "empty.toml": "empty",
    "latin1.toml": "UTF-8",
    "many_errors.toml": "cohort.size",
}


def test_every_bad_kind_is_named(tmp_path: Path) -> None:
    assert set(NAMES) == set(BAD_FILES)


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_run_on_a_bad_file_names_the_field_and_writes_nothing(tmp_path: Path, name: str) -> None:
    path = write(tmp_path, name, BAD_FILES[name])
    out = tmp_path / "out"
    result = call_cli("run", path, "--out", out)
    assert result.returncode == 2
    lines = stderr_lines(result)
    assert len(lines) == 1 and name in lines[0] and NAMES[name] in lines[0], lines
    assert "Traceback" not in result.stderr
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]


def test_extends_cycle_under_run_writes_nothing(tmp_path: Path) -> None:
    write(tmp_path, "a.toml", "extends = 'b.toml'\n")
    write(tmp_path, "b.toml", "extends = 'a.toml'\n")
    out = tmp_path / "out"
    result = call_cli("run", tmp_path / "a.toml", "--out", out)
    lines = stderr_lines(result)
    assert result.returncode == 2 and len(lines) == 1 and "cycle" in lines[0]
    assert not out.exists()
