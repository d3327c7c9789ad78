"""The roster from Slack, against the fake Web API over HTTP: the policy's list wins; else the
support channel's members, fetched page by page and kept a few minutes."""

from __future__ import annotations

from slack_sdk import WebClient

from bot.devtools.fake_slack import FakeSlack
from bot.integrations.slack_roster import SlackRoster

SUPPORT, TIER = "C0SUPPORT", "C0TIER2"


def test_without_a_policy_list_the_agents_are_the_support_channels_members():
    with FakeSlack() as slack:
        slack.add_channel(SUPPORT, "support", members=["U0ALEX", "U0SAM"])
        slack.add_channel(TIER, "tier-2", members=["U0KIM"])
        roster = SlackRoster(WebClient(token=slack.bot_token, base_url=slack.url), None, SUPPORT)

        assert roster.agents() == {"U0ALEX", "U0SAM"}
        assert roster.is_agent("U0SAM") and not roster.is_agent("U0KIM")
        assert roster.is_member(TIER, "U0KIM") and not roster.is_member(TIER, "U0ALEX")
        # Kept: asking again reads no page from Slack.
        fetched = len(slack.calls("conversations.members"))
        assert roster.agents() == {"U0ALEX", "U0SAM"} and roster.is_agent("U0ALEX")
        assert len(slack.calls("conversations.members")) == fetched


def test_the_policys_agents_list_is_the_roster_whoever_is_in_the_channel():
    with FakeSlack() as slack:
        slack.add_channel(SUPPORT, "support", members=["U0ALEX", "U0SAM"])
        roster = SlackRoster(
            WebClient(token=slack.bot_token, base_url=slack.url), ["U0KIM"], SUPPORT
        )

        assert roster.agents() == {"U0KIM"}
        assert roster.is_agent("U0KIM") and not roster.is_agent("U0ALEX")
        assert slack.calls("conversations.members") == []
