"""Running the model: one simulation as a function, and seeds for many.

``simulate(scenario, seed)`` and ``simulate_outcomes(scenario, seed)`` build the
run's world without Mesa and loop over the weeks in compiled code
(``IntroModel`` wraps the same world for stepping week by week). They have no
hidden state, so a process pool or a cluster gives the same results as a loop.
Replicate seeds come from one root seed through ``numpy.random.SeedSequence``;
replicate ``r`` gets the same seed in every scenario of a comparison (common
random numbers).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from introsim.model.model import IntroModel
from introsim.model.outcomes import participant_outcomes, participant_table, summarise
from introsim.model.state import EVENTS, STATUS_NAMES
from introsim.model.world import advance, build_world
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
    return _weekly_frame(model.weekly[: model.week])


def _weekly_frame(weekly: np.ndarray) -> pd.DataFrame:
    df = pd.DataFrame(weekly, columns=[*STATUS_NAMES, *EVENTS])
    df.insert(0, "week", np.arange(weekly.shape[0], dtype=np.int64))
    return df


def simulate(scenario: Scenario, seed: int | np.random.SeedSequence) -> SimResult:
    """Run one scenario to its horizon.

    Args:
        scenario: A validated scenario.
        seed: Integer seed or ``SeedSequence`` (see :func:`replicate_seed`).

    Returns:
        The run's summary, weekly series and participant table.
    """
    weeks = scenario.scenario.weeks
    world = advance(build_world(scenario, seed), 0, weeks)
    participants = participant_table(world.refugees, weeks)
    return SimResult(summarise(participants), _weekly_frame(world.weekly), participants)


def simulate_outcomes(scenario: Scenario, seed: int | np.random.SeedSequence) -> dict[str, float]:
    """Run one scenario and return only its run-level outcomes and cost parts.

    This is what sweeps, sensitivity studies, calibration and trials need from a
    run: the weeks run in one compiled loop, without Mesa agents, and the
    outcomes come straight from the arrays, without pandas. The values equal
    ``simulate(scenario, seed).summary`` exactly.

    Args:
        scenario: A validated scenario.
        seed: Integer seed or ``SeedSequence``.

    Returns:
        Each name of :data:`introsim.model.outcomes.OUTCOMES` and
        :data:`introsim.model.outcomes.COST_PARTS` mapped to its value.
    """
    weeks = scenario.scenario.weeks
    world = advance(build_world(scenario, seed), 0, weeks)
    return summarise(participant_outcomes(world.refugees, weeks))
