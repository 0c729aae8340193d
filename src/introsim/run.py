"""Running the model: one simulation as a function, and seeds for many.

``simulate(scenario, seed)`` has no hidden state, so a process pool or a
cluster gives the same results as a loop. Replicate seeds come from one root
seed through ``numpy.random.SeedSequence``; replicate ``r`` gets the same seed
in every scenario of a comparison (common random numbers).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from introsim.model.model import EVENTS, IntroModel
from introsim.model.outcomes import participant_table, summarise
from introsim.model.state import STATUS_NAMES
from introsim.params.schema import Scenario


@dataclass(frozen=True)
class SimResult:
    """What one run returns.

    Attributes:
        summary: Each run-level outcome name mapped to its value.
        weekly: One row per week: status counts and event counts.
        participants: One row per participant: characteristics, outcomes, costs.
    """

    summary: dict[str, float]
    weekly: pd.DataFrame
    participants: pd.DataFrame


def replicate_seed(root: int, replicate: int) -> np.random.SeedSequence:
    """Seed of replicate ``replicate`` under root seed ``root`` (the same in every scenario)."""
    return np.random.SeedSequence(entropy=root, spawn_key=(replicate,))


def weekly_table(model: IntroModel) -> pd.DataFrame:
    """The weekly series of a model as a DataFrame (week, status counts, events)."""
    cols = [*STATUS_NAMES, *EVENTS]
    df = pd.DataFrame(model.weekly[: model.week], columns=cols)
    df.insert(0, "week", np.arange(model.week, dtype=np.int64))
    return df


def simulate(scenario: Scenario, seed: int | np.random.SeedSequence) -> SimResult:
    """Run one scenario to its horizon.

    Args:
        scenario: A validated scenario.
        seed: Integer seed or ``SeedSequence`` (see :func:`replicate_seed`).

    Returns:
        The run's summary, weekly series and participant table.
    """
    model = IntroModel(scenario, seed, agents=False).run()
    participants = participant_table(model.refugees, model.weeks)
    return SimResult(summarise(participants), weekly_table(model), participants)


def simulate_outcomes(scenario: Scenario, seed: int | np.random.SeedSequence) -> dict[str, float]:
    """Run one scenario and return only its run-level outcomes and cost parts.

    This is what sweeps, sensitivity studies, calibration and trials need from a
    run; it skips the weekly and participant tables' formatting where it can.

    Args:
        scenario: A validated scenario.
        seed: Integer seed or ``SeedSequence``.

    Returns:
        Each name of :data:`introsim.model.outcomes.OUTCOMES` and
        :data:`introsim.model.outcomes.COST_PARTS` mapped to its value.
    """
    return simulate(scenario, seed).summary
