"""Serving the dashboard: where the presets are, what the page starts with, and the web server.

Everything the page needs is served from this machine: Solara's own assets
come from the ``solara-assets`` package and plotly.js from the ``plotly``
package, so a workshop runs without a network.

Answers are fast from the first page on: before the server answers, a warm
pool of worker processes is started (each has loaded the compiled kernels) and
the starting preset's runs are computed and kept, so a new browser session's
first result needs no simulation.

With a calibration's posterior ensemble (``--ensemble FILE``, or the shipped
``calibration/posterior.toml`` when it is there) every what-if is spread over
plausible parameter sets, and the page states what we do not know about the
mechanisms and how likely the municipal target is met across them.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import ipaddress
import os
import socket
import warnings
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from introsim.app.update import Updates
from introsim.app.whatif import RunCache
from introsim.experiments.executor import make_pool, stop_pool, usable_cores
from introsim.params.loader import load_scenario
from introsim.params.schema import Scenario

if TYPE_CHECKING:
    from introsim.params.ensemble_file import Ensemble

LOCAL_HOST = "127.0.0.1"
WILDCARDS = ("0.0.0.0", "::")
"""Hosts that mean every address of this machine."""
DEFAULT_PORT = 8765
DEFAULT_REPLICATIONS = 10
APP_MODULE = "introsim.app.app"
PRESET_FOLDER = Path("scenarios")
"""Where presets are looked for when the command names no scenario (relative to the cwd)."""
SHIPPED_POSTERIOR = Path("calibration") / "posterior.toml"
"""The calibration's posterior ensemble the dashboard runs over when the command names none
(relative to the cwd, as the presets are)."""

DEFAULT_JOBS = 2
"""Worker processes of a server's pool (fewer where fewer cores are usable)."""
PLOTLY_JS = "plotly.min.js"
ASSETS = Path(__file__).resolve().parent / "assets"
"""The page's own static files (``custom.js``)."""

# Solara looks these up when it is imported: no usage statistics sent anywhere, and no
# asset fetched from a CDN (a missing one fails on this machine instead).
SOLARA_ENVIRONMENT = {
    "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False",
    "SOLARA_ASSETS_CDN": f"http://{LOCAL_HOST}:9/",
    "SOLARA_APP": APP_MODULE,
    "SOLARA_CHECK_HOOKS": "off",
    # No "This website runs on Solara" badge over the charts, a loader without words in
    # one language only, and the page's own title from the start.
    "SOLARA_THEME_SHOW_BANNER": "False",
    "SOLARA_THEME_LOADER": "plain",
    "SOLARA_THEME_TITLE": "introsim",
}


def plotly_folder() -> Path:
    """The folder of the installed plotly package that holds ``plotly.min.js``."""
    return Path(str(importlib.resources.files("plotly") / "package_data"))


@cache
def plotly_url() -> str:
    """Where the page loads plotly.js from, with its content hash so browsers keep it."""
    digest = hashlib.md5((plotly_folder() / PLOTLY_JS).read_bytes()).hexdigest()
    return f"/static/assets/{PLOTLY_JS}?v={digest}"


@dataclass
class Runtime:
    """What every browser session of a server shares.

    Attributes:
        cache: Runs kept between updates.
        updates: Finished updates, by what they were computed for.
        pool: A warm pool of worker processes, or None to run in the server's threads.
    """

    cache: RunCache = field(default_factory=RunCache)
    updates: Updates = field(default_factory=Updates)
    pool: ProcessPoolExecutor | None = None


RUNTIME = Runtime()
"""The server's shared runs, updates and workers."""


