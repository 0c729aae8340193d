"""The weekly matching step written the way a new Mesa user would, to measure introsim against.

One Python object per participant, specialist, employer and vacancy; a Python
``step`` method per agent, run through ``AgentSet.shuffle_do``; Python's
``random`` from ``model.random``. The decision rules are those of
``introsim.model.kernels.match_week`` (step 5 of the week, matching):

- searchers (job-search phase, work practice at reduced intensity, unemployed)
  send a number of applications set by method, health, care and specialist support;
- each goes through the specialist's employer ties (chosen in proportion to tie
  strength, reaching unadvertised openings too) or to an advertised vacancy,
  leaning to the preferred sector;
- the employer skips unknown applicants if closed to refugees or discriminating,
  and values the rest: productivity × language fit, + endorsement × trust
  (× specialist skill), + subsidy, − unmet conditions, + a Gumbel term; the vacancy
  chooses its best applicant or the outside candidates (the bar plus their own
  Gumbel term, drawn when the first applicant arrives): a conditional logit;
- one offer per vacancy; each participant accepts the best offer (preferred
  sector first, then score); a hire closes the vacancy and changes the specialist
  (placement, tie); the job starts at once or ``job_start_lag_weeks`` later (until
  then the participant stops applying); starting changes the participant (part-time
  alongside the programme or leaving it; follow-along or release);
- in the ``transition_weeks`` after leaving the programme, NAV follows an
  unemployed person without a specialist more closely (``transition_hours``) and
  offers its subsidy to a larger share (``transition_subsidy_share``).

The inputs come from a real ``IntroModel`` run: :func:`capture_match_inputs`
records the arguments ``match_week`` gets in a chosen week, and both
implementations start from copies of them. Draws differ (``random`` here,
counter-based hashes in the kernel), so the two agree in distribution, not
draw for draw. This module lives in ``benchmarks/`` only, never in ``src/``.
"""

from __future__ import annotations

import copy
import inspect
import math
import re
from dataclasses import dataclass
from typing import Any

import mesa
import numpy as np

from introsim.model import kernels
from introsim.model.model import IntroModel
from introsim.model.state import NO_ONE, SLOTS_PER_EMPLOYER, Phase, Status
from introsim.params.schema import ELIGIBILITY, Scenario

# What match_week reads, as flat names: each maps to (group, field) of the kernel's
# named groups. If the matching code starts reading another field, its rules
# changed: update this module before trusting a comparison.
GROUPS: tuple[str, ...] = ("refugees", "specialists", "employers", "vacancies", "tables", "params")
_SAME = {
    "refugees": (
        "status",
        "phase",
        "method",
        "specialist",
        "language",
        "productivity",
        "mental_health",
        "care",
        "preferred_sector",
        "follow_along_left",
        "job_vacancy",
        "job_employer",
        "job_start",
        "job_requirement",
        "job_wage",
        "job_fit",
        "subsidy_weeks",
        "first_job_week",
        "first_job_active",
        "exit_week",
        "exit_status",
        "in_programme",
        "job_subsidy_rate",
        "job_subsidy_after",
        "job_step_down",
        "pending_start",
    ),
    "specialists": ("skill", "caseload", "tie_employer", "tie_strength", "placements"),
    "employers": ("open_to_refugees", "requires_follow_up", "requires_subsidy"),
    "vacancies": ("is_open", "serial", "requirement", "bar", "hidden", "filled"),
    "tables": (
        "search_intensity",
        "practice_intensity",
        "endorsement",
        "preference_weight",
        "follow_along_weeks",
        "participant_hours",
        "job_carving",
    ),
    "params": (
        "key",
        "n_sectors",
        "n_employers",
        "nav_follow_up_hours",
        "nav_subsidy_rate",
        "nav_subsidy_share",
        "nav_subsidy_weeks",
        "network_applications",
        "network_trust",
        "part_time_share",
        "subsidy_rate_after",
        "subsidy_step_down_week",
        "health_search",
        "care_search",
        "specialist_support",
        "support_saturation_hours",
        "language_slope",
        "score_noise",
        "productivity_weight",
        "tie_route_saturation",
        "preferred_offer_value",
        "practice_trust",
        "subsidy_code",
        "subsidy_rate",
        "low_language_below",
        "hiring_weight",
        "tie_placement",
        "job_start_lag_weeks",
        "transition_hours",
        "transition_subsidy_share",
        "transition_weeks",
    ),
}
FIELD_OF: dict[str, tuple[str, str]] = {
    **{name: (group, name) for group, names in _SAME.items() for name in names},
    "employer_sector": ("employers", "sector"),
    # A specialist's method is that of the participants it follows (this module uses theirs).
    "spec_method": ("specialists", "method"),
    "employer_wage": ("employers", "wage"),
    "unemployed_intensity": ("params", "unemployed_search_intensity"),
    "unmet_penalty": ("params", "unmet_requirement_penalty"),
    "discrimination": ("params", "discrimination_penalty"),
    "subsidy_max_weeks": ("params", "subsidy_weeks"),
}
IMPLEMENTED_ARGS: tuple[str, ...] = ("week", *FIELD_OF)
# The functions match_week runs, whose reads of the groups this module implements.
MATCH_PHASES: tuple[str, ...] = (
    "match_week",
    "tie_routes",
    "advertised_by_sector",
    "applications",
    "accepted_offers",
    "hire",
    "start_job",
    "subsidy_offer",
)

