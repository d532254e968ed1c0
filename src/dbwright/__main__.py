"""`python -m dbwright` runs the CLI."""

from dbwright.cli import run

run()
