"""manifest.yml is a valid Slack app manifest and names what the helpdesk handles."""

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import ValidationError, validators

MANIFEST = Path(__file__).resolve().parents[1] / "manifest.yml"


@pytest.fixture(scope="module")
def manifest() -> dict[str, Any]:
    return yaml.safe_load(MANIFEST.read_text())


@pytest.fixture(scope="module")
def validator(corpora: Path) -> Any:
    schema_dir = corpora / "slack-manifest-schema" / "schemas"
    schema = json.loads((schema_dir / "manifest.schema.1.0.0.json").read_text())
    cls = validators.validator_for(schema)  # the schema declares draft-07
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def corpus_manifest(corpora: Path, name: str) -> dict[str, Any]:
    return json.loads(
        (corpora / "slack-manifest-schema" / "tests" / "manifests" / "v1" / name).read_text()
    )


def test_the_validator_tells_valid_from_invalid(validator: Any, corpora: Path) -> None:
    validator.validate(corpus_manifest(corpora, "manifest.valid.json"))
    with pytest.raises(ValidationError):
        validator.validate(corpus_manifest(corpora, "manifest.invalid.json"))


def test_manifest_matches_slacks_schema(validator: Any, manifest: dict[str, Any]) -> None:
    errors = [f"{'/'.join(map(str, e.path))}: {e.message}" for e in validator.iter_errors(manifest)]
    assert errors == []


def test_slash_commands(manifest: dict[str, Any]) -> None:
    commands = {c["command"]: c for c in manifest["features"]["slash_commands"]}
    assert set(commands) == {"/escalate", "/helpdesk"}
    assert commands["/escalate"]["usage_hint"] == "[#number] [reason]"


def test_shortcuts(manifest: dict[str, Any]) -> None:
    shortcuts = {s["callback_id"]: s["type"] for s in manifest["features"]["shortcuts"]}
    assert shortcuts == {
        "reply_to_customer": "message",
        "escalate_ticket": "message",
        "escalate_ticket_global": "global",
        "make_ticket": "message",
        "merge_ticket": "message",
        "split_ticket": "message",
    }
    names = {s["callback_id"]: s["name"] for s in manifest["features"]["shortcuts"]}
    assert "Make a ticket" in names["make_ticket"]


def test_events_app_home_and_socket_mode(manifest: dict[str, Any]) -> None:
    settings = manifest["settings"]
    assert settings["socket_mode_enabled"] is True
    assert settings["interactivity"]["is_enabled"] is True
    bot_events = set(settings["event_subscriptions"]["bot_events"])
    assert bot_events == {
        "message.channels",
        "message.groups",
        "app_home_opened",
        "reaction_added",
    }
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True
    assert manifest["features"]["bot_user"]["display_name"] == "Helpdesk"


def test_bot_scopes_cover_what_the_helpdesk_calls(manifest: dict[str, Any]) -> None:
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    needed = {
        "chat:write",
        "channels:history",
        "groups:history",
        "commands",
        "users:read",
        "users:read.email",
        "files:write",
        "reactions:write",
        "reactions:read",
    }
    assert needed <= scopes


def urls(node: Any, key: str = "") -> Iterator[str]:
    if isinstance(node, dict):
        for child_key, child in node.items():
            yield from urls(child, child_key)
    elif isinstance(node, list):
        for child in node:
            yield from urls(child, key)
    elif key.endswith("url"):
        yield node


def test_every_url_points_at_slack_events(manifest: dict[str, Any]) -> None:
    found = list(urls(manifest))
    assert len(found) == 5  # events, interactivity, options and the two commands
    assert all(url.endswith("/slack/events") for url in found)