WORK = (int(Status.EMPLOYED), int(Status.SUBSIDISED))

# Scenario the benchmark snapshots: a mix of standard and IPS follow-up, arrivals
# spread over 40 weeks, a wage subsidy for low-language participants, so a week
# has participants in work practice, in job search and unemployed, with ties
# and subsidies in play.
BENCH_OVERRIDES: dict[str, Any] = {
    "follow_up.method": "ips",
    "follow_up.take_up": 0.6,
    "cohort.intake_weeks": 40,
    "wage_subsidy.rate": 0.5,
    "wage_subsidy.eligibility": "low_language",
}
BENCH_WEEK = 52


def kernel_reads() -> set[tuple[str, str]]:
    """(group, field) pairs the matching functions read, from their source."""
    pattern = re.compile(r"\b(" + "|".join(GROUPS) + r")\.(\w+)")
    reads: set[tuple[str, str]] = set()
    for name in MATCH_PHASES:
        source = inspect.getsource(getattr(kernels, name).py_func)
        reads |= set(pattern.findall(source))
    return reads


def check_signature() -> None:
    """Raise ``RuntimeError`` if ``match_week`` reads other inputs than those implemented here."""
    params = tuple(inspect.signature(kernels.match_week.py_func).parameters)
    if params != ("week", *GROUPS, "work"):
        raise RuntimeError(f"kernels.match_week's arguments changed: {params}")
    reads, implemented = kernel_reads(), set(FIELD_OF.values())
    if reads != implemented:
        raise RuntimeError(
            "kernels.match_week's inputs changed "
            f"(new: {sorted(reads - implemented) or '-'}, "
            f"no longer read: {sorted(implemented - reads) or '-'}); "
            "update benchmarks/mesa_baseline.py to the new matching rules"
        )


