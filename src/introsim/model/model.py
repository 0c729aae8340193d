"""The model: one municipality's introduction programme as a Mesa ``Model``.

``IntroModel.step()`` is one week, in the fixed order of DESIGN.md section 5;
each line calls one kernel on the struct-of-arrays state.
"""

from __future__ import annotations

import mesa
import numpy as np

from introsim.model import kernels as k
from introsim.model.agents import Employer, Refugee, Specialist
from introsim.model.policies import eligibility_code, method_tables, step_down_week
from introsim.model.population import draw_cohort, draw_employers, method_ranges, staff
from introsim.model.state import NO_ONE, SLOTS_PER_EMPLOYER, WEEKS_PER_YEAR, Status
from introsim.params.schema import Scenario

# Weekly series: status counts, then these event counts.
EVENTS: tuple[str, ...] = (
    "hires",
    "separations",
    "subsidy_releases",
    "programme_exits",
    "vacancies_opened",
    "outside_fills",
    "employer_contacts",
)
EVENT_COLUMN: dict[str, int] = {name: len(Status) + j for j, name in enumerate(EVENTS)}
VACANCY_REQUIREMENT_SD = 0.6  # spread of one opening's language requirement around its sector's
VACANCY_BAR_SD = 0.1  # spread of the outside-competition bar between openings


def seed_sequence(seed: int | np.random.SeedSequence) -> np.random.SeedSequence:
    """Return the ``SeedSequence`` of a run from an integer seed or an existing sequence."""
    return seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)


def child_seeds(ss: np.random.SeedSequence, n: int) -> list[np.random.SeedSequence]:
    """The first ``n`` children of ``ss``, derived without changing ``ss``.

    ``SeedSequence.spawn`` counts the children it has handed out, so passing one
    sequence to two models would give them different streams; deriving children
    from the spawn key keeps a replicate's draws identical in every scenario.
    """
    return [
        np.random.SeedSequence(ss.entropy, spawn_key=(*ss.spawn_key, i), pool_size=ss.pool_size)
        for i in range(n)
    ]


