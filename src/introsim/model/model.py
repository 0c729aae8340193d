"""The model: one municipality's introduction programme as a Mesa ``Model``.

``IntroModel.step()`` is one week, in a fixed order;
it calls ``kernels.run_week`` on the struct-of-arrays state, and ``run()`` loops
over the weeks inside one compiled function that calls the same kernels.
"""

from __future__ import annotations

import mesa
import numpy as np

from introsim.model import kernels as k
from introsim.model.agents import Employer, Refugee, Specialist
from introsim.model.collector import WeeklyCollector
from introsim.model.state import EVENT_COLUMN, EVENTS, NO_ONE, Status
from introsim.model.world import World, advance, build_world, child_seeds, seed_sequence
from introsim.params.schema import Scenario

__all__ = ["EVENTS", "EVENT_COLUMN", "IntroModel", "child_seeds", "seed_sequence"]


class IntroModel(mesa.Model):
    """One municipality's introduction programme, one week per step.

    Args:
        scenario: A validated scenario.
        seed: Integer seed or ``numpy.random.SeedSequence`` for this run.
        agents: Create the Mesa agent views (``Refugee``, ``Specialist``,
            ``Employer``). Off for headless runs, where nothing reads them.
        world: A world already built from (scenario, seed) by
            :func:`introsim.model.world.build_world`; built here if not given.
        agent_reporters: Mesa agent reporters for ``datacollector``, collected
            after every week (needs ``agents``); e.g. ``{"status": "status"}``.

    Attributes:
        refugees, specialists, employers, vacancies: The struct-of-arrays state.
        tables, params, counters: The other kernel inputs (see ``world.py``).
        week: Weeks simulated so far.
        weekly: (weeks, statuses + events) counts, filled as the run goes.
        datacollector: A ``mesa.DataCollector``: ``get_model_vars_dataframe()`` is
            the weekly counts, ``get_agent_vars_dataframe()`` the agent reporters'.
    """

    def __init__(
        self,
        scenario: Scenario,
        seed: int | np.random.SeedSequence,
        *,
        agents: bool = True,
        world: World | None = None,
        agent_reporters: dict | None = None,
    ) -> None:
        w = build_world(scenario, seed) if world is None else world
        super().__init__(rng=np.random.Generator(np.random.PCG64(w.model_seed)))
        self.scenario = scenario
        self.world = w
        self.refugees, self.specialists, self.employers, self.vacancies = w[:4]
        self.tables, self.params, self.counters, self.weekly = w[4:8]
        self.key = w.params.key
        self.week = 0
        self.weeks = scenario.scenario.weeks

        self.specialist_agents: list[Specialist] = []
        if agents:
            self.refugee_agents = [Refugee(self, i) for i in range(self.refugees.size)]
            self.specialist_agents = [Specialist(self, i) for i in range(self.specialists.size)]
            self.employer_agents = [Employer(self, i) for i in range(self.employers.size)]
        elif agent_reporters:
            raise ValueError("agent_reporters need the agent views: leave agents=True")
        self.datacollector = WeeklyCollector(self, agent_reporters)

    @property
    def benefit_week(self) -> float:
        """Introduction benefit per week at the full rate, NOK."""
        return self.params.benefit_week

    # ------------------------------------------------------------------ the week
    def step(self) -> None:
        """Simulate one week in its fixed order (``kernels.run_week``)."""
        if self.week >= self.weeks:
            self.running = False
            return
        w = self.world
        k.run_week(
            self.week, *w[:7], self.weekly[self.week], w.accounts, w.ledger[self.week], w.work
        )
        self.week += 1
        if self.week >= self.weeks:
            self.running = False
        if self.datacollector.per_week:
            self.datacollector.collect(self)

    def run(self) -> IntroModel:
        """Simulate every remaining week of the horizon in one compiled loop; return the model.

        Gives the same state as calling :meth:`step` week by week.
        """
        if self.datacollector.per_week:  # agent reporters read the agents after every week
            while self.running and self.week < self.weeks:
                self.step()
            return self
        start = self.week
        advance(self.world, start, self.weeks)
        self.week = self.weeks
        self.steps += self.weeks - start  # as Mesa's step wrapper would have counted
        self.running = False
        return self

    # ------------------------------------------------------------------ checks
    def check_invariants(self) -> None:
        """Raise ``RuntimeError`` if the state breaks a rule of the model.

        Every participant has exactly one status; nobody holds two jobs; no
        vacancy opening is filled twice; no specialist exceeds the cap and each
        caseload matches the participants assigned; nobody is created or lost.

        Raises:
            RuntimeError: Naming the first rule broken.
        """
        r, s = self.refugees, self.specialists
        n = self.scenario.cohort.size
        problems = []
        if r.size != n:
            problems.append(f"{r.size} participants, expected {n}")
        if r.status.min() < 0 or r.status.max() >= len(Status):
            problems.append("a status outside the known codes")
        employed = (r.status == Status.EMPLOYED) | (r.status == Status.SUBSIDISED)
        jobs = r.job_vacancy[employed]
        if (jobs < 0).any():
            problems.append("an employed participant without a job")
        if np.unique(jobs).size != jobs.size:
            problems.append("two participants hold the same vacancy opening")
        if (r.job_vacancy[~employed & (r.pending_start < 0)] >= 0).any():
            problems.append("a participant not in work still holds a job")
        if ((r.pending_start >= 0) & (r.job_vacancy < 0)).any():
            problems.append("a job waiting to start has no vacancy")
        if ((r.pending_start >= 0) & employed).any():
            problems.append("a participant in work waits for another job to start")
        if (r.in_programme[~employed] == 1).any():
            problems.append("a participant in the programme alongside a job holds no job")
        if ((r.in_programme == 1) & (r.exit_week >= 0)).any():
            problems.append("a participant who left the programme is still in it")
        if (s.caseload > s.cap).any():
            problems.append("a specialist above the caseload cap")
        assigned = np.bincount(r.specialist[r.specialist != NO_ONE], minlength=s.size)
        if not np.array_equal(assigned, s.caseload):
            problems.append("caseload counts differ from participants assigned")
        open_filled = (self.vacancies.is_open == 1) & (self.vacancies.filled == 1)
        if open_filled.any():
            problems.append("a filled vacancy is still open")
        if self.week > 0 and self.weekly[self.week - 1, : len(Status)].sum() != n:
            problems.append("weekly status counts do not add up to the cohort")
        if problems:
            raise RuntimeError("; ".join(problems))
