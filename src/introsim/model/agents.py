"""Mesa agents as thin views over the struct-of-arrays state.

Each agent holds an index into its population's arrays and exposes the
attributes as properties, so ``model.agents``, AgentSet selection and
DataCollector agent reporters work. The weekly step never touches them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa

from introsim.model.state import NO_ONE, PHASE_NAMES, STATUS_NAMES
from introsim.params.schema import EDUCATION_LEVELS, METHODS

if TYPE_CHECKING:
    from introsim.model.model import IntroModel


class _View(mesa.Agent):
    """An agent that is an index into one population's arrays."""

    def __init__(self, model: IntroModel, index: int) -> None:
        super().__init__(model)
        self.index = index


class Refugee(_View):
    """A participant: a view onto ``model.refugees[index]``."""

    @property
    def status(self) -> str:
        """Status this week, e.g. ``"programme"`` or ``"employed"``."""
        return STATUS_NAMES[self.model.refugees.status[self.index]]

    @property
    def phase(self) -> str:
        """Phase within programme or follow-along support."""
        return PHASE_NAMES[self.model.refugees.phase[self.index]]

    @property
    def method(self) -> str:
        """Follow-up method this participant receives."""
        return METHODS[self.model.refugees.method[self.index]]

    @property
    def language(self) -> float:
        """Norwegian proficiency on the 0-6 scale (3 = B1)."""
        return float(self.model.refugees.language[self.index])

    @property
    def age(self) -> float:
        """Age at arrival, years."""
        return float(self.model.refugees.age[self.index])

    @property
    def female(self) -> bool:
        """Whether the participant is a woman."""
        return bool(self.model.refugees.sex[self.index])

    @property
    def education(self) -> str:
        """Highest completed education."""
        return EDUCATION_LEVELS[self.model.refugees.education[self.index]]

    @property
    def mental_health_burden(self) -> bool:
        """Whether the participant has a mental-health burden."""
        return bool(self.model.refugees.mental_health[self.index])

    @property
    def care_responsibilities(self) -> bool:
        """Whether the participant has care responsibilities at home."""
        return bool(self.model.refugees.care[self.index])

    @property
    def employed(self) -> bool:
        """Whether in work this week, ordinary or subsidised."""
        return self.status in ("employed", "subsidised")

    @property
    def specialist(self) -> Specialist | None:
        """The specialist following this participant, if any."""
        s = int(self.model.refugees.specialist[self.index])
        return None if s == NO_ONE else self.model.specialist_agents[s]


class Specialist(_View):
    """A job specialist or programme advisor: a view onto ``model.specialists[index]``."""

    @property
    def method(self) -> str:
        """Follow-up method this specialist practises."""
        return METHODS[self.model.specialists.method[self.index]]

    @property
    def caseload(self) -> int:
        """Participants followed this week."""
        return int(self.model.specialists.caseload[self.index])

    @property
    def cap(self) -> int:
        """Caseload cap."""
        return int(self.model.specialists.cap[self.index])

    @property
    def skill(self) -> float:
        """Relationship-building and selling skill (mean 1)."""
        return float(self.model.specialists.skill[self.index])

    @property
    def ties(self) -> int:
        """Number of employers that know this specialist."""
        return int((self.model.specialists.tie_employer[self.index] != NO_ONE).sum())

    @property
    def placements(self) -> int:
        """Hires of this specialist's participants so far."""
        return int(self.model.specialists.placements[self.index])


class Employer(_View):
    """A local employer: a view onto ``model.employers[index]``."""

    @property
    def sector(self) -> str:
        """Sector name."""
        return self.model.scenario.labour_market.sectors[
            self.model.employers.sector[self.index]
        ].name

    @property
    def open_to_refugees(self) -> bool:
        """Whether the employer considers refugee applicants it does not know."""
        return bool(self.model.employers.open_to_refugees[self.index])

    @property
    def weekly_wage(self) -> float:
        """Wage cost of a full-time job, NOK/week."""
        return float(self.model.employers.wage[self.index])
