"""Where the introsim repository is, for notebooks and scripts that read its scenario files."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["repository"]


def _is_repository(folder: Path) -> bool:
    return (folder / "scenarios").is_dir() and (folder / "pyproject.toml").is_file()


def _notebook_path() -> Path | None:
    """The running notebook's own file, where the front end says it."""
    # Jupyter's server names the notebook of each kernel in the kernel's environment;
    # VS Code puts it in the notebook's namespace.
    name = os.environ.get("JPY_SESSION_NAME")
    if name:
        return Path(name)
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    shell = get_ipython()
    found = shell.user_ns.get("__vsc_ipynb_file__") if shell is not None else None
    return Path(found) if found else None


def repository(start: str | os.PathLike[str] | None = None) -> Path:
    """The introsim repository (the folder with ``scenarios/`` and ``pyproject.toml``).

    Looked for above ``start``, then above the running notebook's own file, the
    working folder and the installed package (an editable install lives in the
    repository), so a notebook finds it wherever its kernel was started.

    Args:
        start: A path inside the repository, if known.

    Returns:
        The repository's folder, absolute.

    Raises:
        FileNotFoundError: None of those places is inside a repository.
    """
    places = [Path(start)] if start is not None else []
    notebook = _notebook_path()
    places += [notebook] if notebook is not None else []
    places += [Path.cwd(), Path(__file__)]
    for place in places:
        place = place.resolve()
        for folder in (place, *place.parents):
            if _is_repository(folder):
                return folder
    raise FileNotFoundError(
        "no introsim repository (a folder with scenarios/ and pyproject.toml) above "
        + ", ".join(str(p) for p in places)
        + "; pass its folder: repository('/path/to/introsim')"
    )
