from collections.abc import Iterator

import pytest
from slack_sdk import WebClient

from bot.devtools.fake_slack import FakeSlack

SUPPORT = "C0SUPPORT"


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        fake.add_channel(SUPPORT, "support")
        yield fake


@pytest.fixture
def client(slack: FakeSlack) -> WebClient:
    return WebClient(token=slack.bot_token, base_url=slack.url)
