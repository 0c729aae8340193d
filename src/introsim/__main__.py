"""``python -m introsim``: the command line."""

from introsim.cli import app

app()
