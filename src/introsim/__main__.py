"""``python -m introsim``: the command line."""

from introsim.cli import main

main()
