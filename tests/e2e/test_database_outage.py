"""PostgreSQL refusing connections under a running helpdesk: SMTP answers 451, then recovers."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bot.devtools.fake_slack import FakeSlack
from tests.conftest import postgres_server
from tests.e2e.harness import CHANNEL, customer_mail, running_helpdesk, smtp_send


def set_connections(database_url: str, allowed: bool) -> None:
    name = make_url(database_url).database
    admin = create_engine(postgres_server(), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(
            text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS {"true" if allowed else "false"}')
        )
        if not allowed:
            connection.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
                {"n": name},
            )
    admin.dispose()


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_smtp_answers_451_while_the_database_is_away(database_url):
    with FakeSlack() as slack, running_helpdesk(database_url, slack) as helpdesk:
        slack.add_channel(CHANNEL, "support")
        set_connections(database_url, allowed=False)
        try:
            code, answer = smtp_send(helpdesk.smtp.port, customer_mail("kept by the sender"))
            assert code == 451, answer
        finally:
            set_connections(database_url, allowed=True)
        # The sender's retry goes through once the database is back.
        mail = customer_mail("kept by the sender")
        assert smtp_send(helpdesk.smtp.port, mail)[0] == 250
        slack.wait_for(lambda: len(slack.calls("chat.postMessage")) >= 2, timeout=15)
