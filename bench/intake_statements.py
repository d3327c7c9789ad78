"""What one accepted mail costs the database: statements and round trips, per backend.

Feeds mail through the SMTP server's own path (`MailIngest`, as `create_app` builds it, with
a file store and a routed inbox, as in `ingest.py`) into a new database on SQLite and
PostgreSQL and counts, for each kind of mail, the SQL statements executed, the commits, and
the connection checkouts (each a `pre_ping` round trip on PostgreSQL). Kinds: a new ticket
from a new customer, a follow-up threaded by In-Reply-To, a new ticket from a known customer,
a redelivery of a mail already stored, each stored alone (`accept`, as the IMAP poller does);
then new tickets stored GROUP at a time (`accept_group`, as the SMTP server's `GroupCommit`
does when that many arrive together), per mail. Averaged over a few mails of each kind after
a warm-up. Not a benchmark of speed: these counts explain the intake rates of `ingest.py`.
`BENCH_INGEST_DATABASES` picks the backends (default both).
"""

from __future__ import annotations

import email.policy
import os
import sys
import tempfile
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from rich.console import Console
from rich.table import Table
from sqlalchemy import Engine, event

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.serving import postgres_database
from bot.config import Policy
from bot.core.attachments import FileStore
from bot.core.rules import desk_for
from bot.handlers.email.ingest import MailIngest
from bot.storage.db import make_engine
from bot.storage.migrate import upgrade
from tests.e2e.harness import CHANNEL, SUPPORT, customer_mail

DATABASES = os.environ.get("BENCH_INGEST_DATABASES", "sqlite,postgresql").lower().split(",")
REPEAT = 5
GROUP = 20
INBOX = "orders@shop.example"


class StatementCount:
    """Statements by their first word, commits and connection checkouts on one engine."""

    def __init__(self, engine: Engine):
        self.statements: Counter[str] = Counter()
        self.commits = 0
        self.checkouts = 0
        event.listen(engine, "before_cursor_execute", self._statement)
        event.listen(engine, "commit", self._commit)
        event.listen(engine.pool, "checkout", self._checkout)

    def _statement(self, conn, cursor, statement, parameters, context, executemany) -> None:
        self.statements[statement.split(None, 1)[0].upper()] += 1

    def _commit(self, conn) -> None:
        self.commits += 1

    def _checkout(self, *_) -> None:
        self.checkouts += 1

    def reset(self) -> None:
        self.statements.clear()
        self.commits = self.checkouts = 0


@contextmanager
def database(kind: str, folder: str) -> Iterator[Engine]:
    if kind == "sqlite":
        engine = make_engine(f"sqlite:///{folder}/statements.db")
        yield engine
        engine.dispose()
        return
    url, drop = postgres_database()
    engine = make_engine(url)
    try:
        yield engine
    finally:
        engine.dispose()
        drop()


def raw(mail) -> bytes:
    return mail.as_bytes(policy=email.policy.SMTP)


def kinds_of_mail(number: int) -> dict[str, bytes]:
    """Each kind of mail, in the order they are sent: each after the ones it relies on."""
    sender = f"customer{number}@customer.example"
    first = raw(customer_mail(f"first {number}", sender=sender, to=INBOX))
    follow_up = customer_mail(
        f"more {number}", sender=sender, to=INBOX, subject="Re: Where is my order?"
    )
    follow_up["In-Reply-To"] = customer_mail_id(first)
    again = customer_mail(f"again {number}", sender=sender, to=INBOX)
    return {
        "new ticket, new customer": first,
        "follow-up (In-Reply-To)": raw(follow_up),
        "new ticket, known customer": raw(again),
        "redelivery of a stored mail": first,
    }


def customer_mail_id(raw_mail: bytes) -> str:
    header = next(line for line in raw_mail.split(b"\r\n") if line.startswith(b"Message-ID:"))
    return header.split(b":", 1)[1].strip().decode()


def measure(kind: str, folder: str) -> dict[str, tuple[Counter[str], int, int]]:
    """Per kind of mail: statements by verb, commits and checkouts, summed over REPEAT mails."""
    with database(kind, folder) as engine:
        upgrade(engine)
        desk = desk_for(
            Policy.model_validate({"inboxes": [{"address": INBOX, "channel": "C0ORDERS"}]}),
            support_channel=CHANNEL, support_address=SUPPORT,
            files=FileStore(Path(folder) / "files"),
        )  # fmt: skip
        ingest = MailIngest(engine, desk)
        count = StatementCount(engine)
        totals: dict[str, tuple[Counter[str], int, int]] = {}
        for number in range(REPEAT + 1):
            for name, mail in kinds_of_mail(number).items():
                count.reset()
                ingest.accept(mail, [INBOX])
                if number == 0:
                    continue  # the warm-up: first connections, caches
                statements, commits, checkouts = totals.get(name, (Counter(), 0, 0))
                totals[name] = (
                    statements + count.statements,
                    commits + count.commits,
                    checkouts + count.checkouts,
                )
        senders = [f"grouped{n}@customer.example" for n in range(GROUP * REPEAT)]
        group = [(raw(customer_mail("together", sender=s, to=INBOX)), [INBOX]) for s in senders]
        count.reset()
        for start in range(0, len(group), GROUP):
            ingest.accept_group(group[start : start + GROUP])
        totals[f"new ticket, new customer, {GROUP} together"] = (
            count.statements, count.commits, count.checkouts,
        )  # fmt: skip
        return totals


def main() -> None:
    console = Console()
    with tempfile.TemporaryDirectory() as folder:
        for kind in DATABASES:
            table = Table(title=f"One accepted mail on {kind}: statements and round trips")
            for column in ("mail", "statements", "by verb", "commits", "checkouts"):
                left = column in ("mail", "by verb")
                table.add_column(column, justify="left" if left else "right")
            for name, (statements, commits, checkouts) in measure(kind, folder).items():
                mails = REPEAT * (GROUP if "together" in name else 1)
                verbs = ", ".join(f"{v} {n / mails:g}" for v, n in statements.most_common())
                table.add_row(
                    name,
                    f"{statements.total() / mails:g}",
                    verbs,
                    f"{commits / mails:g}",
                    f"{checkouts / mails:g}",
                )
            console.print(table)


if __name__ == "__main__":
    main()
