"""Hostile input and faults: each test reproduces one way the tool used to crash, hang or leak."""

from __future__ import annotations

import os
import typing
from pathlib import Path

import pytest
from pydantic import BaseModel

from introsim.params.loader import MAX_FILE_BYTES, ScenarioError, load_scenario
from introsim.params.schema import Scenario

from clitools import run_cli, stderr_lines, write


def one_line_error(result) -> str:
    """The single error line of a refused command (exit 2, no traceback)."""
    lines = stderr_lines(result)
    assert result.returncode == 2, result.stderr
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


# --------------------------------------------------------------------------- 1. symlink loops
def test_symlink_loop_is_one_line(tmp_path: Path) -> None:
    loop = tmp_path / "main.toml"
    loop.symlink_to("main.toml")
    res = run_cli("validate", loop, timeout=60)
    assert "symbolic link loop" in one_line_error(res)


def test_extends_through_a_symlink_loop_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "a.toml").symlink_to("b.toml")
    (tmp_path / "b.toml").symlink_to("a.toml")
    child = write(tmp_path, "child.toml", 'extends = "a.toml"\n[scenario]\nname = "c"\n')
    with pytest.raises(ScenarioError, match="symbolic link loop"):
        load_scenario(child)


# --------------------------------------------------------------------------- 2. devices, FIFOs
def test_extends_dev_zero_is_refused_without_reading(tmp_path: Path) -> None:
    path = write(tmp_path, "z.toml", 'extends = "/dev/zero"\n')
    with pytest.raises(ScenarioError, match="not a regular file"):
        load_scenario(path)


def test_extends_fifo_does_not_hang(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.toml")
    path = write(tmp_path, "f.toml", 'extends = "pipe.toml"\n')
    for args in (["validate", path], ["run", path, "--out", tmp_path / "o"]):
        res = run_cli(*args, timeout=60)
        assert "named pipe" in one_line_error(res), args
    assert not (tmp_path / "o").exists()


def test_oversized_file_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "big.toml", "#" * (MAX_FILE_BYTES + 1))
    with pytest.raises(ScenarioError, match="larger than"):
        load_scenario(path)


def test_deeply_nested_toml_is_one_line(tmp_path: Path) -> None:
    path = write(tmp_path, "deep.toml", "a = " + "[" * 100_000 + "]" * 100_000 + "\n")
    with pytest.raises(ScenarioError, match="nested too deeply"):
        load_scenario(path)


# --------------------------------------------------------------------------- 4. bounds
def numeric_fields(model: type[BaseModel] = Scenario, prefix: str = "") -> dict[str, typing.Any]:
    """Every numeric field of the schema (tuple items included) with its FieldInfo."""
    found = {}
    for name, info in model.model_fields.items():
        dotted = f"{prefix}{name}"
        annotation = info.annotation
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        plain = args[0] if len(args) == 1 and typing.get_origin(annotation) else annotation
        if isinstance(plain, type) and issubclass(plain, BaseModel):
            found |= numeric_fields(plain, f"{dotted}.")
        elif plain in (int, float):
            found[dotted] = info.metadata
        elif typing.get_origin(plain) is tuple:
            items = typing.get_args(plain)
            if (items and items[-1] is not Ellipsis and items[0] in (int, float)) or any(
                typing.get_origin(a) is typing.Annotated for a in items
            ):
                found[dotted] = [
                    bound
                    for a in items
                    for m in getattr(a, "__metadata__", ())
                    for bound in getattr(m, "metadata", [m])
                ]
    return found


def test_every_numeric_field_has_an_upper_bound() -> None:
    fields = numeric_fields()
    assert len(fields) > 50  # the walk found the schema's numbers
    shares = {"cohort.education_shares"}  # bounded by its sum-to-one rule
    unbounded = [
        name
        for name, metadata in fields.items()
        if name not in shares
        and not any(getattr(m, "le", None) is not None or getattr(m, "lt", None) for m in metadata)
    ]
    assert unbounded == []


@pytest.mark.parametrize(
    ("section", "key", "value"),
    [
        ("follow_up", "after_follow_up_weeks", "1e20"),
        ("cohort", "intake_weeks", "1e19"),
        ("cohort", "intake_weeks", "1e9"),
        ("follow_up", "specialists", "1e9"),
        ("labour_market", "employers_per_participant", "1e9"),
        ("labour_market", "employers_per_participant", "1e308"),
        ("mechanisms", "productivity_base", "1e308"),
        ("mechanisms", "productivity_per_education", "1e308"),
        ("costs", "g_nok", "1e308"),
        ("follow_up", "hours_per_employer_contact", "1e-300"),
    ],
)
def test_huge_values_are_refused_by_validate(tmp_path: Path, section, key, value) -> None:
    path = write(tmp_path, "big.toml", f"[{section}]\n{key} = {value}\n")
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    assert f"{section}.{key}:" in str(err.value) and "\n" not in str(err.value)


def test_huge_value_is_refused_by_run_before_simulating(tmp_path: Path) -> None:
    path = write(tmp_path, "big.toml", "[labour_market]\nemployers_per_participant = 1e9\n")
    res = run_cli("run", path, "--out", tmp_path / "o", timeout=60)
    assert "employers_per_participant" in one_line_error(res)
    assert not (tmp_path / "o").exists()


# --------------------------------------------------------------------------- 10. control chars
@pytest.mark.parametrize("name", ["a\\u001b[31mred", "nul\\u0000", "two\\nlines", "tab\\there"])
def test_control_characters_in_names_are_refused(tmp_path: Path, name: str) -> None:
    path = write(tmp_path, "c.toml", f'[scenario]\nname = "{name}"\n')
    res = run_cli("validate", path, timeout=60)
    line = one_line_error(res)
    assert "control characters" in line and "\x1b" not in res.stderr and "\x00" not in res.stderr


def test_control_characters_in_file_names_are_escaped_when_printed(tmp_path: Path) -> None:
    path = write(tmp_path, "evil\x1b[31m.toml", "[scenario]\nname = 1\n")
    res = run_cli("validate", path, timeout=60)
    assert "\\x1b[31m" in one_line_error(res) and "\x1b" not in res.stderr
    ok = write(tmp_path, "ok\x1b[2J.toml", '[scenario]\nname = "fine"\n')
    res = run_cli("validate", ok, timeout=60)
    assert res.returncode == 0 and "\x1b" not in res.stdout and "\\x1b[2J" in res.stdout
