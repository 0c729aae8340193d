"""Tables written from columns, without pandas, hold what their DataFrames hold.

``introsim run`` writes its tables from columns (``introsim.tables``) so it need not import
pandas; the files must be what writing the DataFrames gave: the same CSV text, and Parquet
files that read back as the same DataFrames.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from introsim.model.world import advance, build_world
from introsim.output import write_csv, write_parquet
from introsim.params.schema import Scenario
from introsim.run import _simulate_columns, simulate
from introsim.tables import Coded, frame

from clitools import ROOT


@pytest.fixture(scope="module")
def run_columns():
    sc = Scenario().with_overrides({"cohort.size": 300, "scenario.weeks": 150})
    return sc, _simulate_columns(sc, 7, history=False)


@pytest.mark.parametrize("table", ["weekly", "participants", "ledger"])
def test_columns_write_what_their_dataframe_writes(tmp_path, run_columns, table):
    _, run = run_columns
    columns = getattr(run, table)
    df = frame(columns)
    write_csv(columns, tmp_path / "a.csv")
    write_csv(df, tmp_path / "b.csv")
    assert (tmp_path / "a.csv").read_text() == (tmp_path / "b.csv").read_text()
    write_parquet(columns, tmp_path / "a.parquet")
    back = pd.read_parquet(tmp_path / "a.parquet")
    pd.testing.assert_frame_equal(back, df, check_exact=True)
    if table == "participants":  # missing values were there to be written
        assert back["employed_60m"].isna().all() and back["status_12m_after_exit"].isna().any()


def test_simulate_tables_are_the_run_state(run_columns):
    sc, run = run_columns
    result = simulate(sc, 7)
    world = advance(build_world(sc, 7), 0, sc.scenario.weeks)
    assert list(result.summary) == list(run.summary)
    np.testing.assert_array_equal(list(result.summary.values()), list(run.summary.values()))
    assert np.array_equal(result.weekly.drop(columns="week").to_numpy(), world.weekly)
    assert np.array_equal(result.ledger.drop(columns="week").to_numpy(), world.ledger)
    codes = result.participants["status_end"].cat.codes.to_numpy()
    assert np.array_equal(codes, world.refugees.status)


def test_coded_columns_and_odd_values_round_trip(tmp_path):
    columns = {
        "=name": np.array([1, -2, 3], dtype=np.int8),
        "x": np.array([0.1, np.nan, 1e16]),
        "flag": np.array([True, False, True]),
        "kind": Coded(np.array([0, -1, 1], dtype=np.int8), ("a", "+b")),
    }
    write_csv(columns, tmp_path / "a.csv")
    write_csv(frame(columns), tmp_path / "b.csv")
    text = (tmp_path / "a.csv").read_text()
    assert text == (tmp_path / "b.csv").read_text()
    assert text.splitlines()[0].startswith('"\'=name"')  # a formula-like name is made inert
    write_parquet(columns, tmp_path / "a.parquet")
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "a.parquet"), frame(columns))


def test_introsim_run_imports_neither_pandas_nor_municipal_profiles(tmp_path):
    # Both are start-up time a run of a scenario without [municipality] does not need.
    code = (
        "import sys\n"
        "from introsim.cli import main\n"
        f"sys.argv = ['introsim', 'run', {str(ROOT / 'scenarios' / 'baseline.toml')!r},"
        f" '--json', '--out', {str(tmp_path / 'out')!r}]\n"
        "try:\n    main()\nexcept SystemExit as e:\n    assert e.code == 0, e.code\n"
        "assert 'pandas' not in sys.modules, 'pandas was imported'\n"
        "assert 'introsim.params.municipalities' not in sys.modules, 'profiles imported'\n"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "out" / "participants.parquet").stat().st_size > 0
