"""The `helpdesk` command."""

from __future__ import annotations

import logging
import signal
import sys
import threading

import typer
from rich.console import Console

from bot.config import ConfigError, load_policy, load_settings

cli = typer.Typer(
    help="A Slack-native helpdesk: customer email becomes Slack threads.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
err = Console(stderr=True)


def main() -> None:
    try:
        cli()
    except ConfigError as exc:
        err.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        sys.exit(2)


@cli.command()
def serve(
    log_level: str = typer.Option("INFO", help="DEBUG, INFO, WARNING or ERROR."),
) -> None:
    """Run the helpdesk: HTTP server, Slack listener, SMTP server and outbox worker."""
    from bot.app import create_app

    logging.basicConfig(
        level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    settings = load_settings()
    helpdesk = create_app(settings, load_policy(settings.helpdesk_config))
    _verify_slack(helpdesk.bolt.client)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    helpdesk.start()
    where = f"http://{settings.helpdesk_http_host}:{helpdesk.http_port}"
    smtp = settings.helpdesk_smtp_listen or "off"
    mode = "Socket Mode" if settings.slack_app_token else f"HTTP mode at {where}/slack/events"
    err.print(f"helpdesk running: Slack over {mode}; SMTP {smtp}. Ctrl-C stops it.")
    stop.wait()
    err.print("stopping…")
    helpdesk.stop()


def _verify_slack(client) -> None:
    from slack_sdk.errors import SlackApiError

    try:
        client.auth_test()
    except SlackApiError as exc:
        raise ConfigError(
            f"SLACK_BOT_TOKEN was refused by Slack ({exc.response.get('error')}): "
            "copy the Bot User OAuth Token from the app's OAuth & Permissions page"
        ) from None
    except Exception as exc:
        raise ConfigError(f"SLACK_API_URL: Slack could not be reached ({exc})") from None


@cli.command()
def check() -> None:
    """Validate configuration and connectivity; exit non-zero on any problem."""
    from bot.checks import run_checks

    settings = load_settings()
    policy = load_policy(settings.helpdesk_config)
    sys.exit(0 if run_checks(settings, policy) else 1)


@cli.command()
def sla() -> None:
    """Show each open ticket's SLA clocks: state and business time left, most urgent first."""
    from bot.reports import sla_table

    settings = load_settings()
    Console().print(sla_table(settings, load_policy(settings.helpdesk_config)))


@cli.command()
def migrate() -> None:
    """Upgrade the database schema to the latest version (serve does this by itself)."""
    from bot.storage.db import make_engine
    from bot.storage.migrate import upgrade

    settings = load_settings()
    upgrade(make_engine(settings.database_url))
    err.print("database is up to date")
