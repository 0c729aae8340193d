"""Every input file kind: validated whole before any run, refused in one line, read as written.

``introsim validate`` takes scenario, experiment, trial, calibration, targets and
ensemble files; study files are refused before their first run when they could
not finish (too large, a design SALib cannot analyse, an integer range without an
integer, a trial whose every cluster size is skipped, an ensemble member invalid at
a design point), and read as written (no table ignored, close levels kept apart).
Bad-file checks run in this process (``call_cli``).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from introsim.experiments import test_functions as tf
from introsim.experiments.design import load_experiment, salib_sample
from introsim.experiments.sensitivity import analyse_outcome
from introsim.params.document import TomlDocument
from introsim.params.errors import InputError
from introsim.params.paths import flatten, get, label, nest, set_in

from clitools import ROOT, call_cli, stderr_lines, write

TINY = """\
[scenario]
name = "base"
weeks = 60
seed = 7

[cohort]
size = 40
"""

EXPERIMENT = """\
[experiment]
name = "study"
question = "q"
base = "base.toml"
replications = 2
seed = 5
design = "{design}"
{extra}
[factors]
{factors}
"""


def experiment(folder: Path, design: str, factors: str, extra: str = "") -> Path:
    write(folder, "base.toml", TINY)
    text = EXPERIMENT.format(design=design, extra=extra, factors=factors)
    return write(folder, "study.toml", text)


def one_error(*args: str | Path) -> str:
    """The first line a refused command prints (exit status 2, no traceback).

    A command prints its first problem alone; ``validate`` prints a line per problem.
    """
    res = call_cli(*args)
    lines = stderr_lines(res)
    assert res.returncode == 2, res.stderr
    assert len(lines) == 1 or args[0] == "validate", res.stderr
    assert lines and all(line.startswith("error: ") for line in lines), res.stderr
    assert "Traceback" not in res.stderr
    return lines[0]


# --------------------------------------------------------------------------- the layer
def test_dotted_paths_read_write_flatten_and_nest() -> None:
    data = {"a": {"b": 1, "c": [10, {"d": 2}]}}
    assert get(data, "a.b") == 1 and get(data, ("a", "c", 1, "d")) == 2
    assert get(data, "a.x", None) is None
    with pytest.raises(KeyError, match=r"a\.x"):
        get(data, "a.x")
    assert flatten({"a": {"b": 1}, "c.d": 2}) == {"a.b": 1, "c.d": 2}
    assert flatten({"f": {"min": 1}}, leaf=lambda t: "min" in t) == {"f": {"min": 1}}
    assert nest({"a.b": 1, "a.c": 2}) == {"a": {"b": 1, "c": 2}}
    with pytest.raises(ValueError, match="set twice"):
        nest({"a": 1, "a.b": 2})
    set_in(data, "x.y", 3)
    assert data["x"] == {"y": 3}
    assert label(("labour_market", "sectors", 1, "share")) == "labour_market.sectors[1].share"


def test_a_document_fails_with_file_line_and_field(tmp_path: Path) -> None:
    path = write(tmp_path, "f.toml", '[trial]\nname = "x"\n\n[factors]\n"a.b" = 1\n')
    doc = TomlDocument.read(path)
    assert doc.line(("factors", "a", "b")) == 5  # a quoted dotted key is found by its parts
    with pytest.raises(InputError) as err:
        doc.fail(("trial", "name"), "expected something else")
    assert str(err.value) == f"{path}:2: trial.name: expected something else"


# --------------------------------------------------------------------------- validate
def test_validate_accepts_every_shipped_file_of_every_kind() -> None:
    files = sorted(
        p
        for folder in ("scenarios", "experiments", "calibration")
        for p in (ROOT / folder).glob("*.toml")
    )
    res = call_cli("validate", *files)
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert len(lines) == len(files) and all(": ok (" in line for line in lines)
    kinds = {line.split(": ok (")[1].split(":")[0].split()[0] for line in lines}
    # calibration/posterior.toml is the shipped posterior ensemble
    assert kinds == {"scenario", "experiment", "trial", "calibration", "targets", "ensemble"}


@pytest.mark.parametrize(
    ("name", "text", "names"),
    [
        ("e.toml", "[experiment]\nname = 'x'\n", "experiment.question"),
        ("t.toml", "[trial]\nname = 'x'\n", "missing [recruitment]"),
        ("c.toml", "[calibration]\nname = 'x'\n", "calibration.targets"),
        ("g.toml", "[[target]]\nname = 'x'\n", "target[0]"),
        ("m.toml", "[[member]]\n'follow_up.caseload' = 0\n", "follow_up.caseload"),
    ],
)
def test_validate_refuses_a_bad_file_of_every_kind(tmp_path: Path, name, text, names) -> None:
    line = one_error("validate", write(tmp_path, name, text))
    assert name in line and names in line, line


@pytest.mark.parametrize(
    ("shipped", "key", "typo", "command", "section"),
    [
        ("experiments/raskt_i_jobb_trial.toml", "trials", "trails", "trial", "trial"),
        ("experiments/levers_oat.toml", "replications", "replicatoins", "sweep", "experiment"),
        ("calibration/default.toml", "targets", "tagrets", "calibrate", "calibration"),
    ],
)
def test_a_misspelt_required_key_is_named_in_the_one_line_shown_first(
    tmp_path: Path, shipped, key, typo, command, section
) -> None:
    text = (ROOT / shipped).read_text(encoding="utf-8")
    path = write(tmp_path, "t1.toml", text.replace(f"\n{key} = ", f"\n{typo} = ", 1))
    lines = path.read_text(encoding="utf-8").splitlines()
    at = next(n for n, line in enumerate(lines, 1) if line.startswith(f"{typo} ="))
    want = (
        f"t1.toml:{at}: unknown key {typo!r} in [{section}], "
        f"did you mean {key!r}? ({section}.{key} is required)"
    )
    for args in ((command, path), ("validate", path)):
        assert one_error(*args).endswith(want), args
    # validate lists the problem once, not also as the key missing
    assert f"{section}.{key}: required but missing" not in call_cli("validate", path).stderr


def test_a_misspelt_required_table_says_it_is_required(tmp_path: Path) -> None:
    path = write(tmp_path, "t.toml", "[trail]\nname = 'x'\n[recruitment]\n")
    line = one_error("validate", path)
    assert line.endswith("unknown section 'trail', did you mean [trial]? ([trial] is required)")
    path = write(tmp_path, "t.toml", "[trail]\n[trial]\nname = 'x'\n[recruitment]\n")
    assert one_error("validate", path).endswith("unknown section 'trail'; did you mean [trial]?")


# --------------------------------------------------------------------------- C: sizes
def test_a_huge_grid_is_refused_at_once_with_its_size(tmp_path: Path) -> None:
    paths = [
        "follow_up.caseload",
        "follow_up.advisor_caseload",
        "follow_up.after_follow_up_weeks",
        "cohort.intake_weeks",
        "programme.max_weeks",
        "programme.education_weeks",
        "wage_subsidy.weeks",
        "mechanisms.ties_per_specialist",
    ]
    factors = "".join(f'"{p}" = {{ levels = {list(range(1, 21))} }}\n' for p in paths)
    path = experiment(tmp_path, "grid", factors)
    start = time.perf_counter()
    line = one_error("validate", path)
    assert time.perf_counter() - start < 5
    assert "2.6 × 10^10 design points" in line and "20 × 20" in line, line


def test_too_many_runs_are_refused_with_the_count(tmp_path: Path) -> None:
    path = experiment(
        tmp_path, "lhs", '"follow_up.caseload" = { min = 10, max = 30 }', "samples = 40000"
    )
    path.write_text(path.read_text().replace("replications = 2", "replications = 100"))
    line = one_error("validate", path)
    assert "4,000,100 model runs" in line and "at most 1,000,000" in line, line


def test_a_calibration_asking_for_too_many_runs_is_refused_everywhere(tmp_path, small_files):
    from test_calibration import CALIBRATION, TARGETS

    for name in ("base", "ips"):
        write(tmp_path, f"{name}.toml", small_files[name].read_text(encoding="utf-8"))
    write(tmp_path, "targets.toml", TARGETS)
    text = CALIBRATION.format(points=5000).replace("waves = 1", "waves = 20")
    path = write(tmp_path, "cal.toml", text.replace("replicates = 3", "replicates = 500"))
    out = tmp_path / "out"
    for args in (("validate",), ("calibrate", "--out", out), ("calibrate", "--dry-run")):
        line = one_error(args[0], path, *args[1:])
        assert "model runs" in line and "at most 1,000,000 are allowed" in line, line
    assert not out.exists()


# --------------------------------------------------------------------------- D: before any run
def test_delta_indices_of_a_known_function() -> None:
    # 10 x1 + 5 x2^2 + 3 x3 x4 on [0, 1]^6: first-order shares of the variance are
    # x1 0.758, x2 0.202, x3 and x4 0.017, x5 and x6 none.
    problem = tf.problem("screening")
    x = salib_sample("delta", problem, 512, seed=5)
    y = np.array([tf.screening(row[:-1]) for row in x])
    df = analyse_outcome("delta", problem, x, y[:, None], seed=3, resamples=20)
    full = df[df["n"] == 512]
    s1 = full[full["index"] == "S1"].set_index("factor")["value"]
    truth = {"x1": 0.758, "x2": 0.202, "x3": 0.017, "x4": 0.017, "x5": 0.0, "x6": 0.0}
    for factor, expected in truth.items():
        assert s1[factor] == pytest.approx(expected, abs=0.06), factor
    delta = full[full["index"] == "delta"].set_index("factor")["value"]
    assert delta.idxmax() == "x1" and delta["x1"] > delta["dummy"] + 0.2
    assert np.isfinite(delta).all()


def test_a_delta_study_runs_to_its_report(tmp_path: Path) -> None:
    factors = (
        '"mechanisms.language_slope" = { min = 0.6, max = 1.8 }\n'
        '"mechanisms.separation_hazard" = { min = 0.002, max = 0.012, scale = "log" }\n'
    )
    path = experiment(tmp_path, "delta", factors, 'samples = 100\noutcomes = ["employed_12m"]')
    res = call_cli("sensitivity", path, "--out", tmp_path / "out")
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "out" / "report.html").is_file()
    assert "delta" in (tmp_path / "out" / "indices.csv").read_text()


def test_a_delta_sample_too_small_for_the_estimator_is_refused_before_any_run(tmp_path) -> None:
    factors = (
        '"mechanisms.language_slope" = { min = 0.6, max = 1.8 }\n'
        '"mechanisms.separation_hazard" = { min = 0.002, max = 0.012 }\n'
    )
    path = experiment(tmp_path, "delta", factors, "samples = 24")
    line = one_error("sensitivity", path, "--out", tmp_path / "out")
    assert "experiment.samples" in line and "use a larger sample" in line, line
    assert not (tmp_path / "out").exists()


def test_sobol_with_every_factor_in_one_group_and_no_dummy_is_refused(tmp_path) -> None:
    factors = (
        '"mechanisms.language_slope" = { min = 0.6, max = 1.8, group = "g" }\n'
        '"mechanisms.separation_hazard" = { min = 0.002, max = 0.012, group = "g" }\n'
    )
    path = experiment(tmp_path, "sobol", factors, "samples = 8\ndummy = false")
    line = one_error("sensitivity", path, "--out", tmp_path / "out")
    assert "needs at least two variables" in line and "study.toml" in line, line
    # With the dummy there are two variables, and SALib's analysis runs.
    path.write_text(path.read_text().replace("dummy = false", "dummy = true"))
    assert call_cli("validate", path).returncode == 0


def test_an_integer_range_without_an_integer_is_refused(tmp_path: Path) -> None:
    factors = '"follow_up.caseload" = { min = 10.2, max = 10.8 }'
    path = experiment(tmp_path, "lhs", factors, "samples = 4")
    line = one_error("validate", path)
    at = path.read_text().splitlines().index(factors) + 1
    assert "follow_up.caseload takes whole numbers" in line and f"study.toml:{at}" in line, line
    cal = (ROOT / "calibration" / "default.toml").read_text(encoding="utf-8")
    cal = cal.replace('targets = "targets.toml"', f'targets = "{ROOT}/calibration/targets.toml"')
    plausible = '"mechanisms.ties_per_specialist" = "plausible"'
    assert plausible in cal
    cal = cal.replace(plausible, '"mechanisms.ties_per_specialist" = { min = 12.2, max = 12.9 }')
    line = one_error("calibrate", write(tmp_path, "cal.toml", cal), "--out", tmp_path / "o")
    assert "mechanisms.ties_per_specialist takes whole numbers" in line, line
    assert not (tmp_path / "o").exists()


ENSEMBLE = """\
[[member]]
"follow_up.specialists" = 30
"""


def test_an_ensemble_member_invalid_at_a_design_point_is_refused_before_any_run(tmp_path):
    # 30 specialists are fine for the base's 40 participants, not at the point of 20.
    path = experiment(tmp_path, "grid", '"cohort.size" = { levels = [40, 20] }')
    ens = write(tmp_path, "ensemble.toml", ENSEMBLE)
    line = one_error("sweep", path, "--out", tmp_path / "out", "--ensemble", ens)
    assert "ensemble.toml" in line and "cohort.size=20" in line, line
    assert "follow_up.specialists" in line, line
    assert not (tmp_path / "out").exists()


# --------------------------------------------------------------------------- E: read as written
def test_a_table_beside_members_is_refused_not_ignored(tmp_path: Path) -> None:
    text = ENSEMBLE + "\n[mechanisms]\nseparation_hazard = 0.01\n"
    line = one_error("validate", write(tmp_path, "ensemble.toml", text))
    assert "[mechanisms] beside [[member]]" in line and "ensemble.toml:4" in line, line


def test_close_levels_are_two_points_with_two_labels(tmp_path: Path) -> None:
    path = experiment(tmp_path, "grid", '"wage_subsidy.rate" = { levels = [0.1, 0.1000000001] }')
    design = load_experiment(path)
    labels = [p.label for p in design.points[1:]]
    assert labels == ["wage_subsidy.rate=0.1", "wage_subsidy.rate=0.1000000001"]
    same = experiment(tmp_path, "grid", '"wage_subsidy.rate" = { levels = [0.1, 0.10] }')
    assert "levels repeat a value" in one_error("validate", same)


def test_a_deeply_nested_set_value_is_one_line(tmp_path: Path) -> None:
    write(tmp_path, "base.toml", TINY)
    for depth in (30, 5000):
        value = "[" * depth + "]" * depth
        line = one_error("run", tmp_path / "base.toml", "--set", f"cohort.size={value}")
        assert line.startswith("error: --set: cohort.size:") and "nested" in line, line
    deep = write(tmp_path, "deep.toml", TINY + "[programme]\nx = " + "[" * 30 + "]" * 30 + "\n")
    assert "nested more than" in one_error("validate", deep)


# --------------------------------------------------------------------------- H: hidden characters
RLO, ZWSP = "\u202e", "\u200b"

NAMED = {
    "scenario": ("s.toml", '[scenario]\nname = "{name}"\n', "scenario.name"),
    "sector": (
        "s.toml",
        '[[labour_market.sectors]]\nname = "{name}"\nshare = 1.0\n',
        "labour_market.sectors[0].name",
    ),
    "experiment": (
        "study.toml",
        EXPERIMENT.format(
            design="grid", extra="", factors='"follow_up.caseload" = {{ levels = [10] }}'
        ).replace('name = "study"', 'name = "{name}"'),
        "experiment.name",
    ),
    "design point": (
        "study.toml",
        EXPERIMENT.format(design="list", extra="", factors="").replace(
            "[factors]\n", '[[points]]\nname = "{name}"\n"follow_up.caseload" = 10\n'
        ),
        "points[0].name",
    ),
    "factor group": (
        "study.toml",
        EXPERIMENT.format(
            design="sobol",
            extra="samples = 8",
            factors='"follow_up.caseload" = {{ min = 10, max = 30, group = "{name}" }}',
        ),
        "group",
    ),
    "target": (
        "targets.toml",
        '[[target]]\nname = "{name}"\nstatistic = "employed_12m"\nscenario = "base.toml"\n'
        'band = [0.1, 0.9]\nsource = "s"\n',
        "target[0].name",
    ),
}


@pytest.mark.parametrize(
    "char", [RLO, ZWSP, "\u2066", "\u00a0"], ids=["RLO", "ZWSP", "LRI", "NBSP"]
)
@pytest.mark.parametrize("kind", list(NAMED))
def test_names_with_format_or_invisible_characters_are_refused(tmp_path, kind, char) -> None:
    file, template, field = NAMED[kind]
    write(tmp_path, "base.toml", TINY)
    escaped = char.encode("unicode_escape").decode("ascii")
    path = write(tmp_path, file, template.format(name=f"ips{char}x"))
    line = one_error("validate", path)
    # Target names allow letters, digits, '_', '.' and '-' only, which says the same.
    why = "letters, digits" if kind == "target" else "invisible"
    assert field in line and escaped in line and why in line, line
    assert char not in line


def test_a_name_that_only_looks_composed_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "s.toml", '[scenario]\nname = "Tromso\u0308"\n')
    assert "composed Unicode form" in one_error("validate", path)


def test_hidden_characters_in_other_text_are_shown_escaped_everywhere(tmp_path: Path) -> None:
    base = TINY.replace('name = "base"', f'name = "base"\ndescription = "Standard {RLO}ecnetsissa"')
    a = write(tmp_path, "a.toml", base)
    b = write(
        tmp_path,
        "b.toml",
        'extends = "a.toml"\n[scenario]\nname = "ips"\n[follow_up]\nmethod = "ips"\n',
    )
    out = tmp_path / "out"
    res = call_cli("compare", a, b, "-r", "2", "--out", out)
    assert res.returncode == 0, res.stderr
    assert RLO not in res.stdout + res.stderr
    odd = write(tmp_path, f"odd{RLO}name.toml", TINY)
    res = call_cli("validate", odd)
    assert res.returncode == 0 and RLO not in res.stdout and "odd\\u202ename.toml" in res.stdout
    page = (out / "report.html").read_text(encoding="utf-8")
    assert RLO not in page and "Standard \\u202eecnetsissa" in page
    for csv in out.glob("*.csv"):
        assert RLO not in csv.read_text(encoding="utf-8"), csv.name


def test_hidden_characters_in_a_study_file_are_escaped_in_every_output(tmp_path: Path) -> None:
    write(
        tmp_path,
        "base.toml",
        TINY.replace('name = "base"', f'name = "base"\ndescription = "a{RLO}b"'),
    )
    text = EXPERIMENT.format(
        design="grid", extra="", factors='"follow_up.caseload" = { levels = [10, 20] }'
    ).replace('question = "q"', f'question = "Why {RLO}ton"')
    path = write(tmp_path, "study.toml", text)
    out = tmp_path / "out"
    res = call_cli("sweep", path, "--out", out)
    assert res.returncode == 0, res.stderr
    assert RLO not in res.stdout + res.stderr
    for file in out.rglob("*"):
        if file.is_file() and file.suffix in (".html", ".csv", ".json"):
            assert RLO not in file.read_text(encoding="utf-8"), file.name
    assert "Why \\u202eton" in (out / "report.html").read_text(encoding="utf-8")