@dataclass(frozen=True)
class DashboardConfig:
    """What ``introsim dashboard`` was started with.

    Attributes:
        presets: Preset name (file stem) mapped to its scenario file, in name order.
        start: The preset the page opens with.
        lang: Language the page opens in.
        replications: Replicates per scenario the page starts with.
        host: Address the server listens on.
        port: Port the server listens on.
        jobs: Worker processes for the runs (1: in the server's own threads).
        ensemble: The posterior ensemble the what-ifs run over, or None for the presets'
            own parameters.
    """

    presets: dict[str, Path]
    start: str
    lang: str
    replications: int
    host: str
    port: int
    jobs: int = DEFAULT_JOBS
    ensemble: Ensemble | None = None

    @property
    def address(self) -> str:
        """The address to open in a browser on this machine."""
        return url(LOCAL_HOST if self.host in WILDCARDS else self.host, self.port)

    @property
    def remote_addresses(self) -> list[str]:
        """Addresses other machines can open (none for a loopback host).

        A wildcard host gives one per network address of this machine.
        """
        if is_local(self.host):
            return []
        if self.host in WILDCARDS:
            return [url(a, self.port) for a in host_addresses(self.host)]
        return [self.address]

    @property
    def link_address(self) -> str:
        """The address a shared link starts with: one that others can open, if any."""
        return next(iter(self.remote_addresses), self.address)


_CONFIG: list[DashboardConfig] = []


def configure(config: DashboardConfig) -> None:
    """Set what the page starts with (before serving)."""
    _CONFIG[:] = [config]


def config() -> DashboardConfig:
    """What the page starts with: as configured, or the presets in ./scenarios."""
    if not _CONFIG:
        presets = find_presets(None)
        configure(
            DashboardConfig(
                presets=presets,
                start=next(iter(presets)),
                lang="en",
                replications=DEFAULT_REPLICATIONS,
                host=LOCAL_HOST,
                port=DEFAULT_PORT,
            )
        )
    return _CONFIG[0]


def find_presets(scenario: Path | None) -> dict[str, Path]:
    """Presets: the scenario files beside ``scenario`` (or in ./scenarios), and itself.

    Raises:
        FileNotFoundError: If there is no scenario file to start from.
    """
    folder = scenario.parent if scenario is not None else PRESET_FOLDER
    files = sorted(folder.glob("*.toml")) if folder.is_dir() else []
    if scenario is not None and scenario.resolve() not in {f.resolve() for f in files}:
        files.append(scenario)
    if not files:
        raise FileNotFoundError(f"{folder}: no scenario files (*.toml) to start from")
    return {f.stem: f for f in files}


@lru_cache(maxsize=64)
def load_preset(path: Path, mtime: float) -> Scenario:
    """A preset, loaded once per version of its file (``mtime`` keys the cache)."""
    return load_scenario(path)


def preset(path: Path) -> Scenario:
    """The preset at ``path``, reloaded when the file changes."""
    return load_preset(path, path.stat().st_mtime)


def is_local(host: str) -> bool:
    """Whether ``host`` is a loopback address (reachable from this machine only)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def url(host: str, port: int) -> str:
    """The http address of ``host`` and ``port`` (an IPv6 address in brackets)."""
    return f"http://[{host}]:{port}/" if ":" in host else f"http://{host}:{port}/"


def host_addresses(wildcard: str) -> list[str]:
    """This machine's network addresses that a server bound to ``wildcard`` answers on.

    Loopback and IPv6 link-local addresses (which need the interface named) are left out.
    ``::`` answers on IPv4 addresses too (Linux binds both by default).
    """
    import psutil

    families = {socket.AF_INET} | ({socket.AF_INET6} if ":" in wildcard else set())
    found = []
    for addrs in psutil.net_if_addrs().values():
        for a in addrs:
            if a.family not in families:
                continue
            ip = ipaddress.ip_address(a.address.split("%")[0])
            if not (ip.is_loopback or ip.is_link_local) and a.address not in found:
                found.append(a.address)
    return found


def port_free(host: str, port: int) -> bool:
    """Whether ``port`` on ``host`` can be listened on now."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def _warm_worker() -> int:
    """Load the compiled kernels in a worker (the pool's first task), and say which worker."""
    from introsim.experiments.executor import warm_up

    warm_up([Scenario()])
    return os.getpid()


