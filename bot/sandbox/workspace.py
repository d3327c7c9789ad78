"""The sandbox's stand-ins for the outside world: Slack, a mail catcher and a shop.

`helpdesk serve --sandbox` runs the real helpdesk against these instead of Slack and the
team's mail provider, so that someone can try it on one machine without a workspace. Both
listen on loopback only, and the sandbox refuses to start beside real Slack credentials.
"""

from __future__ import annotations

import fcntl
import ipaddress
import os
import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from bot.config import ConfigError, KbPolicy, Policy, Settings, load_policy
from bot.devtools.fake_shopify import FakeShopify
from bot.devtools.fake_slack import FakeSlack
from bot.sandbox.demo_shop import open_demo_shop
from bot.sandbox.mail_catcher import MailCatcher

LOOPBACK = "127.0.0.1"
SANDBOX_USER = "U0SANDBOX"
TEAMMATE = "U0SANDBOX2"
SUPPORT_CHANNEL = "C0SUPPORT"
ESCALATION_CHANNEL = "C0ESCALATIONS"
DIGEST_CHANNEL = "C0DIGEST"
SUPPORT_ADDRESS = "support@sandbox.example"
# A long-running sandbox must not keep every Web API call it ever answered.
MAX_RECORDED_CALLS = 2000
# What the sandbox runs unless HELPDESK_CONFIG names a policy: every key shown working.
DEMO_POLICY = Path(__file__).with_name("demo_policy.yml")
# The demo policy's knowledge base: copied into the data directory's `kb` folder at start and
# on Start over, so articles edited from the sandbox's App Home change a copy.
DEMO_ARTICLES = Path(__file__).with_name("demo_kb")
KB_FOLDER = "kb"
# Held while a sandbox runs, in its data directory; the one file a new sandbox keeps there.
LOCK_FILE = "sandbox.lock"
DATABASE_FILE = "helpdesk.db"


@dataclass
class Sandbox:
    slack: FakeSlack
    mail: MailCatcher
    shop: FakeShopify
    you: str  # the agent the sandbox page acts as
    signing_secret: str
    policy: Policy  # what the helpdesk runs with: the demo policy unless HELPDESK_CONFIG is set
    support_channel: str
    data_dir: Path
    lock: TextIO  # open while the sandbox runs; closing it releases the lock

    def stop(self) -> None:
        self.shop.stop()
        self.mail.stop()
        self.slack.stop()
        self.lock.close()

    def reset_workspace(self) -> None:
        """Slack, the mail catcher and the stored files as they were at start (the database
        is the caller's: bot/sandbox/demo_data.py)."""
        self.slack.reset()
        self.mail.clear()
        _seed_workspace(self)
        _empty_data_dir(self.data_dir, keep_database=True)
        _seed_articles(self)


def refuse_real_slack(settings: Settings) -> None:
    """The sandbox never runs beside real credentials, so it can't post into a workspace."""
    for name, value in (
        ("SLACK_BOT_TOKEN", settings.slack_bot_token),
        ("SLACK_APP_TOKEN", settings.slack_app_token),
    ):
        if value:
            raise ConfigError(
                f"{name} is set, and the sandbox only runs without Slack credentials: unset "
                f"{name} (and SLACK_SIGNING_SECRET) to try the sandbox, or run `helpdesk serve` "
                "without --sandbox to use your workspace"
            )
    for name, host in (
        ("HELPDESK_HTTP_HOST", settings.helpdesk_http_host),
        ("HELPDESK_SMTP_LISTEN", settings.smtp_listen[0] if settings.smtp_listen else LOOPBACK),
    ):
        if not _is_loopback(host):
            raise ConfigError(
                f"{name}={host!r}: the sandbox listens on this machine only (127.0.0.1), so "
                f"that nobody else can reach it; unset {name} or set it to 127.0.0.1"
            )


def sandbox_policy(settings: Settings, policy: Policy) -> Policy:
    """`policy` when HELPDESK_CONFIG names one, else the demo policy: a sandbox started
    without one still shows SLA clocks, tags, escalation tiers and surveys."""
    return policy if settings.helpdesk_config is not None else load_policy(DEMO_POLICY)


