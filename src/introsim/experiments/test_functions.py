"""Functions with known sensitivity indices, to test the sensitivity pipeline.

SALib ships its own (``SALib.test_functions``); these are the same functions
packaged as the experiment engine runs models: a picklable "scenario" with a
``digest()`` (:class:`FunctionPoint`) and a module-level ``evaluate(scenario,
seed)`` (:func:`evaluate`), so the known-answer tests run the very pipeline a
study runs: SALib sampler, :func:`~introsim.experiments.engine.run_tasks`,
analysis. ``noise_sd`` adds seeded Gaussian noise, to stand in for a stochastic
model whose seed noise is known.

* Ishigami & Homma (1990): ``sin x1 + a sin^2 x2 + b x3^4 sin x1`` on
  ``[-pi, pi]^3``; analytic first-order and total indices in
  :func:`ishigami_indices` (Sobol & Levitan 1999).
* ``screening``: ``10 x1 + 5 x2^2 + 3 x3 x4`` on ``[0, 1]^6``; ``x5`` and ``x6``
  are inactive, so Morris must rank them last with mu* = 0.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "FUNCTIONS",
    "ISHIGAMI_A",
    "ISHIGAMI_B",
    "SCREENING_INACTIVE",
    "FunctionPoint",
    "evaluate",
    "ishigami",
    "ishigami_indices",
    "problem",
    "screening",
]

ISHIGAMI_A = 7.0
ISHIGAMI_B = 0.1
SCREENING_INACTIVE = ("x5", "x6")
"""The screening function's factors that have no effect."""


def ishigami(x: np.ndarray, a: float = ISHIGAMI_A, b: float = ISHIGAMI_B) -> float:
    """The Ishigami function at one point ``x`` (three values in ``[-pi, pi]``)."""
    return float(math.sin(x[0]) + a * math.sin(x[1]) ** 2 + b * x[2] ** 4 * math.sin(x[0]))


def screening(x: np.ndarray) -> float:
    """``10 x1 + 5 x2^2 + 3 x3 x4``; ``x5`` and ``x6`` are ignored."""
    return float(10 * x[0] + 5 * x[1] ** 2 + 3 * x[2] * x[3])


FUNCTIONS: dict[str, tuple[Callable[[np.ndarray], float], tuple[tuple[float, float], ...]]] = {
    "ishigami": (ishigami, ((-math.pi, math.pi),) * 3),
    "screening": (screening, ((0.0, 1.0),) * 6),
}
"""Name to (function, bounds of each input)."""


def problem(name: str, dummy: bool = True) -> dict[str, Any]:
    """The SALib problem of a test function: inputs ``x1..xk``, and a dummy last if asked."""
    from introsim.experiments.design import DUMMY

    bounds = [list(b) for b in FUNCTIONS[name][1]]
    names = [f"x{i + 1}" for i in range(len(bounds))]
    if dummy:
        names.append(DUMMY)
        bounds.append([0.0, 1.0])
    return {"num_vars": len(names), "names": names, "bounds": bounds}


def ishigami_indices(a: float = ISHIGAMI_A, b: float = ISHIGAMI_B) -> dict[str, Any]:
    """Analytic variance, first-order (S1), total (ST) and second-order (S2) Ishigami indices.

    Returns:
        ``{"variance": V, "S1": {"x1": ..}, "ST": {"x1": ..}, "S2": {("x1", "x3"): ..}}``.
    """
    pi4 = math.pi**4
    v1 = 0.5 * (1 + b * pi4 / 5) ** 2
    v2 = a**2 / 8
    v13 = 8 * b**2 * math.pi**8 / 225
    v = v1 + v2 + v13
    return {
        "variance": v,
        "S1": {"x1": v1 / v, "x2": v2 / v, "x3": 0.0},
        "ST": {"x1": (v1 + v13) / v, "x2": v2 / v, "x3": v13 / v},
        "S2": {("x1", "x3"): v13 / v, ("x1", "x2"): 0.0, ("x2", "x3"): 0.0},
    }


@dataclass(frozen=True)
class FunctionPoint:
    """A test function at one input point: the engine's "scenario" for known-answer tests.

    Attributes:
        function: Key of :data:`FUNCTIONS`.
        x: The function's inputs (a dummy input is not passed).
        noise_sd: Standard deviation of the seeded noise added to the value.
    """

    function: str
    x: tuple[float, ...]
    noise_sd: float = 0.0

    def digest(self) -> str:
        """A stable hash of the point (the engine's run ids use it)."""
        text = f"{self.function}|{[float(v).hex() for v in self.x]}|{float(self.noise_sd).hex()}"
        return hashlib.sha256(text.encode()).hexdigest()


def evaluate(point: FunctionPoint, seed: np.random.SeedSequence) -> dict[str, float]:
    """The function's value at a point, plus noise drawn from the replicate's seed.

    Args:
        point: The function and its inputs.
        seed: The replicate's seed.

    Returns:
        ``{"y": value}``.
    """
    f, _ = FUNCTIONS[point.function]
    y = f(np.asarray(point.x, dtype=np.float64))
    if point.noise_sd > 0:
        y += point.noise_sd * float(np.random.default_rng(seed).standard_normal())
    return {"y": y}
