"""Every command's --help: clean (no flag shown as taking a value) and saying what it does."""

from __future__ import annotations

import pytest
import typer.main
from typer.testing import CliRunner

from bot.cli import cli


def all_commands(group, path=()):
    """Every command and group, as the words that name it, found from the app itself."""
    yield path, group
    for name, command in getattr(group, "commands", {}).items():
        yield from all_commands(command, (*path, name))


COMMANDS = list(all_commands(typer.main.get_command(cli)))


def test_every_command_is_found():
    names = {" ".join(path) for path, _ in COMMANDS}
    assert {"serve", "check", "backup", "import-mail", "customer erase", "outbox drop"} <= names


@pytest.mark.parametrize(
    "path,command", COMMANDS, ids=[" ".join(p) or "helpdesk" for p, _ in COMMANDS]
)
def test_help_is_clean_and_complete(path, command):
    result = CliRunner().invoke(
        cli, [*path, "--help"], prog_name="helpdesk", env={"COLUMNS": "200"}
    )
    assert result.exit_code == 0, result.output
    out = result.output
    assert f"Usage: helpdesk {' '.join(path)}".rstrip() in out
    assert "<bool>" not in out
    assert (command.help or "").strip(), f"{path} has no help text"
    for param in command.params:
        assert (param.help or "").strip(), f"{path}: {param.name} has no help text"
        if getattr(param, "is_flag", False):
            # The flag's row: its name, then its help, with no value placeholder between.
            row = next(line for line in out.splitlines() if f" {param.opts[0]} " in line)
            assert "<" not in row.split(param.help[:20])[0], row
    assert "--help" in out and "Show this message and exit." in out
    for name, sub in getattr(command, "commands", {}).items():
        assert name in out and (sub.help or "").strip()
