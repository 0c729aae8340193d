"""introsim: an agent-based simulation of Norway's introduction programme for refugees.

The Python API's first steps are here::

    import introsim

    sc = introsim.load_scenario("scenarios/ips.toml")
    sc = sc.with_overrides({"follow_up.caseload": 15})  # a ScenarioError if refused

Every refusal of input, from a file or from code, is an :class:`InputError`
(a :class:`ScenarioError` for scenarios) worded as the command line words it.
"""

from importlib import metadata
from typing import Any

try:
    __version__ = metadata.version("introsim")
except metadata.PackageNotFoundError:  # running from a source tree without installing
    __version__ = "0+unknown"

__all__ = ["InputError", "Scenario", "ScenarioError", "__version__", "load_scenario"]

_LAZY = {
    "InputError": "introsim.params.errors",
    "ScenarioError": "introsim.params.errors",
    "Scenario": "introsim.params.schema",
    "load_scenario": "introsim.params.loader",
}


def __getattr__(name: str) -> Any:
    """Import the public API on first use, so ``import introsim`` stays quick."""
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'introsim' has no attribute {name!r}")
