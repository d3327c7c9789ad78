"""`helpdesk check`: configuration and connectivity, each problem with how to fix it."""

from __future__ import annotations

import imaplib
import smtplib
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from rich.console import Console
from rich.table import Table
from slack_sdk.errors import SlackApiError
from sqlalchemy.exc import SQLAlchemyError

from bot.config import ConfigError, Policy, Pool, Settings, duration_text
from bot.integrations.shopify import REQUIRED_SCOPES, ShopifyError
from bot.integrations.shopify_actions import ShopifyActions
from bot.integrations.shopify_cache import shopify_client
from bot.redaction import Redactor
from bot.rule_policy import Rule
from bot.slack_client import interactive_client
from bot.storage.db import make_engine, ping
from bot.storage.migrate import is_current
from bot.storage.problems import explain

TIMEOUT_SECONDS = 10


@dataclass(frozen=True)
class Outcome:
    name: str
    status: str  # ok, warning, error or skipped
    detail: str


def run_checks(settings: Settings, policy: Policy, console: Console | None = None) -> bool:
    console = console or Console()
    table = Table(title="helpdesk check")
    table.add_column("check")
    table.add_column("result")
    table.add_column("detail / how to fix", overflow="fold")
    styles = {"ok": "green", "warning": "yellow", "error": "bold red", "skipped": "dim"}
    failed = False
    # Error details quote libraries' messages, which may echo a URL or a token.
    redactor = Redactor.of_settings(settings)
    for outcome in _all_checks(settings, policy):
        failed |= outcome.status == "error"
        detail = redactor.scrub(outcome.detail)
        table.add_row(outcome.name, f"[{styles[outcome.status]}]{outcome.status}", detail)
    console.print(table)
    console.print("[bold red]problems found[/]" if failed else "[green]all good[/]")
    return not failed


def _all_checks(settings: Settings, policy: Policy) -> Iterator[Outcome]:
    yield from _required_settings(settings)
    yield _guard("database", lambda: _database(settings))
    yield _guard("Redis", lambda: _redis(settings))
    yield from _slack(settings, policy)
    yield _guard("inbound SMTP port", lambda: _smtp_listen(settings))
    yield _guard("outbound SMTP", lambda: _outbound_smtp(settings))
    yield _acknowledgements(settings, policy)
    yield _guard("IMAP mailbox", lambda: _imap(settings))
    yield _guard("Shopify", lambda: _shopify(settings, policy))
    yield _guard("Shopify actions", lambda: _shopify_actions(settings, policy))
    yield from _rules(settings, policy)
    yield _guard("knowledge base", lambda: _knowledge_base(policy))
    yield _guard("AI server", lambda: _ai_server(settings, policy))


def _guard(name: str, check: Callable[[], Outcome]) -> Outcome:
    try:
        return check()
    except Exception as exc:
        return Outcome(name, "error", f"{type(exc).__name__}: {exc}")


def _required_settings(settings: Settings) -> Iterator[Outcome]:
    required = {
        "SLACK_BOT_TOKEN": (settings.slack_bot_token, "the app's Bot User OAuth Token (xoxb-…)"),
        "HELPDESK_SUPPORT_CHANNEL": (
            settings.helpdesk_support_channel,
            "the ID of the channel for new tickets (channel details → bottom of About)",
        ),
        "HELPDESK_SUPPORT_ADDRESS": (settings.helpdesk_support_address, "e.g. support@shop.com"),
    }
    if not settings.slack_app_token:
        required["SLACK_SIGNING_SECRET"] = (
            settings.slack_signing_secret,
            "Basic Information → Signing Secret (or set SLACK_APP_TOKEN for Socket Mode)",
        )
    for name, (value, hint) in required.items():
        if value:
            yield Outcome(name, "ok", "set")
        else:
            yield Outcome(name, "error", f"missing: set it to {hint}")


def _database(settings: Settings) -> Outcome:
    engine = make_engine(settings.database_url)
    try:
        ping(engine)
        if not is_current(engine):
            # An error, as every command but serve needs the current tables.
            return Outcome(
                "database",
                "error",
                "no tables yet, or older ones: run `helpdesk migrate` (serve also does it)",
            )
        return Outcome("database", "ok", "reachable, schema current")
    except SQLAlchemyError as exc:
        return Outcome("database", "error", explain(exc))
    finally:
        engine.dispose()


