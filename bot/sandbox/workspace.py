"""The sandbox's stand-ins for the outside world: Slack, a mail catcher and a shop.

`helpdesk serve --sandbox` runs the real helpdesk against these instead of Slack and the
team's mail provider, so that someone can try it on one machine without a workspace. Both
listen on loopback only, and the sandbox refuses to start beside real Slack credentials.
"""

from __future__ import annotations

import ipaddress
import secrets
import shutil
import threading
from dataclasses import dataclass, field

from bot.config import ConfigError, Policy, Settings
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


@dataclass
class Sandbox:
    slack: FakeSlack
    mail: MailCatcher
    shop: FakeShopify
    you: str  # the agent the sandbox page acts as
    signing_secret: str
    closing: threading.Event = field(default_factory=threading.Event)

    def stop(self) -> None:
        self.shop.stop()
        self.mail.stop()
        self.slack.stop()


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


def start_sandbox(settings: Settings, policy: Policy) -> tuple[Sandbox, Settings]:
    """Starts the stand-ins, and returns them with the settings that point the helpdesk at
    them. The sandbox starts empty each time: its Slack lives in memory, so its database
    (under the data directory) is new too."""
    refuse_real_slack(settings)
    slack = FakeSlack(LOOPBACK, max_recorded=MAX_RECORDED_CALLS).start()
    mail = MailCatcher(LOOPBACK).start()
    shop = open_demo_shop(LOOPBACK)
    you = policy.agents[0] if policy.agents else SANDBOX_USER
    sandbox = Sandbox(slack, mail, shop, you, secrets.token_hex(16))
    support = settings.helpdesk_support_channel or SUPPORT_CHANNEL
    _seed_workspace(sandbox, policy, support)
    data_dir = settings.helpdesk_data_dir / "sandbox"
    shutil.rmtree(data_dir, ignore_errors=True)
    data_dir.mkdir(parents=True)
    sandboxed = settings.model_copy(
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
            "database_url": f"sqlite:///{data_dir / 'helpdesk.db'}",
            "helpdesk_data_dir": data_dir,
            # Surveys are signed with it; a fresh one lets the sandbox show them.
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


def _seed_workspace(sandbox: Sandbox, policy: Policy, support: str) -> None:
    """The channels and people the helpdesk expects, named as a small team would name them."""
    slack = sandbox.slack
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


def _channel_name(label: str) -> str:
    return "-".join(label.lower().split()) or "channel"


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
