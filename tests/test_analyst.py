"""The analyst's, researcher's and Python user's path: what they paste and read is true.

Each test reproduces something a user met: a README snippet that crashed when
pasted into a script, a notebook that could not find the repository, a Mesa
user who looked for ``model.datacollector``.
"""

from __future__ import annotations

import re
import subprocess
import sys
import types
from pathlib import Path

from clitools import SRC, write

SCRIPT = """\
from introsim.experiments.study import Runner, load_study

study = load_study("compare", [{a!r}, {b!r}], replications=2)
{indent_head}with Runner(jobs=2) as runner:
{indent}    result = study.run(runner)
{indent}print("label", runner.label, "rows", len(result.replicates))
"""


def _script(tmp_path: Path, guarded: bool) -> subprocess.CompletedProcess[str]:
    base = "[scenario]\nname = '{n}'\nweeks = 20\nseed = 3\n[cohort]\nsize = 60\n"
    a = write(tmp_path, "a.toml", base.format(n="a"))
    b = write(tmp_path, "b.toml", base.format(n="b") + "[follow_up]\nmethod = 'ips'\n")
    head = 'if __name__ == "__main__":\n    ' if guarded else ""
    text = SCRIPT.format(a=str(a), b=str(b), indent_head=head, indent="    " if guarded else "")
    script = write(tmp_path, "study.py", text)
    env = {"PYTHONPATH": str(SRC), "PATH": "/usr/bin:/bin"}
    return subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=300
    )


def test_an_unguarded_script_runs_in_one_process_and_says_why(tmp_path: Path):
    res = _script(tmp_path, guarded=False)
    assert res.returncode == 0, res.stderr
    assert "label 1 process rows" in res.stdout
    assert "BrokenProcessPool" not in res.stderr and "bootstrapping" not in res.stderr
    assert 'if __name__ == "__main__":' in res.stderr and "study.py, line 4" in res.stderr


def test_a_guarded_script_is_not_taken_for_an_unguarded_one(tmp_path: Path, monkeypatch):
    from introsim.experiments import study

    for guarded, expected in ((True, None), (False, "line 3,")):
        body = "found = unguarded_main()\n"
        head = 'if __name__ == "__main__":\n    ' if guarded else ""
        path = write(tmp_path, f"script_{guarded}.py", f"import sys\n\n{head}{body}")
        module = types.ModuleType("__main__")
        module.__file__ = str(path)
        module.unguarded_main = study.unguarded_main
        monkeypatch.setitem(sys.modules, "__main__", module)
        exec(compile(path.read_text(), str(path), "exec"), vars(module))
        assert (module.found is None) if expected is None else expected in module.found


def test_the_readme_snippet_is_guarded():
    readme = (SRC.parent / "README.md").read_text(encoding="utf-8")
    start = readme.index('load_study("sweep", "experiments/levers_oat.toml")')
    block = readme[readme.rindex("```python", 0, start) : readme.index("```\n", start)]
    assert 'if __name__ == "__main__":' in block
    assert block.index("__main__") < block.index("Runner(jobs=2)")


def test_the_repository_is_found_from_anywhere(tmp_path: Path, monkeypatch):
    from introsim.paths import repository

    root = SRC.parent
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    assert repository() == root  # from the installed package
    copy = tmp_path / "copy"
    (copy / "scenarios").mkdir(parents=True)
    write(copy, "pyproject.toml", "")
    monkeypatch.setenv("JPY_SESSION_NAME", str(copy / "notebooks" / "x.ipynb"))
    assert repository() == copy  # the notebook's own path comes first
    assert repository(root / "notebooks") == root


def test_paths_to_source_files_in_files_users_read_exist():
    root = SRC.parent
    mentioned = re.compile(r"src/introsim/[\w/]+\.py")
    places = [root / "README.md", *root.glob("docs/*.md"), *root.glob("notebooks/*.ipynb")]
    places += [*root.glob("scenarios/*.toml"), *root.glob("experiments/*.toml")]
    places += [*root.glob("calibration/*.toml")]
    missing = [
        f"{place.name}: {found}"
        for place in places
        for found in mentioned.findall(place.read_text(encoding="utf-8"))
        if not (root / found).exists()
    ]
    assert not missing, missing


def test_mesa_users_find_a_datacollector(small_files):
    from introsim.model.model import IntroModel
    from introsim.params.loader import load_scenario
    from introsim.run import simulate

    sc = load_scenario(small_files["base"]).with_overrides({"scenario.weeks": 30})
    model = IntroModel(sc, seed=4, agent_reporters={"status": "status"}).run()
    weeks = model.datacollector.get_model_vars_dataframe()
    expected = simulate(sc, 4).weekly.drop(columns="week")
    assert list(weeks.index) == list(range(1, 31)) and weeks.index.name == "Step"
    assert weeks.reset_index(drop=True).equals(expected)  # the same series as `introsim run`
    agents = model.datacollector.get_agent_vars_dataframe()
    last = agents.xs(30, level="Step")["status"].dropna().value_counts()
    assert last.sum() == sc.cohort.size
    assert all(last[name] == weeks.loc[30, name] for name in last.index)
    # Without agent reporters the whole horizon still runs in one compiled loop.
    plain = IntroModel(sc, seed=4, agents=False).run()
    assert plain.datacollector.get_model_vars_dataframe().equals(weeks)