def _slack(settings: Settings, policy: Policy) -> Iterator[Outcome]:
    if not settings.slack_bot_token:
        yield Outcome("Slack", "skipped", "no SLACK_BOT_TOKEN")
        return
    client = interactive_client(settings)
    try:
        auth = client.auth_test()
    except SlackApiError as exc:
        yield Outcome(
            "Slack auth.test", "error", f"{exc.response.get('error')}: check SLACK_BOT_TOKEN"
        )
        return
    except Exception as exc:
        yield Outcome("Slack auth.test", "error", f"{exc}: check SLACK_API_URL and the network")
        return
    yield Outcome("Slack auth.test", "ok", f"team {auth.get('team')}, bot {auth.get('user')}")
    for channel, purpose in _channels(settings, policy).items():
        yield _guard(f"channel {channel}", lambda c=channel, p=purpose: _channel(client, c, p))
    for name, pool in policy.assignment.pools.items():
        yield _guard(f"pool {name}", lambda n=name, p=pool: _pool(client, n, p))


def _channels(settings: Settings, policy: Policy) -> dict[str, str]:
    channels: dict[str, str] = {}
    for channel, purpose in [
        (settings.helpdesk_support_channel, "support"),
        (settings.escalation_channel if not policy.escalation.tiers else None, "escalation"),
        (policy.digest.channel or settings.digest_channel, "digest"),
        *((tier.channel, f"tier {tier.name}") for tier in policy.escalation.tiers),
        *((inbox.channel, f"inbox {inbox.address}") for inbox in policy.inboxes),
        *((pool.channel, f"pool {name}") for name, pool in policy.assignment.pools.items()),
        *((rule.then.channel, f"rule {rule.name}") for rule in policy.rules),
        *((channel, "Slack Connect") for channel in policy.connect_channels),
    ]:
        if channel:
            channels[channel] = ", ".join(filter(None, [channels.get(channel), purpose]))
    return channels


def _channel(client, channel: str, purpose: str) -> Outcome:
    name = f"channel {channel}"
    try:
        info = client.conversations_info(channel=channel)["channel"]
    except SlackApiError as exc:
        error = exc.response.get("error")
        return Outcome(name, "error", f"{purpose}: {error}; check the ID and invite the app")
    if not info.get("is_member"):
        return Outcome(
            name, "error", f"{purpose}: the app is not in #{info.get('name')}; /invite it there"
        )
    return Outcome(name, "ok", f"{purpose}: #{info.get('name')}")


def _pool(client, name: str, pool: Pool) -> Outcome:
    """Whether the pool's members can be read (its user group's), and their presence."""
    check = f"pool {name}"
    members = pool.agents
    if members is None:
        try:
            members = client.usergroups_users_list(usergroup=pool.usergroup)["users"]
        except SlackApiError as exc:
            error = exc.response.get("error")
            fix = {
                "missing_scope": "add the usergroups:read scope to the app and reinstall it",
                "no_such_subteam": "no such user group; check its ID (S…)",
            }.get(error, "check the user group's ID and the app's scopes")
            return Outcome(check, "error", f"user group {pool.usergroup}: {error}: {fix}")
        if not members:
            return Outcome(check, "warning", f"user group {pool.usergroup} has no members")
    source = f"user group {pool.usergroup}" if pool.usergroup else "listed"
    count = f"{len(members)} agent" + ("" if len(members) == 1 else "s")
    detail = f"{count} ({source}), {pool.strategy}"
    if pool.skip_away and members:
        try:
            client.users_getPresence(user=members[0])
        except SlackApiError as exc:
            error = exc.response.get("error")
            fix = {
                "missing_scope": "add the users:read scope to the app and reinstall it",
                "user_not_found": f"is {members[0]} a user of this workspace?",
            }.get(error, "check the app's users:read scope")
            return Outcome(
                check,
                "warning",
                f"{detail}; presence of {members[0]} can't be read ({error}), so agents who "
                f"are away are not passed over: {fix}",
            )
    return Outcome(check, "ok", detail)


def _redis(settings: Settings) -> Outcome:
    name = "Redis"
    if not settings.redis_url:
        return Outcome(
            name, "skipped", "REDIS_URL unset: several processes share through PostgreSQL"
        )
    # The clients of optional parts (Redis, knowledge base, AI server) are imported inside
    # their checks: a check that is skipped, or never reached, does not pay for their imports.
    from bot.storage.redis_state import RedisState

    try:
        RedisState.connect(settings.redis_url, namespace="")
    except ConfigError as problem:
        return Outcome(name, "error", str(problem))
    return Outcome(name, "ok", "answers: several processes share through it")