# --------------------------------------------------------------------------- inputs
@dataclass(frozen=True)
class MatchInputs:
    """The arguments ``match_week`` received in one week of a real run, by name."""

    args: dict[str, Any]

    @property
    def n_participants(self) -> int:
        """Number of participants."""
        return int(self.args["status"].shape[0])

    def copied(self, key: int | None = None) -> dict[str, Any]:
        """Fresh copies of every array (the kernel changes them in place), optionally a new key."""
        out = {k: v.copy() if isinstance(v, np.ndarray) else v for k, v in self.args.items()}
        out["_groups"] = copy.deepcopy(self.args["_groups"])
        out["_work"] = copy.deepcopy(self.args["_work"])
        if key is not None:
            out["key"] = key
        return out

    def searchers(self) -> int:
        """Participants who search this week (job search, work practice or unemployed)."""
        st, ph = self.args["status"], self.args["phase"]
        prog = st == Status.PROGRAMME
        return int(
            np.count_nonzero(
                (prog & ((ph == Phase.JOB_SEARCH) | (ph == Phase.PRACTICE)))
                | (st == Status.UNEMPLOYED)
            )
        )

    def open_vacancies(self) -> int:
        """Vacancies open this week."""
        return int(np.count_nonzero(self.args["is_open"]))

    def ties(self) -> int:
        """Specialist-employer ties held."""
        return int(np.count_nonzero(self.args["tie_employer"] != NO_ONE))


def bench_scenario(size: int) -> Scenario:
    """The scenario the side-by-side comparison snapshots, at ``size`` participants."""
    return Scenario().with_overrides({**BENCH_OVERRIDES, "cohort.size": size})


def capture_match_inputs(scenario: Scenario, seed: int = 1, week: int = BENCH_WEEK) -> MatchInputs:
    """Run an ``IntroModel`` up to ``week`` and record what ``match_week`` gets that week.

    The model runs its normal weekly order; in week ``week`` the arguments of
    ``kernels.match_week`` are copied before the call.

    Args:
        scenario: Scenario to run.
        seed: The run's seed.
        week: Week whose matching inputs are recorded.

    Returns:
        The inputs, by parameter name.
    """
    check_signature()
    real = kernels.match_week
    captured: dict[str, Any] = {}

    def recording(*args: Any) -> Any:
        if args[0] == week:
            groups = dict(zip(GROUPS, args[1:-1], strict=True))
            captured["week"] = args[0]
            for name, (group, field) in FIELD_OF.items():
                value = getattr(groups[group], field)
                captured[name] = value.copy() if isinstance(value, np.ndarray) else value
            captured["_groups"] = copy.deepcopy(groups)
            captured["_work"] = copy.deepcopy(args[-1])  # working arrays, nothing carried over
        return real(*args)

    model = IntroModel(scenario, seed, agents=False)
    kernels.match_week = recording
    step = kernels.run_week
    kernels.run_week = step.py_func  # the week in Python looks match_week up in the module
    try:
        while model.week <= week and model.week < model.weeks:
            model.step()
    finally:
        kernels.match_week = real
        kernels.run_week = step
    if not captured:
        raise ValueError(f"week {week} is beyond the scenario's {model.weeks} weeks")
    return MatchInputs(captured)


# --------------------------------------------------------------------------- kernel side
def kernel_args(inputs: dict[str, Any]) -> tuple[Any, ...]:
    """The inputs as the positional tuple ``match_week`` takes: the week, groups, workspace."""
    changed: dict[str, dict[str, Any]] = {g: {} for g in GROUPS}
    for name, (group, field) in FIELD_OF.items():
        changed[group][field] = inputs[name]
    groups = inputs["_groups"]
    return (
        inputs["week"],
        *(groups[g]._replace(**changed[g]) for g in GROUPS),
        inputs["_work"],
    )


def hire_counts(before: dict[str, Any], after: dict[str, Any]) -> tuple[int, int]:
    """(hires, hires in the participant's preferred sector) between two states.

    A hire is a job started, or accepted to start later (``pending_start``).
    """
    was = np.isin(before["status"], WORK)
    now = np.isin(after["status"], WORK)
    pending = (after["pending_start"] >= 0) & (before["pending_start"] < 0)
    hired = (now & ~was) | pending
    return int(hired.sum()), int(after["job_fit"][hired].sum())