def start_workers(jobs: int) -> ProcessPoolExecutor | None:
    """A pool of ``jobs`` warm workers (each has loaded the kernels), or None for one job."""
    jobs = max(1, min(jobs, usable_cores()))
    if jobs < 2:
        return None
    pool = make_pool(jobs, preload=["introsim.experiments.compare"])
    for future in [pool.submit(_warm_worker) for _ in range(jobs)]:
        future.result()
    return pool


def prepare(config: DashboardConfig) -> None:
    """Start the workers and compute the starting preset's what-if before serving.

    The preset's runs are then in the cache, and its unchanged what-if in the kept
    updates, for the language the page opens in: a new session's first result is
    ready at once.
    """
    from introsim.app.update import update

    RUNTIME.pool = start_workers(config.jobs)
    base = preset(config.presets[config.start])
    update(
        base,
        {},
        config.replications,
        config.lang,
        cache=RUNTIME.cache,
        executor=RUNTIME.pool,
        kept=RUNTIME.updates,
        ensemble=config.ensemble,
    )


def serve(config: DashboardConfig) -> None:
    """Prepare the runs, then run the web server until interrupted."""
    os.environ.update(SOLARA_ENVIRONMENT)
    # Served as /static/assets/...: our custom.js (Solara puts it in every page; it fetches
    # the widget libraries together) and plotly's plotly.min.js, which the charts ask for
    # once the result in words is shown. Solara splits this at commas.
    os.environ["SOLARA_ASSETS_EXTRA_LOCATIONS"] = f"{ASSETS},{plotly_folder()}"
    # Solara warns on every page that a cookie cannot be SameSite=None over plain http; it
    # then uses SameSite=Lax, which is right for a page that is not embedded elsewhere.
    warnings.filterwarnings("ignore", message="Cookies with samesite=none", category=UserWarning)
    configure(config)
    prepare(config)
    import uvicorn

    try:
        uvicorn.run(
            "solara.server.starlette:app",
            host=config.host,
            port=config.port,
            log_level="warning",
        )
    finally:
        if RUNTIME.pool is not None:
            stop_pool(RUNTIME.pool)


class LaunchError(ValueError):
    """The dashboard cannot be started as asked (one line for the user)."""


def find_ensemble(path: Path | None, use_shipped: bool = True) -> Path | None:
    """The ensemble file to run over: the one named, else the shipped posterior if present."""
    if path is not None:
        return path
    return SHIPPED_POSTERIOR if use_shipped and SHIPPED_POSTERIOR.is_file() else None


def load_dashboard_ensemble(
    path: Path | None, presets: dict[str, Path], warn: Callable[[str], None] = print
) -> Ensemble | None:
    """Read and check an ensemble for the dashboard: every member on every preset.

    A member may not set a lever's parameter (the lever would seem to move and the
    member would win), and an ensemble of one parameter set has no spread to show.

    Raises:
        LaunchError: One of those two.
        InputError: The file, or a member on a preset, is invalid (one line).
    """
    if path is None:
        return None
    from introsim.app.levers import LEVER_PATHS
    from introsim.experiments.engine import model_version
    from introsim.params.ensemble_file import load_ensemble, stale_posterior

    ensemble = load_ensemble(path)
    for name, file in presets.items():  # on the loaded presets: far faster than from files
        scenario = preset(file)
        for k in range(ensemble.size):
            ensemble.apply_member(scenario, k, where=f"on the starting point {name}")
    if ensemble.size < 2:
        raise LaunchError(
            f"--ensemble {path}: one parameter set; the dashboard needs a posterior ensemble "
            "of two members or more (posterior.toml from introsim calibrate)"
        )
    levers = sorted({p for m in ensemble.members for p in m} & set(LEVER_PATHS))
    if levers:
        raise LaunchError(
            f"--ensemble {path}: its members set {levers[0]}, which is a lever of the "
            "dashboard; leave it out of the ensemble"
        )
    stale = stale_posterior(ensemble, model_version())
    if stale:
        warn(stale)
    return ensemble