class IntroModel(mesa.Model):
    """One municipality's introduction programme, one week per step.

    Args:
        scenario: A validated scenario.
        seed: Integer seed or ``numpy.random.SeedSequence`` for this run.
        agents: Create the Mesa agent views (``Refugee``, ``Specialist``,
            ``Employer``). Off for headless runs, where nothing reads them.

    Attributes:
        refugees, specialists, employers, vacancies: The struct-of-arrays state.
        week: Weeks simulated so far.
        weekly: (weeks, statuses + events) counts, filled as the run goes.
    """

    def __init__(
        self, scenario: Scenario, seed: int | np.random.SeedSequence, *, agents: bool = True
    ) -> None:
        ss = seed_sequence(seed)
        model_ss, cohort_ss, take_up_ss, staff_ss, employer_ss = child_seeds(ss, 5)
        super().__init__(rng=np.random.Generator(np.random.PCG64(model_ss)))
        self.scenario = scenario
        # 63 bits keep the key a signed int64 for the kernels.
        self.key = int(ss.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))
        gen = lambda s: np.random.Generator(np.random.PCG64(s))  # noqa: E731

        self.refugees = draw_cohort(scenario, gen(cohort_ss), gen(take_up_ss))
        self.specialists = staff(scenario, self.refugees, gen(staff_ss))
        self.employers, self.vacancies = draw_employers(scenario, gen(employer_ss))
        self.n_employers = len(self.employers)  # len() of a population costs µs: once, not weekly
        self.tables = method_tables(scenario)
        self.spec_lo, self.spec_hi = method_ranges(self.specialists)
        self._pointer = np.zeros(len(self.spec_lo), dtype=np.int64)
        self._next_serial = 0
        self._derive_scalars()

        self.week = 0
        self.weeks = scenario.scenario.weeks
        self.weekly = np.zeros((self.weeks, len(Status) + len(EVENTS)), dtype=np.int64)

        self.specialist_agents: list[Specialist] = []
        if agents:
            self.refugee_agents = [Refugee(self, i) for i in range(len(self.refugees))]
            self.specialist_agents = [Specialist(self, i) for i in range(len(self.specialists))]
            self.employer_agents = [Employer(self, i) for i in range(len(self.employers))]

    def _derive_scalars(self) -> None:
        """Scenario values the weekly step needs, worked out once."""
        sc = self.scenario
        lm = sc.labour_market
        cost = sc.costs
        fu = sc.follow_up
        pressure = lm.unemployment_rate / lm.reference_unemployment_rate
        self.outside_fill = min(1.0, lm.outside_fill_rate * pressure)
        # Bar rises per percentage point of unemployment above reference.
        self.bar_mean = lm.outside_bar + lm.outside_bar_per_point * 100.0 * (
            lm.unemployment_rate - lm.reference_unemployment_rate
        )
        self.open_rate = lm.vacancy_rate / SLOTS_PER_EMPLOYER
        self.sector_requirement = np.array([s.language_requirement for s in lm.sectors])
        self.n_sectors = len(lm.sectors)
        self.participant_hours = (1.0 - self.tables.employer_time_share) * fu.hours_per_week
        self.subsidy_code = eligibility_code(sc)
        self.subsidy_step_down = step_down_week(sc)
        self.education_gain = np.array(sc.programme.education_gain)
        self.specialist_week_cost = cost.specialist_nok_per_year / WEEKS_PER_YEAR
        self.benefit_week = cost.benefit_g_per_year * cost.g_nok / WEEKS_PER_YEAR

    # ------------------------------------------------------------------ the week
    def step(self) -> None:
        """Simulate one week in the order of DESIGN.md section 5."""
        if self.week >= self.weeks:
            self.running = False
            return
        row = self.weekly[self.week]
        ev = EVENT_COLUMN
        self._intake()  # 1 (those left waiting show in the status counts)
        self._programme()  # 2
        row[ev["employer_contacts"]] = self._specialist_work()  # 3
        row[ev["vacancies_opened"]], row[ev["outside_fills"]] = self._vacancies()  # 4
        row[ev["hires"]] = self._matching()  # 5
        row[ev["separations"]], row[ev["subsidy_releases"]] = self._jobs()  # 6
        row[ev["programme_exits"]] = self._exits()  # 7
        self._accounting(row)  # 8
        self.week += 1
        if self.week >= self.weeks:
            self.running = False

    def run(self) -> IntroModel:
        """Simulate every remaining week of the horizon and return the model."""
        while self.week < self.weeks:
            self.step()
        return self

    def _intake(self) -> int:
        r, s = self.refugees, self.specialists
        return k.assign_waiting(
            self.week,
            r.arrival_week,
            r.status,
            r.phase,
            r.method,
            r.specialist,
            r.programme_start,
            self.spec_lo,
            self.spec_hi,
            s.cap,
            s.caseload,
            self._pointer,
        )

    def _programme(self) -> None:
        r, t, p = self.refugees, self.tables, self.scenario.programme
        k.programme_week(
            self.week,
            r.status,
            r.phase,
            r.method,
            r.programme_start,
            r.language,
            r.education,
            r.age,
            r.specialist,
            r.follow_along_left,
            r.job_start,
            t.schedule_phase,
            t.schedule_end,
            t.training_hours,
            t.language_support_hours,
            t.employer_step_weeks,
            p.in_work_hours,
            p.after_exit_hours,
            p.language_gain_per_hour,
            self.education_gain,
            p.age_gain_per_year,
        )

    def _specialist_work(self) -> int:
        s, m, fu = self.specialists, self.scenario.mechanisms, self.scenario.follow_up
        return k.specialist_week(
            self.week,
            self.key,
            s.method,
            s.skill,
            s.caseload,
            s.tie_employer,
            s.tie_strength,
            s.contacts,
            self.n_employers,
            self.tables.employer_time_share,
            fu.hours_per_week,
            fu.hours_per_employer_contact,
            m.tie_growth,
            m.tie_decay,
            m.new_contact_share,
        )

    def _vacancies(self) -> tuple[int, int]:
        v, lm = self.vacancies, self.scenario.labour_market
        self._next_serial, opened, outside = k.vacancy_week(
            self.week,
            self.key,
            v.is_open,
            v.serial,
            v.weeks_left,
            v.requirement,
            v.bar,
            v.hidden,
            v.filled,
            self.employers.sector,
            self.sector_requirement,
            self._next_serial,
            self.open_rate,
            lm.vacancy_weeks,
            lm.hidden_share,
            self.outside_fill,
            self.bar_mean,
            VACANCY_REQUIREMENT_SD,
            VACANCY_BAR_SD,
        )
        return opened, outside

    def _matching(self) -> int:
        r, s, e, v, t = self.refugees, self.specialists, self.employers, self.vacancies, self.tables
        m, ws, lm = (
            self.scenario.mechanisms,
            self.scenario.wage_subsidy,
            self.scenario.labour_market,
        )
        return k.match_week(
            self.week,
            self.key,
            r.status,
            r.phase,
            r.method,
            r.specialist,
            r.language,
            r.productivity,
            r.mental_health,
            r.care,
            r.preferred_sector,
            r.follow_along_left,
            r.job_vacancy,
            r.job_employer,
            r.job_start,
            r.job_requirement,
            r.job_wage,
            r.job_fit,
            r.subsidy_weeks,
            r.first_job_week,
            r.first_job_active,
            r.exit_week,
            r.exit_status,
            s.skill,
            s.caseload,
            s.tie_employer,
            s.tie_strength,
            s.placements,
            e.sector,
            e.wage,
            e.open_to_refugees,
            e.requires_follow_up,
            e.requires_subsidy,
            v.is_open,
            v.serial,
            v.requirement,
            v.bar,
            v.hidden,
            v.filled,
            self.n_sectors,
            t.search_intensity,
            t.practice_intensity,
            t.endorsement,
            t.preference_weight,
            t.follow_along_weeks,
            self.participant_hours,
            self.scenario.programme.unemployed_search_intensity,
            m.health_search,
            m.care_search,
            m.specialist_support,
            m.support_saturation_hours,
            m.language_slope,
            m.score_noise,
            m.unmet_requirement_penalty,
            lm.discrimination_penalty,
            m.practice_trust,
            self.subsidy_code,
            ws.rate,
            ws.weeks,
            ws.low_language_below,
            ws.hiring_weight,
            m.tie_placement,
        )

    def _jobs(self) -> tuple[int, int]:
        r, s, m = self.refugees, self.specialists, self.scenario.mechanisms
        return k.jobs_week(
            self.week,
            self.key,
            r.status,
            r.phase,
            r.specialist,
            s.caseload,
            r.follow_along_left,
            r.language,
            r.productivity,
            r.mental_health,
            r.job_vacancy,
            r.job_start,
            r.job_requirement,
            r.job_fit,
            r.subsidy_weeks,
            r.first_job_active,
            m.language_slope,
            m.on_job_growth,
            m.keep_bar,
            m.score_noise,
            m.separation_hazard,
            m.separation_fit,
            m.separation_support,
            m.separation_health,
        )

    def _exits(self) -> int:
        r, s, p = self.refugees, self.specialists, self.scenario.programme
        return k.exit_week_kernel(
            self.week,
            self.key,
            r.status,
            r.phase,
            r.specialist,
            s.caseload,
            r.follow_along_left,
            r.programme_start,
            r.exit_week,
            r.exit_status,
            r.age,
            r.arrival_week,
            r.education,
            r.language,
            r.mental_health,
            r.care,
            p.max_weeks,
            p.education_hazard,
            p.education_entry_base,
            p.education_entry_young,
            p.education_entry_per_level,
            p.education_entry_per_language,
            p.inactive_share,
            p.reactivation_rate,
        )

    def _accounting(self, row: np.ndarray) -> None:
        r, s, ws, c = (
            self.refugees,
            self.specialists,
            self.scenario.wage_subsidy,
            self.scenario.costs,
        )
        k.account_week(
            self.week,
            r.status,
            r.arrival_week,
            r.age,
            r.specialist,
            s.cap,
            r.job_start,
            r.job_wage,
            r.exit_week,
            r.status_12m,
            r.status_24m,
            r.status_60m,
            r.status_after_exit_12m,
            r.weeks_employed_24m,
            r.first_job_active,
            r.first_job_weeks,
            r.cost_specialist,
            r.cost_subsidy,
            r.cost_benefit,
            row[: len(Status)],
            self.specialist_week_cost,
            self.benefit_week,
            c.benefit_under_25_share,
            ws.rate,
            self.subsidy_step_down,
            ws.rate_after_step_down,
        )

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
        if len(r) != n:
            problems.append(f"{len(r)} participants, expected {n}")
        if r.status.min() < 0 or r.status.max() >= len(Status):
            problems.append("a status outside the known codes")
        employed = (r.status == Status.EMPLOYED) | (r.status == Status.SUBSIDISED)
        jobs = r.job_vacancy[employed]
        if (jobs < 0).any():
            problems.append("an employed participant without a job")
        if np.unique(jobs).size != jobs.size:
            problems.append("two participants hold the same vacancy opening")
        if (r.job_vacancy[~employed] >= 0).any():
            problems.append("a participant not in work still holds a job")
        if (s.caseload > s.cap).any():
            problems.append("a specialist above the caseload cap")
        assigned = np.bincount(r.specialist[r.specialist != NO_ONE], minlength=len(s))
        if not np.array_equal(assigned, s.caseload):
            problems.append("caseload counts differ from participants assigned")
        open_filled = (self.vacancies.is_open == 1) & (self.vacancies.filled == 1)
        if open_filled.any():
            problems.append("a filled vacancy is still open")
        if self.week > 0 and self.weekly[self.week - 1, : len(Status)].sum() != n:
            problems.append("weekly status counts do not add up to the cohort")
        if problems:
            raise RuntimeError("; ".join(problems))