def run_kernel(inputs: MatchInputs, key: int | None = None) -> tuple[int, int]:
    """Run ``match_week`` on copies of the inputs; return (hires, preferred-sector hires)."""
    args = inputs.copied(key)
    hires = kernels.match_week(*kernel_args(args))
    counted, preferred = hire_counts(inputs.args, args)
    if counted != hires:
        raise RuntimeError(f"kernel reported {hires} hires, state shows {counted}")
    return hires, preferred


def replicate_key(inputs: MatchInputs, r: int) -> int:
    """A different 63-bit run key for replicate ``r`` (independent kernel draws)."""
    return (int(inputs.args["key"]) + 0x9E3779B97F4A7C15 * (r + 1)) % (1 << 63)


# --------------------------------------------------------------------------- Mesa side
class Vacancy:
    """One opening at an employer."""

    def __init__(self, employer, slot, serial, requirement, bar, hidden, is_open):
        self.employer = employer
        self.slot = slot
        self.serial = serial
        self.requirement = requirement
        self.bar = bar
        self.hidden = hidden
        self.is_open = is_open
        self.filled = False
        self.best_score = -math.inf
        self.best_applicant = None


class Employer(mesa.Agent):
    """A local employer with its vacancies."""

    def __init__(
        self, model, index, sector, wage, open_to_refugees, needs_follow_up, needs_subsidy
    ):
        super().__init__(model)
        self.index = index
        self.sector = sector
        self.wage = wage
        self.open_to_refugees = open_to_refugees
        self.needs_follow_up = needs_follow_up
        self.needs_subsidy = needs_subsidy
        self.vacancies = []

    def first_open_vacancy(self):
        """The first open vacancy, or None."""
        for vacancy in self.vacancies:
            if vacancy.is_open:
                return vacancy
        return None

    def consider(self, applicant, vacancy, trust, subsidy_rate, endorsed=False):
        """Score an application; keep it if it beats the bar and the best so far."""
        m = self.model
        known = trust > 0.0
        if not known:
            if not self.open_to_refugees and subsidy_rate <= 0.0:
                return
            if self.random.random() < m.discrimination:
                return
        requirement = vacancy.requirement
        if endorsed and requirement > applicant.language:
            # The specialist carves the job to fit the applicant's language now.
            requirement -= min(requirement - applicant.language, m.job_carving[applicant.method])
        fit = 1.0 / (1.0 + math.exp(-m.language_slope * (applicant.language - requirement)))
        score = m.productivity_weight * applicant.productivity * fit
        if applicant.specialist is not None:
            score += m.endorsement[applicant.method] * trust * applicant.specialist.skill
        score += m.hiring_weight * subsidy_rate
        followed = subsidy_rate > 0.0 or (
            applicant.specialist is not None and m.follow_along_weeks[applicant.method] > 0
        )
        nav = applicant.status == m.UNEMPLOYED and applicant.specialist is None
        nav_cover = 1.0 - math.exp(-applicant.nav_hours() / m.support_saturation_hours)
        unmet_follow_up = (
            self.needs_follow_up
            and not (known or followed)
            and not (nav and nav_cover > 0.0 and self.random.random() < nav_cover)
        )
        unmet_subsidy = self.needs_subsidy and subsidy_rate <= 0.0 and not endorsed
        if unmet_follow_up or unmet_subsidy:
            score -= m.unmet_penalty
        score += m.score_noise * self.gumbel()
        if vacancy.best_score == -math.inf:  # the outside option enters the choice
            vacancy.best_score = vacancy.bar + m.score_noise * self.gumbel()
        if score > vacancy.best_score:
            vacancy.best_score = score
            vacancy.best_applicant = applicant

    def gumbel(self):
        """A standard Gumbel draw (the conditional logit's idiosyncratic term)."""
        return -math.log(-math.log(self.random.random() + 2.0**-54))  # u in (0, 1)

    def make_offers(self):
        """Each vacancy offers the job to its best applicant."""
        for vacancy in self.vacancies:
            applicant = vacancy.best_applicant
            if applicant is None:
                continue
            value = vacancy.best_score
            if self.sector == applicant.preferred_sector:
                value += self.model.preferred_offer_value
            applicant.offers.append((value, vacancy))