def _smtp_listen(settings: Settings) -> Outcome:
    name = "inbound SMTP port"
    if settings.smtp_listen is None:
        return Outcome(name, "skipped", "HELPDESK_SMTP_LISTEN is empty")
    host, port = settings.smtp_listen
    with socket.socket() as probe:
        try:
            probe.bind((host, port))
        except OSError as exc:
            return Outcome(
                name,
                "warning",
                f"{host}:{port} is in use ({exc.strerror}); "
                "fine if the helpdesk is already running",
            )
    return Outcome(name, "ok", f"{host}:{port} is free")


def _outbound_smtp(settings: Settings) -> Outcome:
    name = "outbound SMTP"
    if not settings.outbound_smtp_url:
        return Outcome(name, "warning", "OUTBOUND_SMTP_URL unset: replies by email will fail")
    url = urlsplit(settings.outbound_smtp_url)
    if url.scheme not in ("smtp", "smtps"):
        return Outcome(name, "error", "OUTBOUND_SMTP_URL must start with smtp:// or smtps://")
    factory = smtplib.SMTP_SSL if url.scheme == "smtps" else smtplib.SMTP
    with factory(
        url.hostname, url.port or (465 if url.scheme == "smtps" else 587), timeout=TIMEOUT_SECONDS
    ) as smtp:
        smtp.ehlo()
        if "starttls=true" in url.query:
            smtp.starttls()
            smtp.ehlo()
        if url.username:
            smtp.login(unquote(url.username), unquote(url.password or ""))
    return Outcome(name, "ok", f"{url.hostname} accepted the connection")


def _acknowledgements(settings: Settings, policy: Policy) -> Outcome:
    """Which addresses answer new tickets automatically, and how often per sender."""
    name = "acknowledgements"
    addresses = [(settings.helpdesk_support_address, None)]
    addresses += [(inbox.address, inbox.address) for inbox in policy.inboxes]
    listed = []
    for address, inbox in addresses:
        chosen = policy.acknowledgement_for(inbox)
        if address and chosen:
            period = duration_text(int(chosen.once_per.total_seconds()))
            listed.append(f"{address} (once per sender per {period})")
    if not listed:
        return Outcome(name, "skipped", "no inbox acknowledges new email tickets")
    if not settings.outbound_smtp_url:
        return Outcome(
            name, "warning", f"{', '.join(listed)} acknowledge, but OUTBOUND_SMTP_URL is unset"
        )
    return Outcome(name, "ok", f"new email tickets acknowledged by {', '.join(listed)}")


def _knowledge_base(policy: Policy) -> Outcome:
    """Every file of `kb.path` that is not an article, named with why: the helpdesk skips
    them (and logs it) while it serves the rest."""
    name = "knowledge base"
    if policy.kb is None:
        return Outcome(name, "skipped", "no kb.path in the policy")
    path = policy.kb.path
    if not path.is_dir():
        return Outcome(
            name, "error", f"kb.path={str(path)!r} is not a folder; create it or fix the path"
        )
    from bot.core.kb import folder_listing, folder_problems

    problems = folder_problems(path)
    listing, _ = folder_listing(path)
    articles = sum(1 for file, _, _ in listing.values() if file not in problems)
    if problems:
        listed = "; ".join(f"{file}: {reason}" for file, reason in problems.items())
        return Outcome(name, "error", f"{len(problems)} file(s) skipped (fix them): {listed}")
    return Outcome(name, "ok", f"{articles} article(s) in {path}")


def _ai_server(settings: Settings, policy: Policy) -> Outcome:
    """Drafted replies: asks the server for a one-word answer, so the model and key are
    known to work before an agent clicks *Draft a reply*."""
    name = "AI server"
    if policy.ai is None:
        return Outcome(name, "skipped", "no ai section in the policy: drafted replies are off")
    from bot.integrations.ai import AiProblem
    from bot.integrations.ai import connect as connect_ai

    client = connect_ai(settings, policy.ai)
    if client is None:
        return Outcome(name, "error", "AI_API_KEY is missing: drafted replies stay off without it")
    try:
        client.complete([{"role": "user", "content": "Answer with the word OK."}])
    except AiProblem as problem:
        return Outcome(name, "error", f"{policy.ai.base_url}: {problem}")
    return Outcome(name, "ok", f"{policy.ai.base_url} answers as model {policy.ai.model}")


def _imap(settings: Settings) -> Outcome:
    name = "IMAP mailbox"
    if not settings.imap_url:
        return Outcome(name, "skipped", "IMAP_URL unset: no polling")
    url = urlsplit(settings.imap_url)
    if url.scheme not in ("imap", "imaps"):
        return Outcome(name, "error", "IMAP_URL must start with imaps:// or imap://")
    factory = imaplib.IMAP4_SSL if url.scheme == "imaps" else imaplib.IMAP4
    client = factory(
        url.hostname, url.port or (993 if url.scheme == "imaps" else 143), timeout=TIMEOUT_SECONDS
    )
    try:
        client.login(unquote(url.username or ""), unquote(url.password or ""))
        folder = url.path.strip("/") or "INBOX"
        status, _ = client.select(folder, readonly=True)
        if status != "OK":
            return Outcome(name, "error", f"folder {folder!r} not found")
    finally:
        client.logout()
    return Outcome(name, "ok", f"logged in to {url.hostname}, folder {folder}")


