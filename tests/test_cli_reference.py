"""docs/cli.md is generated from ``--help`` and must not drift from the code.

Regenerate it with ``CPTS_GEO_REGEN_DOCS=1 pytest tests/test_cli_reference.py``.
"""

from __future__ import annotations

import os
from pathlib import Path

from click.testing import CliRunner

from cpts_geo.cli import main

DOC = Path(__file__).parents[1] / "docs" / "cli.md"
COMMANDS = ("atlas", "coverage", "check", "propose", "diff", "evolution", "fetch")


def render() -> str:
    runner = CliRunner()
    parts = ["# Command-line reference", "",
             "Generated from `cpts-geo --help`; `tests/test_cli_reference.py` checks it.", ""]
    for args in ([], *([c] for c in COMMANDS)):
        res = runner.invoke(main, [*args, "--help"], prog_name="cpts-geo",
                            terminal_width=100)
        assert res.exit_code == 0, res.output
        title = "cpts-geo " + " ".join(args) if args else "cpts-geo"
        parts += [f"## `{title.strip()}`", "", "```", res.output.rstrip(), "```", ""]
    return "\n".join(parts)


def test_cli_reference_is_up_to_date():
    text = render()
    if os.environ.get("CPTS_GEO_REGEN_DOCS"):
        DOC.write_text(text, encoding="utf-8")
    assert DOC.read_text(encoding="utf-8") == text, (
        "docs/cli.md is out of date: run CPTS_GEO_REGEN_DOCS=1 pytest tests/test_cli_reference.py")


def test_every_command_takes_data_and_documents_its_options():
    text = render()
    for cmd in COMMANDS:
        section = text.split(f"## `cpts-geo {cmd}`")[1].split("## `")[0]
        assert "--data" in section
    assert "exit code" in text.lower()
