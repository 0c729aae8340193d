"""The registry of study kinds, as data: which module defines each, and its command line.

Kept apart from :mod:`introsim.experiments.study` so the command line can build its
commands without importing the study driver (``introsim run`` starts without it).
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["COMMANDS", "KINDS", "CommandLine"]

KINDS: dict[str, str] = {
    "compare": "introsim.experiments.compare",
    "sweep": "introsim.experiments.sweep",
    "sensitivity": "introsim.experiments.sensitivity",
    "trial": "introsim.experiments.trial",
    "calibrate": "introsim.experiments.posterior_calibration",
    "municipalities": "introsim.experiments.panel",
}
"""Each kind of study and the module that defines (and registers) it."""


@dataclass(frozen=True)
class CommandLine:
    """How a study kind that reads one file appears on the command line.

    Attributes:
        argument: Help of its file argument.
        help: The command's help (its first line is the summary).
        options: Which of the optional shared options it takes: ``replications``,
            ``sets`` (``--set``), ``ensemble`` (``--ensemble``) and ``members``.
        option_help: The kind's own help of an option, where the shared words do not fit.
    """

    argument: str
    help: str
    options: tuple[str, ...] = ()
    option_help: dict[str, str] = field(default_factory=dict)


COMMANDS: dict[str, CommandLine] = {
    "sweep": CommandLine(
        "Experiment TOML file (see experiments/).",
        """Run an experiment's design points over common-random-number replicates.

        Results are stored as they finish; the same command after an interruption
        runs only what is missing. Writes runs.parquet/.csv, points.parquet/.csv,
        manifest.json and report.html.
        """,
        ("replications", "sets", "ensemble"),
    ),
    "sensitivity": CommandLine(
        "Study file with a morris, sobol or delta design.",
        """Global sensitivity analysis: Morris, Sobol or delta indices over replicated runs.

        Runs the study's SALib sample (each row over common-random-number
        replicates; stored as they finish, so the same command resumes), then
        computes the indices on replicate means, the noise share, the dummy's noise
        floor and a convergence check. A [reference] table makes it a study of the
        paired difference, treatment minus reference. Writes indices.parquet/.csv,
        runs.parquet/.csv, manifest.json and report.html.
        """,
        ("replications", "sets"),
    ),
    "trial": CommandLine(
        "Trial TOML file (see experiments/).",
        """Simulate a randomised trial many times at each sample size: power, bias, coverage.

        Every site is simulated under both arms with common random numbers, so each
        participant's true effect is known; simulated trials drawn from these sites
        are analysed by intention to treat, per protocol and IV (CACE). Site runs are
        stored as they finish; the same command after an interruption runs only what
        is missing. Writes trials.parquet, power.csv, manifest.json and report.html;
        with --ensemble also member_power.csv, each member's power curve.
        """,
        ("ensemble", "members"),
        {
            "ensemble": "Posterior ensemble (posterior.toml from `introsim calibrate`): the "
            "trial is also simulated under every member, and the n for 80 % power is given "
            "as a range across them.",
        },
    ),
    "calibrate": CommandLine(
        "Calibration TOML file (see calibration/default.toml).",
        """Find the posterior ensemble: every parameter set the targets do not rule out.

        History matching with Gaussian-process emulators over waves; every member is
        simulated and re-checked on fresh seeds, each target is predicted from the
        others, and known parameters are recovered from the model's own output. Runs
        are kept in --out as they finish; the same command after an interruption
        runs only what is missing. Writes posterior.toml (the ensemble that compare,
        sweep, trial and sensitivity read), members, targets, parameters and waves
        tables, manifest.json and report.html.
        """,
    ),
    "municipalities": CommandLine(
        "Panel TOML file (see municipalities/national_panel.toml).",
        """Run every municipality of a profile file under each policy: why they differ.

        A municipality's context (intake, local jobs, outside competition) comes
        from its profile; programme practice is a separate layer. Runs are stored
        as they finish; the same command after an interruption runs only what is
        missing. Writes municipalities.csv (shares with intervals, gains, costs),
        decomposition.csv (the spread between municipalities split into
        composition, labour market, practice and chance), runs.parquet,
        manifest.json and report.html (funnel plot, targets, ranked gains).
        """,
        ("replications", "ensemble"),
    ),
}
"""The study commands that read one file, generated by the command line from this table."""
