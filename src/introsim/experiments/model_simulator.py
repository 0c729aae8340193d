"""The model as a history-matching simulator: parameter points in, target values out.

:func:`~introsim.experiments.posterior.history_match` asks a simulator for the
targets at a batch of parameter points. Here each point becomes the scenarios
its targets need with the point's values as overrides, and each scenario one
task per replicate on the experiment engine, so a batch runs on the warm
process pool or Dask, is kept in the run store as it finishes and is not run
again after an interruption. Replicate ``r`` has the same seed at every point
and in every scenario (common random numbers), so a target that is a
difference of scenarios is paired run by run. A scenario runs as many
replicates as the most demanding target that uses it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from typing import Any

import numpy as np

from introsim.experiments.calibration import calibration_statistics
from introsim.experiments.engine import Task, run_tasks
from introsim.experiments.store import RunStore
from introsim.params.calibration_file import Targets
from introsim.params.catalog import param_info
from introsim.params.errors import InputError
from introsim.params.loader import load_scenario_with
from introsim.params.schema import Scenario

__all__ = ["ModelSimulator"]


class ModelSimulator:
    """Targets of a targets file as a function of free parameters (a posterior simulator).

    Args:
        targets: The targets file, resolved (statistic targets only: each is a
            linear combination of run statistics of scenarios).
        parameters: Dotted scenario paths of the free parameters, in the order
            of a point's columns.
        executor: Where runs go (None: this process).
        store: Keeps runs as they finish; stored runs are not run again.
        progress: Called with (runs done in all batches so far, ``expected`` or the
            runs asked for so far, whichever is larger).
        expected: The runs the whole calibration is expected to ask for (for progress).

    Raises:
        ValueError: A target is a trial target, or a parameter is not in the schema.
    """

    def __init__(
        self,
        targets: Targets,
        parameters: Sequence[str],
        executor: Executor | None = None,
        *,
        store: RunStore | None = None,
        progress: Callable[[int, int], None] | None = None,
        expected: int | None = None,
    ) -> None:
        trial = [t.name for t in targets.targets if t.trial is not None]
        if trial:
            raise ValueError(f"trial targets cannot be history-matched here: {', '.join(trial)}")
        self.targets = targets
        self.parameters = tuple(parameters)
        kinds = []
        for name in self.parameters:
            info = param_info(name)
            if info is None or info.kind not in ("int", "float"):
                raise ValueError(f"{name!r} is not a numeric scenario parameter")
            kinds.append(info.kind)
        self.kinds = tuple(kinds)
        self.executor = executor
        self.store = store
        self.progress = progress
        self.expected = expected or 0
        self.base: list[Scenario] = [
            load_scenario_with(ref.path, dict(ref.sets), source=targets.path)
            for ref in targets.scenarios
        ]
        self.batches = 0
        self.runs = 0
        """Model runs asked for so far (stored ones included)."""

    def overrides(self, point: np.ndarray) -> dict[str, Any]:
        """A point as dotted-path overrides (integers rounded)."""
        return {
            name: (round(float(v)) if kind == "int" else float(v))
            for name, kind, v in zip(self.parameters, self.kinds, point, strict=True)
        }

    def scenario(self, s: int, point: np.ndarray) -> Scenario:
        """Scenario ``s`` with a point's overrides (the scenario's own settings win)."""
        own = dict(self.targets.scenarios[s].sets)
        return self.base[s].with_overrides(
            {k: v for k, v in self.overrides(point).items() if k not in own}
        )

    def scenario_replicates(self, replicates: Sequence[int]) -> list[int]:
        """Replicates each scenario needs: the most any target using it asks for."""
        return self.needs(self.targets, replicates)

    @staticmethod
    def needs(targets: Targets, replicates: Sequence[int]) -> list[int]:
        """Replicates each scenario of ``targets`` needs for the targets' replicate counts."""
        need = [0] * len(targets.scenarios)
        for t, r in zip(targets.targets, replicates, strict=True):
            for term in t.terms:
                need[term.scenario] = max(need[term.scenario], r)
        return need

    def __call__(
        self, points: np.ndarray, replicates: tuple[int, ...], root_seed: int
    ) -> np.ndarray:
        """Run every point's scenarios and return (points, max replicates, targets) values."""
        from pydantic import ValidationError

        n, n_scen = points.shape[0], len(self.targets.scenarios)
        need = self.scenario_replicates(replicates)
        tasks: list[Task] = []
        for i in range(n):
            for s in range(n_scen):
                try:
                    sc = self.scenario(s, points[i])
                except (ValidationError, InputError):
                    continue  # this point is not a valid scenario: its targets stay NaN
                tasks += [Task(i * n_scen + s, r, sc, root_seed) for r in range(need[s])]
        base = self.runs
        tick = self.progress

        def progress(done: int, total: int) -> None:
            if tick is not None:
                tick(base + done, max(self.expected, base + total))

        results = run_tasks(
            tasks,
            self.executor,
            evaluate=calibration_statistics,
            store=self.store,
            progress=progress,
        )
        stats: dict[tuple[int, int], dict[str, float]] = {}
        for task, res in zip(tasks, results, strict=True):
            if not res.error:
                stats[(task.point, task.replicate)] = res.value
        self.batches += 1
        self.runs += len(tasks)
        out = np.full((n, max(replicates), len(self.targets.targets)), np.nan)
        for j, (t, r_max) in enumerate(zip(self.targets.targets, replicates, strict=True)):
            for i in range(n):
                for r in range(r_max):
                    total = 0.0
                    for term in t.terms:
                        value = stats.get((i * n_scen + term.scenario, r))
                        if value is None:
                            total = np.nan
                            break
                        total += term.coef * value[term.statistic]
                    out[i, r, j] = total
        return out