def start_sandbox(settings: Settings, policy: Policy) -> tuple[Sandbox, Settings]:
    """Starts the stand-ins, and returns them with the settings that point the helpdesk at
    them. The sandbox starts empty each time: its Slack lives in memory, so its database
    (under the data directory) is new too. Only one sandbox runs per data directory."""
    refuse_real_slack(settings)
    stored = sandbox_storage(settings)
    data_dir = stored.helpdesk_data_dir
    lock = _claim(data_dir)
    _empty_data_dir(data_dir, keep_database=False)
    policy = sandbox_policy(settings, policy)
    if settings.helpdesk_config is None:
        kb = KbPolicy(path=data_dir / KB_FOLDER, name="Sandbox shop")
        policy = policy.model_copy(update={"kb": kb})
    slack = FakeSlack(LOOPBACK, max_recorded=MAX_RECORDED_CALLS).start()
    mail = MailCatcher(LOOPBACK).start()
    shop = open_demo_shop(LOOPBACK)
    you = policy.agents[0] if policy.agents else SANDBOX_USER
    support = settings.helpdesk_support_channel or SUPPORT_CHANNEL
    sandbox = Sandbox(
        slack, mail, shop, you, secrets.token_hex(16), policy, support, data_dir, lock
    )
    _seed_workspace(sandbox)
    _seed_articles(sandbox)
    sandboxed = stored.model_copy(
        update={
            "slack_bot_token": slack.bot_token,
            "slack_signing_secret": sandbox.signing_secret,
            "slack_api_url": slack.url,
            "helpdesk_support_channel": support,
            "helpdesk_escalation_channel": settings.helpdesk_escalation_channel
            or ESCALATION_CHANNEL,
            "helpdesk_digest_channel": settings.helpdesk_digest_channel or DIGEST_CHANNEL,
            "helpdesk_support_address": settings.helpdesk_support_address or SUPPORT_ADDRESS,
            "outbound_smtp_url": mail.url,
            # Surveys are signed with it; a fresh one each run lets the sandbox send them.
            "helpdesk_secret_key": settings.helpdesk_secret_key or secrets.token_hex(16),
            "imap_url": None,
            "shopify_shop": shop.shop,
            "shopify_access_token": shop.token,
            "shopify_api_url": shop.url,
            **(
                {}
                if "helpdesk_public_url" in settings.model_fields_set
                else {"helpdesk_public_url": f"http://127.0.0.1:{settings.helpdesk_http_port}"}
            ),
        }
    )
    return sandbox, sandboxed


def sandbox_storage(settings: Settings) -> Settings:
    """The settings pointed at the sandbox's database and files, under the data directory:
    where the sandbox keeps them, and where `helpdesk --sandbox …` finds them."""
    data_dir = settings.helpdesk_data_dir / "sandbox"
    return settings.model_copy(
        update={
            "database_url": f"sqlite:///{data_dir / DATABASE_FILE}",
            "helpdesk_data_dir": data_dir,
        }
    )


def _claim(data_dir: Path) -> TextIO:
    """The data directory's lock, taken before anything there is touched: a second sandbox
    would otherwise delete the running one's database, and only then fail on its port."""
    data_dir.mkdir(parents=True, exist_ok=True)
    lock = (data_dir / LOCK_FILE).open("a+", encoding="utf-8")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock.seek(0)
        holder = lock.read().strip() or "unknown"
        lock.close()
        raise ConfigError(
            f"another sandbox (process {holder}) is running with {data_dir}: use that one, "
            "stop it first, or give this one its own HELPDESK_DATA_DIR"
        ) from None
    lock.seek(0)
    lock.truncate()
    lock.write(f"{os.getpid()}\n")
    lock.flush()
    return lock


def _empty_data_dir(data_dir: Path, *, keep_database: bool) -> None:
    """Everything there goes but the lock, and the database when it is open (a reset empties
    that through its connection: bot/sandbox/demo_data.py)."""
    for entry in data_dir.iterdir():
        if entry.name == LOCK_FILE or (keep_database and entry.name.startswith(DATABASE_FILE)):
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)


def _seed_articles(sandbox: Sandbox) -> None:
    """The demo's articles, fresh copies (new modification times, so the knowledge base reads
    them again after Start over emptied its index)."""
    kb = sandbox.policy.kb
    if kb is None or kb.path != sandbox.data_dir / KB_FOLDER:
        return
    kb.path.mkdir(exist_ok=True)
    for article in DEMO_ARTICLES.glob("*.md"):
        shutil.copyfile(article, kb.path / article.name)


def _seed_workspace(sandbox: Sandbox) -> None:
    """The channels and people the helpdesk expects, named as a small team would name them,
    and the app's direct messages with the page's user."""
    slack, policy, support = sandbox.slack, sandbox.policy, sandbox.support_channel
    slack.add_user(sandbox.you, "you", real_name="You (sandbox agent)", email="you@sandbox.example")
    slack.add_user(TEAMMATE, "sam", real_name="Sam (teammate)", email="sam@sandbox.example")
    people = [sandbox.you, TEAMMATE, *(policy.agents or [])]
    for tier in policy.escalation.tiers:
        people.extend(u for u in tier.notify if u.startswith("U"))
    for user_id in dict.fromkeys(people):
        if user_id not in (sandbox.you, TEAMMATE):
            slack.add_user(user_id, user_id.lower(), real_name=f"Agent {user_id}")
    members = list(dict.fromkeys(people))
    channels = {
        support: "support",
        ESCALATION_CHANNEL: "escalations",
        DIGEST_CHANNEL: "support-metrics",
    }
    for tier in policy.escalation.tiers:
        channels.setdefault(tier.channel, _channel_name(tier.name))
    for inbox in policy.inboxes:
        channels.setdefault(inbox.channel, _channel_name(inbox.address.split("@")[0]))
    for extra in (policy.chat.channel, policy.digest.channel):
        if extra:
            channels.setdefault(extra, extra.lower())
    for channel_id, name in channels.items():
        slack.add_channel(channel_id, name, members=members)
    slack.direct_message_channel(sandbox.you)


def _channel_name(label: str) -> str:
    return "-".join(label.lower().split()) or "channel"


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
