"""Mesa's ``DataCollector`` on an :class:`~introsim.model.model.IntroModel`.

Mesa users read a model's series from ``model.datacollector``. The model keeps
its weekly counts in an array filled by its kernels, so the model variables are
that array (no reporter runs per week); agent reporters, which need the agent
views, are collected after each week when given.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import mesa
import pandas as pd

if TYPE_CHECKING:
    from introsim.model.model import IntroModel

__all__ = ["WeeklyCollector"]


class WeeklyCollector(mesa.DataCollector):
    """A ``mesa.DataCollector`` whose model variables are the model's weekly counts.

    Args:
        model: The model it reads.
        agent_reporters: Mesa's agent reporters (an attribute name, or a function
            of the agent), e.g. ``{"status": "status", "language": "language"}``;
            collected after every week, for every agent view.
        agenttype_reporters: Mesa's reporters by agent class (``Refugee``, ...).
    """

    def __init__(
        self,
        model: IntroModel,
        agent_reporters: dict[str, Any] | None = None,
        agenttype_reporters: dict[type, dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(
            agent_reporters=agent_reporters or {}, agenttype_reporters=agenttype_reporters or {}
        )
        self._model = model

    @property
    def per_week(self) -> bool:
        """Whether anything must be collected week by week (agent or agent-type reporters)."""
        return bool(self.agent_reporters or self.agenttype_reporters)

    def get_model_vars_dataframe(self) -> pd.DataFrame:
        """One row per week simulated: participants by status and the week's events.

        The index, ``Step``, is ``model.steps`` after that week (1 for the first
        week), as Mesa's collector would record it when called after each step;
        the columns are those of ``weekly.parquet``.
        """
        from introsim.run import weekly_table

        frame = weekly_table(self._model).drop(columns="week")
        frame.index = pd.RangeIndex(1, len(frame) + 1, name="Step")
        return frame