def launch(
    scenario: Path | None,
    *,
    port: int = DEFAULT_PORT,
    host: str = LOCAL_HOST,
    allow_remote: bool = False,
    lang: str = "en",
    replications: int = DEFAULT_REPLICATIONS,
    ensemble: Path | None = None,
    use_shipped: bool = True,
    say: Callable[[str], None] = print,
    warn: Callable[[str], None] = print,
) -> None:
    """Check what ``introsim dashboard`` was asked for, say where to open it, and serve.

    Args:
        scenario: The preset to open (None: the first in ./scenarios).
        port: Port to listen on.
        host: Address to listen on (another than this machine's own needs ``allow_remote``).
        allow_remote: Let other machines open the dashboard.
        lang: Language of the page.
        replications: Replicates per scenario.
        ensemble: A posterior ensemble file to run over (None: the shipped
            ``calibration/posterior.toml`` if there is one and ``use_shipped``).
        use_shipped: Whether to look for the shipped posterior when none is named.
        say: Prints a line for the user.
        warn: Prints a warning.

    Raises:
        LaunchError: A bad option, a port in use, a remote host not allowed.
        ScenarioError: A preset file is invalid.
    """
    from introsim.app.i18n import LANGUAGES

    if lang not in LANGUAGES:
        raise LaunchError(f"--lang: expected one of {', '.join(LANGUAGES)}, found {lang!r}")
    from introsim.app.levers import REPLICATIONS, LeverError, read

    try:  # the same limits as the page's control and a link
        read(REPLICATIONS, replications)
    except LeverError as e:
        raise LaunchError(f"--replications: {e.problems[0].message}") from None
    if not 0 < port < 65536:
        raise LaunchError(f"--port: expected 1 to 65535, found {port}")
    if scenario is not None:
        load_scenario(scenario)
    try:
        presets = find_presets(scenario)
    except FileNotFoundError as e:
        raise LaunchError(f"{e}; name a scenario file") from None
    for path in presets.values():
        load_scenario(path)
    if ensemble is not None and not use_shipped:
        raise LaunchError("--ensemble and --no-ensemble: choose one")
    members = load_dashboard_ensemble(find_ensemble(ensemble, use_shipped), presets, warn)
    if not port_free(host, port):
        raise LaunchError(
            f"--port: {host}:{port} is in use or cannot be listened on; choose another --port"
        )
    if not is_local(host):
        if not allow_remote:
            raise LaunchError(
                f"--host {host}: other machines could open the dashboard; add --allow-remote "
                "if that is what you want (the default, 127.0.0.1, is this machine only)"
            )
        warn(
            f"listening on {host}: other machines on the network can open the "
            "dashboard (you asked for this with --allow-remote)"
        )
    config = DashboardConfig(
        presets=presets,
        start=scenario.stem if scenario is not None else next(iter(presets)),
        lang=lang,
        replications=replications,
        host=host,
        port=port,
        ensemble=members,
    )
    if host in WILDCARDS:
        # The server answers on every address of this machine: say so, and which ones.
        say(
            f"introsim dashboard: listening on {host} port {port} (every address of this "
            f"machine); here open {config.address} (Ctrl-C to stop)"
        )
        others = config.remote_addresses
        say(
            "from other machines open "
            + (" or ".join(others) if others else f"this machine's address, port {port}")
            + f" (or its name, {socket.gethostname()}, where the network knows it)"
        )
    else:
        say(f"introsim dashboard: open {config.address} (Ctrl-C to stop)")
    if members is not None:
        say(f"over the {members.size} parameter sets of {members.path}")
    serve(config)