class Specialist(mesa.Agent):
    """A job specialist or programme advisor with employer ties (employer -> trust)."""

    def __init__(self, model, index, skill, caseload, placements, max_ties):
        super().__init__(model)
        self.index = index
        self.skill = skill
        self.caseload = caseload
        self.placements = placements
        self.max_ties = max_ties
        self.ties = {}
        self.reachable = []
        self.reach = 0.0

    def find_open_ties(self):
        """Open vacancies reachable through ties this week, with the tie's strength."""
        self.reachable = []
        self.reach = 0.0
        for employer, strength in self.ties.items():
            vacancy = employer.first_open_vacancy()
            if vacancy is not None:
                self.reachable.append((vacancy, strength))
                self.reach += strength

    def strengthen(self, employer, gain):
        """Strengthen the tie to an employer, replacing the weakest tie if all are taken."""
        if employer in self.ties:
            self.ties[employer] += gain * (1.0 - self.ties[employer])
            return
        if len(self.ties) >= self.max_ties:
            weakest = min(self.ties, key=self.ties.get)
            del self.ties[weakest]
        self.ties[employer] = gain


class Participant(mesa.Agent):
    """A participant of the introduction programme."""

    def __init__(self, model, index, **attributes):
        super().__init__(model)
        self.index = index
        for name, value in attributes.items():
            setattr(self, name, value)
        self.in_practice = False
        self.offers = []

    def in_transition(self):
        """Whether NAV's closer follow-up of the first weeks after the programme applies."""
        m = self.model
        return self.exit_week >= 0 and m.week - self.exit_week < m.transition_weeks

    def nav_hours(self):
        """NAV's hours a week for this person (more in the transition after the programme)."""
        m = self.model
        return m.transition_hours if self.in_transition() else m.nav_follow_up_hours

    def search_intensity(self):
        """Expected applications this week."""
        m = self.model
        intensity = 0.0
        self.in_practice = False
        if self.status == m.PROGRAMME:
            if self.phase == m.JOB_SEARCH:
                intensity = m.search_intensity[self.method]
            elif self.phase == m.PRACTICE:
                intensity = m.search_intensity[self.method] * m.practice_intensity[self.method]
                self.in_practice = True
        elif self.status == m.UNEMPLOYED:
            if self.specialist is not None:
                intensity = m.search_intensity[self.method]
            else:
                intensity = m.unemployed_intensity
        if intensity <= 0.0:
            return 0.0
        support = self.nav_hours()  # NAV follows those without a specialist
        if self.specialist is not None:
            support = m.participant_hours[self.method] / max(1, self.specialist.caseload)
        intensity *= (1.0 - m.health_search * self.mental_health) * (
            1.0 - m.care_search * self.care
        )
        self.time_value = 1.0 - math.exp(-support / m.support_saturation_hours)
        intensity *= 1.0 + m.specialist_support * self.time_value
        return intensity

    def subsidy_eligible(self):
        """Whether this participant brings the scenario's wage subsidy."""
        rule = self.model.subsidy_rule
        if rule == "all":
            return True
        if rule == "low_language":
            return self.language < self.model.low_language_below
        if rule == "reduced_capacity":
            return self.mental_health == 1
        return False

    def subsidy_offer(self):
        """(rate, weeks) of the subsidy brought: the scenario's, else NAV's if offered."""
        m = self.model
        if self.subsidy_eligible():
            return m.subsidy_rate, m.subsidy_max_weeks
        share = m.transition_subsidy_share if self.in_transition() else m.nav_subsidy_share
        if (
            self.status == m.UNEMPLOYED
            and self.specialist is None
            and m.nav_subsidy_rate > 0.0
            and self.nav_draw < share
        ):
            return m.nav_subsidy_rate, m.nav_subsidy_weeks
        return 0.0, 0

    def pick_vacancy(self):
        """Choose where to apply: through a specialist's tie, or an advertised vacancy."""
        m = self.model
        sp = self.specialist
        if (
            sp is not None
            and sp.reach > 0.0
            and self.random.random()
            < self.time_value * sp.reach / (sp.reach + m.tie_route_saturation)
        ):
            target = self.random.random() * sp.reach
            total = 0.0
            chosen = (None, 0.0, False)
            for vacancy, strength in sp.reachable:
                total += strength
                chosen = (vacancy, strength, True)
                if total > target:
                    break
            return chosen
        if m.advertised:
            in_sector = m.advertised_by_sector.get(self.preferred_sector)
            if in_sector and self.random.random() < m.preference_weight[self.method]:
                return self.random.choice(in_sector), 0.0, False
            return self.random.choice(m.advertised), 0.0, False
        return None, 0.0, False

    def search(self):
        """Send this week's applications."""
        self.offers = []
        if self.pending_start >= 0:
            return  # a job is accepted and starts soon
        intensity = self.search_intensity()
        if intensity <= 0.0:
            return
        m = self.model
        n_apps = int(intensity)
        if self.random.random() < intensity - n_apps:
            n_apps += 1
        n_net = 0
        if self.status == m.UNEMPLOYED and m.network_applications > 0.0:
            n_net = int(m.network_applications)
            if self.random.random() < m.network_applications - n_net:
                n_net += 1
        rate = self.subsidy_offer()[0]
        host = self.practice_host if self.in_practice else None
        host_vacancy = host.first_open_vacancy() if host is not None else None
        for a in range(n_apps + n_net):
            endorsed = False
            if a >= n_apps:  # through a network, to any employer with an opening
                employer = self.random.choice(m.employer_list)
                vacancy, trust = employer.first_open_vacancy(), m.network_trust
            elif a == 0 and host_vacancy is not None:
                vacancy, trust = host_vacancy, 0.0  # the work-practice host comes first
            else:
                vacancy, trust, endorsed = self.pick_vacancy()
            if vacancy is None:
                continue
            if vacancy.employer is host:
                trust = max(trust, m.practice_trust)
            vacancy.employer.consider(self, vacancy, trust, rate, endorsed)

    def accept_best_offer(self):
        """Take the best offer, if any."""
        if not self.offers:
            return
        _, vacancy = max(self.offers, key=lambda offer: offer[0])
        self.take_job(vacancy)

    def take_job(self, vacancy):
        """Accept the job: update the vacancy and the specialist; start now or later."""
        m = self.model
        employer = vacancy.employer
        weeks = self.subsidy_offer()[1]
        self.job_vacancy = vacancy.serial
        self.job_employer = employer
        self.job_requirement = vacancy.requirement
        self.job_wage = employer.wage
        self.job_fit = 1 if employer.sector == self.preferred_sector else 0
        self.subsidy_weeks = weeks
        vacancy.is_open = False
        vacancy.filled = True
        sp = self.specialist
        if sp is not None:
            sp.placements += 1
            sp.strengthen(employer, m.tie_placement)
        if m.job_start_lag_weeks > 0:
            self.pending_start = m.week + m.job_start_lag_weeks
        else:
            self.start_job()
        m.hires += 1
        m.preferred_hires += self.job_fit

    def start_job(self):
        """Start in the accepted job: part-time alongside the programme, or leaving it."""
        m = self.model
        from_programme = self.status == m.PROGRAMME
        part_time = from_programme and self.random.random() < m.part_time_share
        self.status = m.SUBSIDISED if self.subsidy_weeks > 0 else m.EMPLOYED
        self.job_start = m.week
        self.pending_start = -1
        if self.first_job_week < 0:
            self.first_job_week = m.week
            self.first_job_active = 1
        if part_time:
            self.in_programme = 1  # a part-time job alongside the programme
        elif from_programme:
            self.exit_week = m.week
            self.exit_status = self.status
        sp = self.specialist
        if sp is not None:
            weeks_along = m.follow_along_weeks[self.method]
            if weeks_along > 0:  # follow-along starts with every job
                self.follow_along_left = weeks_along
                self.phase = m.FOLLOW_ALONG
            elif not part_time:
                sp.caseload -= 1
                self.specialist = None
                self.follow_along_left = 0
                self.phase = m.NONE
        else:
            self.phase = m.NONE


