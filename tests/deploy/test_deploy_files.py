"""The Makefile, the systemd unit, the Dockerfile and the compose file install and start the
helpdesk only through scripts/install and scripts/start, the commands
tests/deploy/test_install_and_start.py runs; so none of them can drift into a way of its own."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
# Where deploy/helpdesk.service and the Dockerfile put the repository.
INSTALLED_AT = "/opt/helpdesk"


def dockerfile_instructions() -> list[tuple[str, str]]:
    text = (ROOT / "Dockerfile").read_text()
    joined = re.sub(r"\\\n", " ", text)  # continuation lines
    instructions = []
    for line in joined.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            keyword, _, argument = line.strip().partition(" ")
            instructions.append((keyword.upper(), argument.strip()))
    return instructions


def unit_settings() -> dict[str, list[str]]:
    settings: dict[str, list[str]] = {}
    for line in (ROOT / "deploy" / "helpdesk.service").read_text().splitlines():
        if "=" in line and not line.startswith(("#", ";", "[")):
            key, _, value = line.partition("=")
            settings.setdefault(key.strip(), []).append(value.strip())
    return settings


def test_the_image_is_built_with_scripts_install_and_runs_scripts_start():
    instructions = dockerfile_instructions()
    runs = [argument for keyword, argument in instructions if keyword == "RUN"]
    assert "scripts/install" in runs
    # No second way in beside it: no pip, no virtualenv, no serve of its own.
    assert not [run for run in runs if re.search(r"\bpip\b|\.venv|\bserve\b", run)]
    assert ("WORKDIR", INSTALLED_AT) in instructions
    assert instructions.index(("WORKDIR", INSTALLED_AT)) < instructions.index(
        ("RUN", "scripts/install")
    )
    assert not any(keyword == "ENTRYPOINT" for keyword, _ in instructions)
    commands = [json.loads(argument) for keyword, argument in instructions if keyword == "CMD"]
    assert commands == [[f"{INSTALLED_AT}/scripts/start"]]


def test_the_systemd_unit_runs_scripts_start_and_nothing_else():
    settings = unit_settings()
    assert settings["ExecStart"] == [f"{INSTALLED_AT}/scripts/start"]
    assert not [key for key in settings if key.startswith("ExecStart") and key != "ExecStart"]
    assert (ROOT / "scripts" / "start").is_file()


def test_make_installs_and_runs_through_the_scripts():
    dry_run = subprocess.run(
        ["make", "--no-print-directory", "-n", "-B", "run"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    commands = [line for line in dry_run if not line.startswith("touch ")]
    assert len(commands) == 2
    assert re.fullmatch(r"PYTHON=\S+ scripts/install --editable", commands[0])
    assert commands[1] == "scripts/start --sandbox auto"


def test_compose_builds_this_dockerfile_and_keeps_its_command():
    compose = yaml.safe_load((ROOT / "deploy" / "compose.yml").read_text())
    helpdesk = compose["services"]["helpdesk"]
    context = (ROOT / "deploy" / helpdesk["build"]["context"]).resolve()
    assert context == ROOT
    assert (context / helpdesk["build"]["dockerfile"]).resolve() == ROOT / "Dockerfile"
    assert "command" not in helpdesk and "entrypoint" not in helpdesk
    assert helpdesk["environment"]["DATABASE_URL"].startswith("postgresql://")
    assert helpdesk["depends_on"]["db"]["condition"] == "service_healthy"
    assert compose["services"]["db"]["image"].startswith("postgres:")
