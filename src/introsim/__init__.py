"""introsim: an agent-based simulation of Norway's introduction programme for refugees."""

from importlib import metadata

try:
    __version__ = metadata.version("introsim")
except metadata.PackageNotFoundError:  # running from a source tree without installing
    __version__ = "0+unknown"

__all__ = ["__version__"]