_PARTICIPANT_FIELDS = (
    "status",
    "phase",
    "method",
    "language",
    "productivity",
    "mental_health",
    "care",
    "preferred_sector",
    "follow_along_left",
    "job_vacancy",
    "job_start",
    "job_requirement",
    "job_wage",
    "job_fit",
    "subsidy_weeks",
    "first_job_week",
    "first_job_active",
    "exit_week",
    "exit_status",
    "in_programme",
    "pending_start",
)
_SCALARS = (
    "week",
    "nav_follow_up_hours",
    "nav_subsidy_rate",
    "nav_subsidy_share",
    "nav_subsidy_weeks",
    "network_applications",
    "network_trust",
    "part_time_share",
    "unemployed_intensity",
    "health_search",
    "care_search",
    "specialist_support",
    "support_saturation_hours",
    "language_slope",
    "score_noise",
    "productivity_weight",
    "tie_route_saturation",
    "preferred_offer_value",
    "unmet_penalty",
    "discrimination",
    "practice_trust",
    "subsidy_rate",
    "subsidy_max_weeks",
    "low_language_below",
    "hiring_weight",
    "tie_placement",
    "job_start_lag_weeks",
    "transition_hours",
    "transition_subsidy_share",
    "transition_weeks",
)
_TABLES = (
    "search_intensity",
    "practice_intensity",
    "endorsement",
    "preference_weight",
    "follow_along_weeks",
    "participant_hours",
    "job_carving",
)


