"""The `helpdesk` command."""

from __future__ import annotations

import logging
import signal
import sys
import threading
import time
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date
from enum import StrEnum
from functools import partial
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.text import Text

from bot.config import ConfigError, Settings, load_policy, load_settings
from bot.monitoring.logs import configure_logging, writes_json
from bot.redaction import Redactor

cli = typer.Typer(
    help="A Slack-native helpdesk: customer email becomes Slack threads.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
err = Console(stderr=True)
# Exit codes, the same for every command (click's own usage errors are 2 as well).
EXIT_FAILED = 1  # the command ran, and something it did or checked failed
EXIT_UNUSABLE = 2  # it could not start: the command line, a setting or the policy is invalid
# Set by the top-level --sandbox of each invocation, read where a command loads its settings.
_use_sandbox: ContextVar[bool] = ContextVar("use_sandbox", default=False)


def main() -> None:
    """Every error a person can fix ends the command in one line, never a traceback."""
    try:
        cli(prog_name="helpdesk")
    except ConfigError as exc:
        _error(str(exc))
        sys.exit(EXIT_UNUSABLE)
    except Exception as exc:
        # Heavy modules (SQLAlchemy, Bolt, FastAPI, the models) are imported inside the
        # commands that use them, after the settings load: `--help`, a usage error or a bad
        # setting ends a `helpdesk` process before it pays a second of imports for them.
        from sqlalchemy.exc import SQLAlchemyError

        if not isinstance(exc, SQLAlchemyError):
            raise
        from bot.storage.problems import explain

        _error(explain(exc))
        sys.exit(EXIT_FAILED)


def _error(message: str) -> None:
    scrubbed = Redactor.of_environment().scrub(message)
    if writes_json():  # `serve` got as far as setting up its JSON logs
        logging.getLogger("bot").error(scrubbed)
    else:
        err.print(f"[bold red]error:[/] {escape(scrubbed)}", highlight=False, soft_wrap=True)


def _fail(message: str) -> None:
    _error(message)
    raise typer.Exit(EXIT_FAILED)


@cli.callback()
def _everywhere(
    sandbox: bool = typer.Option(
        False,
        "--sandbox",
        help="Use the sandbox's database and files (under HELPDESK_DATA_DIR/sandbox/, where "
        "`serve --sandbox on` keeps them) instead of DATABASE_URL's.",
    ),
) -> None:
    """Options for every command."""
    _use_sandbox.set(sandbox)


def _settings() -> Settings:
    """The settings, pointed at the sandbox's database with `helpdesk --sandbox …`."""
    settings = load_settings()
    if not _use_sandbox.get():
        return settings
    from bot.sandbox.workspace import DATABASE_FILE, sandbox_storage

    sandboxed = sandbox_storage(settings)
    if not (sandboxed.helpdesk_data_dir / DATABASE_FILE).is_file():
        raise ConfigError(
            f"no sandbox database in {sandboxed.helpdesk_data_dir}: start the sandbox first "
            "(`make run`, or `helpdesk serve --sandbox on`)"
        )
    return sandboxed


class LogLevel(StrEnum):
    DEBUG = "DEBUG"
    INFO = "INFO"
    WARNING = "WARNING"
    ERROR = "ERROR"


class SandboxMode(StrEnum):
    OFF = "off"
    ON = "on"
    AUTO = "auto"


@cli.command()
def serve(
    log_level: LogLevel = typer.Option(
        LogLevel.INFO, case_sensitive=False, help="DEBUG, INFO, WARNING or ERROR."
    ),
    sandbox: SandboxMode = typer.Option(
        SandboxMode.OFF,
        help="on: try the helpdesk without Slack, against a local stand-in with a page at "
        "/sandbox/; auto: on when no Slack token is configured (what `make run` uses).",
    ),
) -> None:
    """Run the helpdesk: HTTP server, Slack listener, SMTP server and outbox worker."""
    settings = load_settings()
    configure_logging(log_level, settings.helpdesk_log_format, Redactor.of_settings(settings))
    policy = load_policy(settings.helpdesk_config)
    from bot.app import create_app

    unconfigured = not (settings.slack_bot_token or settings.slack_app_token)
    stand_in = mount = None
    if (
        _use_sandbox.get()
        or sandbox is SandboxMode.ON
        or (sandbox is SandboxMode.AUTO and unconfigured)
    ):
        # Imported here only: production never loads the stand-ins (fake Slack, fake shop).
        from bot.sandbox.routes import mount_sandbox
        from bot.sandbox.workspace import start_sandbox

        stand_in, settings = start_sandbox(settings, policy)
        # The sandbox runs the policy it chose: the demo's unless HELPDESK_CONFIG names one.
        policy, mount = stand_in.policy, partial(mount_sandbox, stand_in)
    try:
        helpdesk = create_app(settings, policy, mount=mount)
        try:
            _verify_slack(helpdesk.bolt.client)
            stop = threading.Event()
            for signum in (signal.SIGINT, signal.SIGTERM):
                signal.signal(signum, lambda *_: stop.set())
            helpdesk.start()
            _announce(settings, helpdesk.http_port, stand_in is not None)
            stop.wait()
            _say("stopping…")
        finally:  # also when Slack or a port refused: what was built is released
            helpdesk.stop()
    finally:
        if stand_in is not None:
            stand_in.stop()


def _announce(settings, http_port: int, sandboxed: bool) -> None:
    where = f"http://{settings.helpdesk_http_host}:{http_port}"
    smtp = settings.helpdesk_smtp_listen or "off"
    if sandboxed:
        _say(
            f"helpdesk running in [bold]sandbox mode[/]: Slack is a local stand-in, nothing "
            f"leaves this machine.\n  open   {where}/sandbox/\n  mail   "
            f"{settings.helpdesk_support_address} at {smtp}\n  chat   {where}/chat/\n"
            "Ctrl-C stops it; the sandbox starts empty each time. See the README to connect "
            "a real workspace."
        )
        return
    mode = "Socket Mode" if settings.slack_app_token else f"HTTP mode at {where}/slack/events"
    _say(f"helpdesk running: Slack over {mode}; SMTP {smtp}. Ctrl-C stops it.")


def _say(markup: str) -> None:
    """Tells the person running `serve`; a log line of its own when logs are JSON lines."""
    if writes_json():
        logging.getLogger("bot").info(Text.from_markup(markup).plain)
    else:
        err.print(markup, highlight=False)


def _verify_slack(client) -> None:
    from slack_sdk.errors import SlackApiError

    # slack_sdk logs every failed try of the call; the one line below says it all.
    sdk_log = logging.getLogger("slack_sdk")
    level = sdk_log.level
    sdk_log.setLevel(logging.CRITICAL)
    try:
        client.auth_test()
    except SlackApiError as exc:
        raise ConfigError(
            f"SLACK_BOT_TOKEN was refused by Slack ({exc.response.get('error')}): "
            "copy the Bot User OAuth Token from the app's OAuth & Permissions page"
        ) from None
    except Exception as exc:
        _fail(f"Slack could not be reached at SLACK_API_URL ({exc}): check it and the network")
    finally:
        sdk_log.setLevel(level)


@cli.command()
def check() -> None:
    """Validate configuration and connectivity; exit non-zero on any problem."""
    if _use_sandbox.get():
        raise ConfigError(
            "check tests your own Slack, mail and shop settings; the sandbox has none to test "
            "(its stand-ins live inside `helpdesk serve --sandbox on`): run `helpdesk check` "
            "without --sandbox"
        )
    settings = _settings()
    policy = load_policy(settings.helpdesk_config)
    from bot.checks import run_checks

    sys.exit(0 if run_checks(settings, policy) else EXIT_FAILED)


@cli.command()
def sla() -> None:
    """Show each open ticket's SLA clocks: state and business time left, most urgent first."""
    settings = _settings()
    policy = load_policy(settings.helpdesk_config)
    from bot.reports import sla_table

    Console().print(sla_table(settings, policy))


@cli.command()
def migrate() -> None:
    """Upgrade the database schema to the latest version (serve does this by itself)."""
    settings = _settings()
    from bot.storage.db import make_engine
    from bot.storage.migrate import current_revision, upgrade

    engine = make_engine(settings.database_url)
    try:
        before = current_revision(engine)
        upgrade(engine)
        after = current_revision(engine)
    finally:
        engine.dispose()
    if before is None:
        err.print(f"created the helpdesk's tables, at revision {after}")
    elif before != after:
        err.print(f"upgraded the database from revision {before} to revision {after}")
    else:
        err.print(f"the database is already up to date, at revision {after}")


@cli.command()
def backup(
    file: Path = typer.Argument(
        ...,
        metavar="FILE",
        help="A new file for the copy: an SQLite database, or a pg_dump archive on PostgreSQL.",
    ),
) -> None:
    """Write a consistent copy of the database, also while the helpdesk runs."""
    settings = _settings()
    from bot.storage.backup import BackupError, back_up

    try:
        back_up(settings.database_url, file)
    except BackupError as problem:
        _fail(str(problem))
    err.print(
        f"database copied to {file}; the README's Backup section says how to restore it",
        highlight=False,
        soft_wrap=True,
    )


customer_cli = typer.Typer(
    help="A customer's own data: export everything held about them, or erase it.",
    no_args_is_help=True,
)
cli.add_typer(customer_cli, name="customer")


@customer_cli.command("export")
def customer_export(
    email: str = typer.Argument(..., metavar="EMAIL", help="The customer's email address."),
    output: Path = typer.Option(
        None, help="A new (or empty) directory; default customer-<id>-export-<time> here."
    ),
) -> None:
    """Write everything held about a customer as JSON, with their attachments as files."""
    settings = _settings()
    import json
    import shutil

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
    from sqlmodel import Session

    from bot.core.attachments import FileStore
    from bot.core.customer_data import held_about
    from bot.storage.db import make_engine
    from bot.storage.models import utcnow

    store = FileStore(settings.helpdesk_data_dir)
    engine = make_engine(settings.database_url)
    try:
        with Session(engine) as session:
            customer = _customer_or_exit(session, email)
            held = held_about(session, customer)
        target = output or Path(f"customer-{customer.id}-export-{utcnow():%Y%m%d-%H%M%S}")
        if target.exists() and (not target.is_dir() or any(target.iterdir())):
            _fail(f"{target} already exists and is not an empty directory: name a new one")
        target.mkdir(parents=True, exist_ok=True)
        missing = []
        columns = (TextColumn("copying files"), BarColumn(), MofNCompleteColumn())
        with Progress(*columns, console=err, disable=not err.is_terminal) as bar:
            task = bar.add_task("files", total=len(held.files))
            for held_file in held.files:
                destination = target / held_file.export_name
                destination.parent.mkdir(parents=True, exist_ok=True)
                try:
                    shutil.copyfile(store.path(held_file.stored_path), destination)
                except (OSError, ValueError):
                    missing.append(held_file.export_name)
                bar.advance(task)
        held.data["missing_files"] = missing
        data = json.dumps(held.data, indent=2, ensure_ascii=False)
        (target / "customer.json").write_text(data, encoding="utf-8")
    except OSError as problem:
        _fail(f"could not write the export: {problem}")
    finally:
        engine.dispose()
    counts = held.counts
    err.print(
        f"exported {counts['tickets']} ticket(s), {counts['messages']} message(s) and "
        f"{counts['files'] - len(missing)} file(s) to {target}"
        + (f"; {len(missing)} file(s) were missing from the data directory" if missing else ""),
        highlight=False,
        soft_wrap=True,
    )


def _forget_shopify_answers(settings, engine) -> None:
    """Cached Shopify answers may hold the customer's name and addresses, and which are theirs
    can't be told (orders are kept by number): all go, and are asked again when needed. With
    SQLite they live in `helpdesk serve`'s memory only, and expire there by themselves."""
    from bot.integrations.shopify_cache import KEY_PREFIX
    from bot.storage.shared_state import connect_shared_state

    try:
        connect_shared_state(settings, engine).forget(KEY_PREFIX)
    except Exception as problem:  # the erasure itself is done and committed
        err.print(
            f"warning: cached Shopify answers not cleared ({problem}); "
            "they expire after the policy's shopify.cache_for",
            highlight=False,
        )


@customer_cli.command("erase")
def customer_erase(
    email: str = typer.Argument(
        ..., metavar="EMAIL", help="The customer's email address (or erased stand-in)."
    ),
    yes: bool = typer.Option(False, "--yes", help="Erase without asking for confirmation."),
    by: str = typer.Option(None, help="Who asked for it, for the event log; default you."),
) -> None:
    """Erase a customer's personal data; counts, times, ratings and tags stay for the metrics.

    Their Slack posts are replaced by the running `helpdesk serve` (through the outbox).
    """
    settings = _settings()
    from rich.table import Table
    from sqlmodel import Session

    from bot.core import privacy
    from bot.core.attachments import FileStore
    from bot.core.visitors import erased_address
    from bot.storage.db import make_engine, transaction
    from bot.storage.models import Customer

    engine = make_engine(settings.database_url)
    try:
        with Session(engine) as session:
            customer = _customer_or_exit(session, email)
            customer_id = customer.id
            planned = privacy.inventory(session, customer)
            session.rollback()
        if not planned.anything():
            _flush_log(engine, customer_id)  # in case the erasing run could not
            err.print(f"nothing left to erase for customer {customer_id}: already erased")
            return
        if not yes:
            table = Table("what", "how many", title=f"To erase for customer {customer_id}")
            for name, value in vars(planned).items():
                table.add_row(name.replace("_", " "), str(value))
            err.print(table)
            typer.confirm("Erase this customer's personal data? This cannot be undone", abort=True)
        with transaction(engine) as session:
            customer = session.get(Customer, customer_id, with_for_update=True)
            actor = by or _login()
            done = privacy.erase(session, customer, FileStore(settings.helpdesk_data_dir), actor)
        _flush_log(engine, customer_id)
        _forget_shopify_answers(settings, engine)
    finally:
        engine.dispose()
    err.print(
        f"erased customer {customer_id} (now {erased_address(customer_id)}): "
        f"{done.summary()}; `helpdesk serve` updates Slack",
        highlight=False,
        soft_wrap=True,
    )


def _flush_log(engine, customer_id: int) -> None:
    from bot.core.visitors import erased_address
    from bot.storage.db import flush_log

    if not flush_log(engine):
        err.print(
            "the SQLite write-ahead log is in use, so erased text may stay in it a while: run "
            f"`helpdesk customer erase {erased_address(customer_id)}` when the helpdesk is quiet"
        )


def _login() -> str:
    import getpass

    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name in this environment (a bare container)
        return "unknown"


def _customer_or_exit(session, email: str):
    from bot.core.customer_data import find_customer

    customer = find_customer(session, email)
    if customer is None:
        _fail(f"no customer with the address {email.strip().lower()}: check it, or it was erased")
    return customer


DELIVERY_WAIT_SECONDS = 60


class ExportFormat(StrEnum):
    CSV = "csv"
    JSON = "json"


@cli.command()
def digest(
    day: str = typer.Option(
        None, "--date", help="The local day, YYYY-MM-DD; yesterday in the policy's timezone."
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print the figures; post nothing."),
) -> None:
    """Post a day's digest to the digest channel now (once per day), or print its figures."""
    settings = _settings()
    policy = load_policy(settings.helpdesk_config)
    chosen_day = _local_date("--date", day) if day else None
    from zoneinfo import ZoneInfo

    from sqlmodel import Session

    from bot.core import metrics
    from bot.exports import report_tables
    from bot.storage.db import make_engine
    from bot.storage.models import utcnow
    from bot.views.digest import digest_title

    zone = ZoneInfo(policy.timezone)
    day_of = chosen_day or metrics.yesterday(utcnow(), zone)
    engine = make_engine(settings.database_url)
    try:
        if dry_run:
            with Session(engine) as session:
                report = metrics.report(session, metrics.Period.day(day_of, zone), utcnow())
            for table in report_tables(report, digest_title(report)):
                Console().print(table)
        else:
            _post_digest(settings, policy, engine, day_of)
    finally:
        engine.dispose()


def _post_digest(settings, policy, engine, day: date) -> None:
    """Enqueues the digest, then delivers it from this process with one outbox worker."""
    from bot.core.escalation import tiers_of
    from bot.deliverers.slack_posts import slack_deliverers
    from bot.delivery.worker import OutboxWorker
    from bot.jobs.daily_digest import digest_channel, digest_outbox_row, enqueue_digest
    from bot.slack_client import delivery_client

    channel = digest_channel(settings, policy)
    if not channel:
        raise ConfigError(
            "HELPDESK_DIGEST_CHANNEL is missing: set it, or digest.channel in the policy, "
            "or HELPDESK_SUPPORT_CHANNEL"
        )
    if not settings.slack_bot_token:
        raise ConfigError("SLACK_BOT_TOKEN is missing: set it to the app's bot token (xoxb-…)")
    if not enqueue_digest(engine, day, channel, policy.timezone):
        err.print(f"the digest of {day} was already sent to {channel}")
        return
    client = delivery_client(settings)
    tiers = tiers_of(policy, settings.escalation_channel)
    worker = OutboxWorker(engine, slack_deliverers(client, tiers))
    deadline = time.monotonic() + DELIVERY_WAIT_SECONDS
    try:
        while (row := digest_outbox_row(engine, day, channel)).status == "pending":
            if row.last_error or time.monotonic() > deadline:
                err.print(
                    f"[bold red]not delivered yet:[/] {row.last_error or 'timed out'}; "
                    "`helpdesk serve` keeps retrying it",
                    highlight=False,
                )
                sys.exit(1)
            if not worker.run_once():
                time.sleep(0.2)
    finally:
        worker.stop()
    if row.status != "sent":
        err.print(f"[bold red]not delivered:[/] {row.last_error}", highlight=False)
        sys.exit(1)
    err.print(f"digest of {day} posted to {channel}")


@cli.command()
def export(
    since: str = typer.Option(..., help="First local day of ticket creation, YYYY-MM-DD."),
    output_format: ExportFormat = typer.Option(ExportFormat.CSV, "--format", help="csv or json."),
    output: Path = typer.Option(
        None, help="Write to this new file instead of standard output; see --force."
    ),
    force: bool = typer.Option(False, "--force", help="Overwrite the --output file if it exists."),
) -> None:
    """Export tickets created since a day, with their metrics, as CSV or JSON."""
    settings = _settings()
    policy = load_policy(settings.helpdesk_config)
    first_day = _local_date("--since", since)
    from zoneinfo import ZoneInfo

    from rich.progress import Progress
    from sqlmodel import Session

    from bot.core.metrics import local_midnight
    from bot.exports import count_since, ticket_rows, write_csv, write_json
    from bot.storage.db import make_engine

    start = local_midnight(first_day, ZoneInfo(policy.timezone))
    write = write_json if output_format == ExportFormat.JSON else write_csv
    engine = make_engine(settings.database_url)
    try:
        with Session(engine) as session, Progress(console=err, disable=not err.is_terminal) as bar:
            task = bar.add_task("exporting", total=count_since(session, start))

            def counted():
                for row in ticket_rows(session, start):
                    yield row
                    bar.advance(task)

            if output is None:
                write(counted(), sys.stdout)
            else:
                try:
                    with _new_file(output, force) as out:
                        write(counted(), out)
                except OSError as problem:
                    _fail(f"could not write {output}: {problem.strerror or problem}")
    finally:
        engine.dispose()


def _new_file(path: Path, overwrite: bool):
    """`path` opened for writing text; an existing file only when told to overwrite it."""
    if path.is_dir():
        _fail(f"--output {path} is a directory: name a file")
    try:
        return path.open("w" if overwrite else "x", encoding="utf-8", newline="")
    except FileExistsError:
        _fail(f"{path} already exists: name a new file, or add --force to overwrite it")


@cli.command("import-mail")
def import_mail(
    since: str = typer.Option(
        ..., help="Import mail that arrived on or after this day, YYYY-MM-DD."
    ),
) -> None:
    """Import older mail from IMAP_URL (new mail is picked up by `serve` on its own).

    Mail the helpdesk already has is skipped, so running this twice imports nothing twice.
    The tickets reach Slack through the running `helpdesk serve` (or when it next starts).
    """
    day = _local_date("--since", since)
    settings = _settings()
    if not settings.imap_url:
        raise ConfigError("IMAP_URL is not set: set it to the mailbox to import from")
    policy = load_policy(settings.helpdesk_config)
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from bot.app import create_app
    from bot.handlers.email.imap_errors import DatabaseUnavailable, ImapError

    helpdesk = create_app(settings, policy)
    columns = (TextColumn("importing"), BarColumn(), MofNCompleteColumn())
    try:
        with Progress(*columns, console=err, disable=not err.is_terminal) as bar:
            task = bar.add_task("import", total=None)
            result = helpdesk.imap.import_since(
                day, lambda done, total: bar.update(task, completed=done, total=total)
            )
    except (ImapError, DatabaseUnavailable) as problem:
        _fail(f"import stopped: {problem}")
    finally:
        helpdesk.engine.dispose()
    err.print(
        f"imported {result.stored} message(s); {result.duplicates} already here; "
        f"{result.refused} refused (see the log for why)"
    )


STUCK_AFTER_SECONDS = 300
ROW_WAIT_SECONDS = 90  # past the default delivery lease (60 s): a try that died is waited out
outbox_cli = typer.Typer(
    help="List deliveries (Slack posts, emails) that are stuck or failed; retry or drop one.",
    no_args_is_help=False,
    invoke_without_command=True,
)
cli.add_typer(outbox_cli, name="outbox")
STUCK_AFTER_OPTION = typer.Option(
    STUCK_AFTER_SECONDS,
    "--stuck-after",
    help="Seconds after which a pending row counts as stuck.",
    min=1,
)


@outbox_cli.callback()
def outbox_overview(
    context: typer.Context,
    stuck_after: int = STUCK_AFTER_OPTION,
) -> None:
    """With no command: the table of stuck and failed deliveries (as `helpdesk outbox list`)."""
    if context.invoked_subcommand is None:
        _outbox_list(stuck_after)


@outbox_cli.command("list")
def outbox_list(
    stuck_after: int = STUCK_AFTER_OPTION,
) -> None:
    """Rows given up on, and pending rows that failed at least once or wait too long."""
    _outbox_list(stuck_after)


def _outbox_list(stuck_after: int) -> None:
    settings = _settings()
    from datetime import timedelta

    from bot.core.deliveries import troubled
    from bot.reports import outbox_table
    from bot.storage.models import utcnow

    now = utcnow()
    with _outbox_session(settings) as session:
        rows = troubled(session, now, timedelta(seconds=stuck_after))
    if not rows:
        err.print("no stuck or failed deliveries")
        return
    Console().print(outbox_table(rows, now))


@outbox_cli.command("retry")
def outbox_retry(
    row_id: int = typer.Argument(..., metavar="ID", help="The row's id, from the list."),
) -> None:
    """Send a failed or stuck row again now (a reply: as its Retry sending button does)."""
    settings = _settings()
    from bot.core.deliveries import retry
    from bot.storage.models import utcnow

    what = _change_row(settings, lambda session: retry(session, row_id, utcnow()).kind)
    err.print(f"outbox row {row_id} ({what}) will be sent again now by `helpdesk serve`")


@outbox_cli.command("drop")
def outbox_drop(
    row_id: int = typer.Argument(..., metavar="ID", help="The row's id, from the list."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
) -> None:
    """Give a row up for good, so that its ticket's later deliveries go on."""
    if not yes and not typer.confirm(f"Drop outbox row {row_id}? It will never be sent"):
        raise typer.Exit(1)
    settings = _settings()
    from bot.core.deliveries import drop
    from bot.storage.models import utcnow

    what = _change_row(settings, lambda session: drop(session, row_id, utcnow()).kind)
    err.print(f"outbox row {row_id} ({what}) dropped; its ticket's later deliveries go on")


def _change_row(settings: Settings, change):
    """Applies an operator's change to an outbox row. A row a delivery try holds right now
    (its lease is short, and a retried row is tried often) is changed once that try ends."""
    from bot.core.deliveries import BeingDelivered

    give_up = time.monotonic() + ROW_WAIT_SECONDS
    with err.status("waiting for the delivery try in progress to end…") as waiting:
        while True:
            try:
                with _outbox_session(settings, write=True, passing=BeingDelivered) as session:
                    return change(session)
            except BeingDelivered as busy:
                if time.monotonic() > give_up:
                    waiting.stop()
                    _fail(str(busy))
                time.sleep(0.5)


@contextmanager
def _outbox_session(
    settings: Settings, write: bool = False, passing: type[Exception] | None = None
):
    """A session on the given settings' database; a refused change ends the command in one line
    (but for the `passing` refusal, which the caller handles)."""
    from sqlmodel import Session

    from bot.core.deliveries import CannotChange
    from bot.storage.db import make_engine, transaction

    engine = make_engine(settings.database_url)
    try:
        if write:
            with transaction(engine) as session:
                yield session
        else:
            with Session(engine) as session:
                yield session
    except CannotChange as refused:
        if passing and isinstance(refused, passing):
            raise
        _fail(str(refused))
    finally:
        engine.dispose()


def _local_date(option: str, value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ConfigError(
            f"{option}={value!r} is invalid: expected a date such as 2026-03-10"
        ) from None
