"""``python -m cpts_geo``: the command line."""

from .cli import main

main(prog_name="cpts-geo")