class MesaMatching(mesa.Model):
    """One week of matching with one Python object per agent.

    Args:
        inputs: ``match_week``'s arguments from :func:`capture_match_inputs` (not changed).
        seed: Seed of ``model.random``.
    """

    PROGRAMME = int(Status.PROGRAMME)
    UNEMPLOYED = int(Status.UNEMPLOYED)
    EMPLOYED = int(Status.EMPLOYED)
    SUBSIDISED = int(Status.SUBSIDISED)
    JOB_SEARCH = int(Phase.JOB_SEARCH)
    PRACTICE = int(Phase.PRACTICE)
    FOLLOW_ALONG = int(Phase.FOLLOW_ALONG)
    NONE = int(Phase.NONE)

    def __init__(self, inputs: MatchInputs, seed: int) -> None:
        super().__init__(seed=seed)
        a = inputs.args
        for name in _SCALARS:
            setattr(self, name, a[name].item() if hasattr(a[name], "item") else a[name])
        for name in _TABLES:
            setattr(self, name, a[name].tolist())
        self.subsidy_rule = ELIGIBILITY[int(a["subsidy_code"])]
        self.hires = 0
        self.preferred_hires = 0

        sectors = a["employer_sector"].tolist()
        wages = a["employer_wage"].tolist()
        open_ = a["open_to_refugees"].tolist()
        fu = a["requires_follow_up"].tolist()
        sub = a["requires_subsidy"].tolist()
        self.employer_list = [
            Employer(self, e, sectors[e], wages[e], bool(open_[e]), bool(fu[e]), bool(sub[e]))
            for e in range(len(sectors))
        ]
        is_open, serial = a["is_open"].tolist(), a["serial"].tolist()
        req, bar, hidden = a["requirement"].tolist(), a["bar"].tolist(), a["hidden"].tolist()
        for v in range(len(is_open)):
            employer = self.employer_list[v // SLOTS_PER_EMPLOYER]
            employer.vacancies.append(
                Vacancy(employer, v, serial[v], req[v], bar[v], bool(hidden[v]), bool(is_open[v]))
            )

        skill, caseload = a["skill"].tolist(), a["caseload"].tolist()
        placements = a["placements"].tolist()
        tie_employer, tie_strength = a["tie_employer"].tolist(), a["tie_strength"].tolist()
        max_ties = a["tie_employer"].shape[1]
        self.specialist_list = []
        for s in range(len(skill)):
            sp = Specialist(self, s, skill[s], caseload[s], placements[s], max_ties)
            for e, strength in zip(tie_employer[s], tie_strength[s], strict=True):
                if e != NO_ONE:
                    sp.ties[self.employer_list[e]] = strength
            self.specialist_list.append(sp)

        columns = {name: a[name].tolist() for name in _PARTICIPANT_FIELDS}
        spec = a["specialist"].tolist()
        for i in range(len(spec)):
            attrs = {name: columns[name][i] for name in _PARTICIPANT_FIELDS}
            attrs["specialist"] = self.specialist_list[spec[i]] if spec[i] != NO_ONE else None
            # Like the kernel's hash-drawn host: one employer, uniform, for the whole practice.
            attrs["practice_host"] = self.random.choice(self.employer_list)
            # Like the kernel's hash-drawn NAV offer: one draw fixed for the person.
            attrs["nav_draw"] = self.random.random()
            Participant(self, i, **attrs)

    def prepare_week(self):
        """What is open this week: advertised vacancies by sector, and each specialist's reach."""
        self.advertised = []
        self.advertised_by_sector = {}
        for employer in self.employer_list:
            for vacancy in employer.vacancies:
                vacancy.best_score = -math.inf
                vacancy.best_applicant = None
                if vacancy.is_open and not vacancy.hidden:
                    self.advertised.append(vacancy)
                    self.advertised_by_sector.setdefault(employer.sector, []).append(vacancy)
        self.agents_by_type[Specialist].do("find_open_ties")

    def step(self):
        """One week of matching; the number of hires is left in ``self.hires``."""
        self.hires = 0
        self.preferred_hires = 0
        self.prepare_week()
        participants = self.agents_by_type[Participant]
        participants.shuffle_do("search")
        self.agents_by_type[Employer].do("make_offers")
        participants.shuffle_do("accept_best_offer")


def run_mesa(inputs: MatchInputs, seed: int) -> tuple[int, int]:
    """Build the Mesa model from the inputs and run one step: (hires, preferred-sector hires)."""
    model = MesaMatching(inputs, seed)
    model.step()
    return model.hires, model.preferred_hires


# --------------------------------------------------------------------------- statistics
@dataclass(frozen=True)
class Agreement:
    """Two samples of a count compared: means, standard errors and a two-sample z-test."""

    mean_a: float
    mean_b: float
    se_a: float
    se_b: float
    z: float
    p: float

    @property
    def ci_a(self) -> tuple[float, float]:
        """95 % confidence interval of the first mean."""
        return self.mean_a - 1.96 * self.se_a, self.mean_a + 1.96 * self.se_a

    @property
    def ci_b(self) -> tuple[float, float]:
        """95 % confidence interval of the second mean."""
        return self.mean_b - 1.96 * self.se_b, self.mean_b + 1.96 * self.se_b


def two_sample_z(a: list[float] | np.ndarray, b: list[float] | np.ndarray) -> Agreement:
    """Two-sample z-test of equal means (unequal variances), two-sided p-value."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    se_a = float(a.std(ddof=1) / math.sqrt(a.size))
    se_b = float(b.std(ddof=1) / math.sqrt(b.size))
    se = math.hypot(se_a, se_b)
    diff = float(a.mean() - b.mean())
    if se == 0.0:
        z = 0.0 if diff == 0.0 else math.inf
    else:
        z = diff / se
    return Agreement(
        float(a.mean()), float(b.mean()), se_a, se_b, z, math.erfc(abs(z) / math.sqrt(2))
    )