def _shopify(settings: Settings, policy: Policy) -> Outcome:
    name = "Shopify"
    client = shopify_client(settings, policy)
    if client is None:
        return Outcome(name, "skipped", "SHOPIFY_SHOP unset: no order context")
    if not settings.shopify_access_token:
        return Outcome(name, "error", "SHOPIFY_ACCESS_TOKEN is missing: an Admin API token")
    try:
        granted = client.access_scopes()
    except ShopifyError as problem:
        return Outcome(name, "error", str(problem))
    missing = sorted(REQUIRED_SCOPES - granted)
    if missing:
        return Outcome(
            name,
            "error",
            f"the token lacks {', '.join(missing)}: add the scope"
            f"{'s' if len(missing) > 1 else ''} to the app in Shopify and reinstall it",
        )
    return Outcome(name, "ok", f"token works; scopes include {', '.join(sorted(REQUIRED_SCOPES))}")


def _shopify_actions(settings: Settings, policy: Policy) -> Outcome:
    """Which actions from the ticket (refund, cancel, ...) the token's scopes allow."""
    name = "Shopify actions"
    client = shopify_client(settings, policy)
    if client is None or not settings.shopify_access_token:
        return Outcome(name, "skipped", "no Shopify connection: no actions from tickets")
    try:
        available = ShopifyActions(client).available_actions()
    except ShopifyError:
        return Outcome(name, "skipped", "Shopify did not answer: see the Shopify check")
    allowed = [action for action, missing in available.items() if missing is None]
    needs: dict[str, list[str]] = {}
    for action, missing in available.items():
        if missing is not None:
            needs.setdefault(missing, []).append(action)
    if not needs:
        return Outcome(name, "ok", f"all available: {', '.join(allowed)}")
    lacking = "; ".join(
        f"{', '.join(actions)} need{'s' if len(actions) == 1 else ''} {scope}"
        for scope, actions in needs.items()
    )
    return Outcome(
        name,
        "warning",
        f"available: {', '.join(allowed) or 'none'}; {lacking}: add the scope to the app in "
        "Shopify and reinstall it to offer them",
    )


def _rules(settings: Settings, policy: Policy) -> Iterator[Outcome]:
    """A line per policy rule: its trigger, conditions and actions; a warning for one that
    can't work as written."""
    ours = {settings.helpdesk_support_address, *(inbox.address for inbox in policy.inboxes)}
    vips: tuple[Rule, ...] = ()
    if policy.vip is not None:  # bot.core.rules loads every rule (and the models) with it
        from bot.core.rules.vip import vip_rules

        vips = vip_rules(policy.vip)
    for rule in (*vips, *policy.rules):
        name, summary = f"rule {rule.name!r}", _rule_summary(rule)
        strangers = [address for address in rule.when.inbox if address not in ours]
        if rule.needs_shopify and not settings.shopify_enabled:
            problem = "its shopify conditions never hold: SHOPIFY_SHOP is unset"
        elif strangers:
            problem = (
                f"its inbox {strangers[0]} is neither HELPDESK_SUPPORT_ADDRESS nor in the "
                "policy's inboxes, so no mail arrives there"
            )
        else:
            yield Outcome(name, "ok", summary)
            continue
        yield Outcome(name, "warning", f"{summary}. But {problem}")


def _rule_summary(rule: Rule) -> str:
    """E.g. "on opened, when source=email, subject_contains=return|refund: tags returns, stop"."""
    when = rule.when.model_dump(by_alias=True, exclude_defaults=True)
    conditions = ", ".join(f"{key}={_words(value)}" for key, value in when.items()) or "always"
    actions = [f"{key} {_words(value)}" for key, value in rule.then.named().items()]
    actions += ["stop"] if rule.then.stop else []
    return f"on {', '.join(rule.on)}, when {conditions}: {', '.join(actions)}"


def _words(value: object) -> str:
    if isinstance(value, list):
        return "|".join(str(item) for item in value)
    if isinstance(value, dict):
        return (
            "{"
            + ", ".join(f"{k}={_words(v)}" for k, v in value.items() if v not in (None, []))
            + "}"
        )
    return str(value)
