"""Mail ingest: a burst of email over SMTP into `helpdesk serve`, and its drain into Slack.

Intake: N emails (BENCH_INGEST_MAILS, default 2,000) from C concurrent SMTP clients
(BENCH_INGEST_CLIENTS, default 20), one connection each, every good one a new ticket for one of
five routed addresses. One in ten is bad traffic: unknown recipients, an HTTP request, RCPT
before MAIL, a broken sender address, a line over SMTP's 1,000 characters, and mail over
HELPDESK_MAX_MESSAGE_BYTES (its 25 MiB default), announced with SIZE or sent whole. Measures good
mail answered 250 per second of wall time (the helpdesk commits before it answers 250), each
conversation's time to its deciding answer, and what every bad one was told. Control: the same
good mail without the bad traffic, sent to a second new server with its own new database, so
that a slowdown caused by the bad traffic would show. Slack is not rate limited in this phase
and the outbox posts into it meanwhile, as in production: the time until every accepted mail is
in its thread is reported apart from the time until the last was accepted.

Baseline in the same run: the same two loads against a bare aiosmtpd server in its own process
that refuses the same recipients and sizes and discards what it accepts. The ratio of rates is
the cost of parsing, threading and storing. The client threads (a few hundred conversations a
second here) bound the bare server's rate too, so the ratio understates that cost.

Drain: a smaller burst (BENCH_INGEST_DRAIN_MAILS, default 120; new tickets, and follow-ups that
thread into them) spread unevenly over the five routed channels, the busiest channel's mail
first as when an outage starts, while the fake Slack allows
`chat.postMessage` 1 per second per channel with a burst of 3, as Slack documents, answering
429 with Retry-After beyond that. Measures the time until every message is in its thread, per
channel and overall, against the floor that rate implies for the posts each channel needed: the
busiest channel's, where channels drained one after another would take the sum. Checks that
each message is in its ticket's thread once, in the order it was accepted.

Memory: the server's resident memory idle, at the end of intake and after the drain.

Runs the real `helpdesk serve` as a subprocess with the fake Slack Web API on loopback, on
SQLite and on PostgreSQL (TEST_POSTGRES_URL; a fresh database is created and dropped), or on
those BENCH_INGEST_DATABASES names (`sqlite`, `postgresql`). The machine's two cores are shared
by the client threads and the fake Slack (this process), the server under test, and PostgreSQL
when it runs. Not a test: it measures, and checks only that the helpdesk accepted every good
mail and refused every bad one, and that each accepted mail reached its thread once and in
order (else it exits 1).
"""

from __future__ import annotations

import functools
import logging
import multiprocessing
import random
import re
import smtplib
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.policy import SMTP
from itertools import accumulate
from pathlib import Path
from statistics import median

import yaml
from aiosmtpd.controller import Controller
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.serving import percentile99, postgres_database, record, rss_mb, served, size, verdict
from bot.config import Settings
from bot.devtools.fake_slack import FakeSlack, RecordedRequest
from tests.conftest import free_port
from tests.e2e.harness import CHANNEL, SUPPORT, customer_mail, serve_environment

MAILS = size("BENCH_INGEST_MAILS", 2000, 100)
CLIENTS = size("BENCH_INGEST_CLIENTS", 20, 10)
DRAIN_MAILS = size("BENCH_INGEST_DRAIN_MAILS", 120, 12)
# A quick run: PostgreSQL here, SQLite in ack_latency.py (see there).
DATABASES = size("BENCH_INGEST_DATABASES", "sqlite,postgresql", "postgresql").lower().split(",")

MAX_BYTES = Settings.model_fields["helpdesk_max_message_bytes"].default
POSTS_PER_SECOND = 1.0  # chat.postMessage per channel, as Slack documents it
POST_BURST = 3
FOLLOW_UP_SHARE = 0.3  # of the drain burst: follow-ups in the thread of an earlier mail
ANSWER_TIMEOUT = 120
SEED = 2026

# (address, channel, share of the mail): a shipping outage weighs on one channel.
OUTAGE_CHANNEL = "C0SHIPPING"
ROUTES = (
    ("shipping@shop.example", OUTAGE_CHANNEL, 0.30),
    ("orders@shop.example", "C0ORDERS", 0.25),
    ("returns@shop.example", "C0RETURNS", 0.20),
    ("billing@shop.example", "C0BILLING", 0.15),
    (SUPPORT, CHANNEL, 0.10),
)
ACCEPTED_ADDRESSES = frozenset(address for address, _, _ in ROUTES)
TOKEN = re.compile(r"bench mail (m\d+)")
GOOD = "good mail"
CONTROL = "good mail alone"

Reply = tuple[int, bytes]


@dataclass(eq=False)
class Mail:
    """A customer's email: a new ticket, or a follow-up in the thread of `after`'s ticket."""

    token: str  # in the body, so that its message can be found in Slack
    recipient: str
    channel: str
    sender: str
    raw: bytes
    after: Mail | None = None  # sent only once that one is answered, so the order is known
    answered: threading.Event = field(default_factory=threading.Event)

    def talk(self, client: smtplib.SMTP) -> Reply:
        code, answer = client.mail(self.sender)
        if code == 250:
            code, answer = client.rcpt(self.recipient)
        return client.data(self.raw) if code == 250 else (code, answer)

    @property
    def first(self) -> Mail:
        """The mail that opened this one's ticket."""
        return self if self.after is None else self.after.first


@dataclass(frozen=True)
class BadTraffic:
    kind: str
    per_thousand: int  # of all the intake's conversations
    talk: Callable[[smtplib.SMTP], Reply]


@dataclass(frozen=True)
class Outcome:
    kind: str
    code: int  # the deciding SMTP answer; 0 when the connection failed first
    answer: str
    seconds: float  # from connecting to that answer
    mail: Mail | None = None

    @property
    def ticket(self) -> int | None:
        found = re.search(r"ticket #(\d+)", self.answer)
        return int(found[1]) if found else None


# -- the load --------------------------------------------------------------------------------


def _unknown_recipient(client: smtplib.SMTP) -> Reply:
    client.mail("jane@customer.example")
    return client.rcpt("nobody@shop.example")


def _line_too_long(client: smtplib.SMTP) -> Reply:
    client.mail("jane@customer.example")
    client.rcpt(SUPPORT)
    return client.data(b"Subject: one line\r\n\r\n" + b"x" * 5000 + b"\r\n")


def _oversized_announced(client: smtplib.SMTP) -> Reply:
    return client.mail("jane@customer.example", [f"SIZE={MAX_BYTES + 1}"])


def _oversized_sent(client: smtplib.SMTP) -> Reply:
    client.mail("jane@customer.example")
    client.rcpt(SUPPORT)
    code, answer = client.docmd("DATA")
    if code != 354:
        return code, answer
    client.send(_oversized_data())  # already in DATA's wire form: smtplib's quoting is slow
    return client.getreply()


@functools.cache
def _oversized_data() -> bytes:
    line = b"y" * 76 + b"\r\n"
    return b"Subject: big\r\n\r\n" + line * (MAX_BYTES // len(line) + 1) + b".\r\n"


BAD_TRAFFIC = (
    BadTraffic("unknown rcpt", 30, _unknown_recipient),
    BadTraffic("HTTP request", 20, lambda client: client.docmd("GET / HTTP/1.1")),
    BadTraffic("RCPT first", 15, lambda client: client.rcpt(SUPPORT)),
    BadTraffic("broken sender", 15, lambda client: client.docmd("MAIL", "FROM:<jane@")),
    BadTraffic("long line", 10, _line_too_long),
    BadTraffic("too big, SIZE", 8, _oversized_announced),
    BadTraffic("too big, whole", 2, _oversized_sent),
)


def new_mail(number: int, route: tuple[str, str, float], after: Mail | None = None) -> Mail:
    address, channel, _ = route
    token = f"m{number:06d}"
    if after is None:
        sender, subject, in_reply_to = f"customer{number}@customer.example", "Order?", None
    else:
        message_id = re.search(rb"^Message-ID: (\S+)", after.raw, re.MULTILINE)[1].decode()
        sender, subject, in_reply_to = after.sender, "Re: Order?", message_id
    mail = customer_mail(
        f"Hello, any news? (bench mail {token})",
        subject=subject,
        sender=sender,
        to=address,
        in_reply_to=in_reply_to,
    )
    return Mail(token, address, channel, sender, mail.as_bytes(policy=SMTP), after)


def new_tickets(count: int, rng: random.Random, first_number: int) -> list[Mail]:
    weights = [share for _, _, share in ROUTES]
    return [
        new_mail(number, rng.choices(ROUTES, weights)[0])
        for number in range(first_number, first_number + count)
    ]


def intake_load(count: int, rng: random.Random) -> list[Mail | BadTraffic]:
    """`count` conversations: the bad traffic and new tickets, shuffled."""
    load: list[Mail | BadTraffic] = [
        bad for bad in BAD_TRAFFIC for _ in range(round(count * bad.per_thousand / 1000))
    ]
    load += new_tickets(count - len(load), rng, first_number=0)
    rng.shuffle(load)
    return load


def drain_burst(count: int, rng: random.Random, first_number: int) -> list[Mail]:
    """New tickets and, mixed in, follow-ups sent once the ticket's previous mail is answered.

    The outage's channel's mail comes first, as it does when an outage starts, then the other
    channels' mail: the others must not wait for the outage's backlog to drain.
    """
    newest: dict[Mail, Mail] = {}  # a ticket's first mail -> its latest one
    burst: list[Mail] = []
    for number in range(first_number, first_number + count):
        if newest and rng.random() < FOLLOW_UP_SHARE:
            previous = newest[rng.choice(list(newest))]
            route = next(r for r in ROUTES if r[0] == previous.recipient)
            mail = new_mail(number, route, after=previous)
        else:
            mail = new_tickets(1, rng, number)[0]
        newest[mail.first] = mail
        burst.append(mail)
    # Stable, and a follow-up's channel is its ticket's: each still comes after its `after`.
    return sorted(burst, key=lambda mail: mail.channel != OUTAGE_CHANNEL)


# -- the clients -----------------------------------------------------------------------------


def converse(port: int, item: Mail | BadTraffic, kind: str) -> Outcome:
    """One SMTP conversation, from connecting to the answer that decides it."""
    mail = item if isinstance(item, Mail) else None
    if mail is not None and mail.after is not None:
        mail.after.answered.wait(ANSWER_TIMEOUT)
    started = time.perf_counter()
    try:
        with smtplib.SMTP("127.0.0.1", port, timeout=ANSWER_TIMEOUT) as client:
            client.ehlo("bench.example")
            code, answer = item.talk(client)
            seconds = time.perf_counter() - started
    except smtplib.SMTPResponseException as refused:  # e.g. DATA refused before 354
        code, answer = refused.smtp_code, refused.smtp_error
        seconds = time.perf_counter() - started
    except (smtplib.SMTPException, OSError) as exc:
        code, answer = 0, type(exc).__name__.encode()
        seconds = time.perf_counter() - started
    finally:
        if mail is not None:
            mail.answered.set()
    return Outcome(kind, code, answer.decode(errors="replace"), seconds, mail)


def send_all(
    port: int, load: list[Mail | BadTraffic], progress: Progress, label: str, kind: str = GOOD
) -> tuple[list[Outcome], float]:
    """Every conversation from CLIENTS threads; the outcomes and the wall time they took.

    Good mail's outcomes are of `kind`, the bad traffic's of its own.
    """
    task = progress.add_task(label, total=len(load))
    started = time.perf_counter()
    with ThreadPoolExecutor(CLIENTS) as pool:
        futures = [  # taken in order, so a follow-up's `after` is always under way before it
            pool.submit(converse, port, item, kind if isinstance(item, Mail) else item.kind)
            for item in load
        ]
        outcomes = []
        for future in as_completed(futures):
            outcomes.append(future.result())
            progress.advance(task)
    return outcomes, time.perf_counter() - started


class DiscardingHandler:
    """The baseline's handler: the helpdesk's refusals (sizes are the controller's), no work."""

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options) -> str:
        if address.lower() not in ACCEPTED_ADDRESSES:
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope) -> str:
        return "250 2.0.0 Accepted"


def serve_discarding(port: int) -> None:
    logging.disable(logging.CRITICAL)  # aiosmtpd logs every bad conversation
    controller = Controller(
        DiscardingHandler(), hostname="127.0.0.1", port=port, data_size_limit=MAX_BYTES,
        decode_data=False, server_hostname="bare", ready_timeout=10,
    )  # fmt: skip
    controller.start()
    threading.Event().wait()


@contextmanager
def bare_smtp_server() -> Iterator[int]:
    """A bare aiosmtpd server in its own process, as the helpdesk's is; yields its port."""
    port = free_port()
    process = multiprocessing.get_context("spawn").Process(target=serve_discarding, args=(port,))
    process.start()
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or not process.is_alive():
                    raise SystemExit("the bare aiosmtpd server did not come up") from None
                time.sleep(0.1)
        yield port
    finally:
        process.terminate()
        process.join(10)


# -- what reached Slack ----------------------------------------------------------------------


def posts(slack: FakeSlack, since: int) -> list[RecordedRequest]:
    """chat.postMessage calls from request number `since` on, answered or refused."""
    return [r for r in slack.requests[since:] if r.method == "chat.postMessage"]


def wait_in_slack(
    slack: FakeSlack, since: int, mails: list[Mail], progress: Progress, label: str, limit: float
) -> float | None:
    """Waits until every mail's message is posted; the time of the last post, else None."""
    task = progress.add_task(label, total=len(mails))
    wanted = {mail.token for mail in mails}
    deadline = time.monotonic() + limit
    while True:
        posted = [r for r in posts(slack, since) if r.ok]
        landed = {m[1] for r in posted if (m := TOKEN.search(str(r.args.get("text", ""))))}
        progress.update(task, completed=len(wanted & landed))
        if wanted <= landed:
            return max(r.time for r in posted)
        if time.monotonic() > deadline:
            return None
        time.sleep(0.2)


@dataclass
class ThreadCheck:
    missing: int = 0  # accepted, but not in Slack
    doubled: int = 0  # posted more than once
    misplaced: int = 0  # not in its ticket's thread, or that thread not in its routed channel
    out_of_order: int = 0  # threads whose messages are not in the order they were accepted
    roots_out_of_order: int = 0  # roots posted after the root of a later ticket, per channel

    def __str__(self) -> str:
        return (
            f"messages missing {self.missing}, posted twice {self.doubled}, in a wrong thread "
            f"{self.misplaced}; threads out of order {self.out_of_order}"
        )

    @property
    def wrong(self) -> bool:
        return bool(self.missing or self.doubled or self.misplaced or self.out_of_order)


def check_threads(slack: FakeSlack, accepted: list[Outcome]) -> ThreadCheck:
    """Is each accepted mail in its ticket's thread, in its channel, once and in order?"""
    ticket_of = {o.mail: o.ticket for o in accepted}
    expected: dict[int, list[Mail]] = defaultdict(list)  # ticket -> its mails, accepted order
    check = ThreadCheck()
    for mail in sorted(ticket_of, key=depth):
        ticket = ticket_of.get(mail.first, ticket_of[mail])
        expected[ticket].append(mail)
        check.misplaced += ticket_of[mail] != ticket  # a follow-up that opened a new ticket
    threads: dict[tuple[str, str], int] = {}  # (channel, root ts) -> its ticket
    placed: dict[str, tuple[str, int | None]] = {}  # token -> (channel, ticket of its thread)
    in_thread: dict[int | None, list[str]] = defaultdict(list)  # ticket -> tokens, oldest first
    seen: Counter[str] = Counter()
    for channel in dict.fromkeys(c for _, c, _ in ROUTES):
        roots: list[int] = []
        for message in slack.messages_in(channel):  # oldest first
            if message.get("thread_ts") in (None, message["ts"]):
                ticket = message.get("metadata", {}).get("event_payload", {}).get("ticket")
                threads[channel, message["ts"]] = ticket
                roots += [ticket] if ticket in expected else []
            elif token := TOKEN.search(message["text"]):
                ticket = threads.get((channel, message["thread_ts"]))
                seen[token[1]] += 1
                placed[token[1]] = (channel, ticket)
                in_thread[ticket].append(token[1])
        check.roots_out_of_order += sum(
            n < top for n, top in zip(roots[1:], accumulate(roots[:-1], max), strict=True)
        )
    for ticket, mails in expected.items():
        wanted = [mail.token for mail in mails]
        check.missing += sum(seen[token] == 0 for token in wanted)
        check.doubled += sum(seen[token] > 1 for token in wanted)
        check.misplaced += sum(
            seen[m.token] > 0 and placed[m.token] != (m.channel, ticket) for m in mails
        )
        order = list(dict.fromkeys(t for t in in_thread[ticket] if t in wanted))
        check.out_of_order += order != [t for t in wanted if t in order]
    return check


def depth(mail: Mail) -> int:
    return 0 if mail.after is None else 1 + depth(mail.after)


# -- the phases ------------------------------------------------------------------------------


def intake_table(
    name: str,
    runs: dict[str, list[tuple[list[Outcome], float]]],  # server -> (control, with bad traffic)
    slack_seconds: float | None,
    check: ThreadCheck,
    memory: tuple[float, float, float],
) -> Table:
    table = Table(
        title=f"Intake ({name}): {MAILS:,} mails, one in ten bad, from {CLIENTS} SMTP clients, "
        f"and the same good mail alone to a second new server; SMTP answers, ms to them"
    )
    table.add_column("traffic")
    for server in runs:
        table.add_column(server, justify="right")
        table.add_column("median", justify="right")
        table.add_column("p99", justify="right")
    by_kind: dict[str, dict[str, list[Outcome]]] = {}
    for server, server_runs in runs.items():
        by_kind[server] = defaultdict(list)
        for outcomes, _ in server_runs:
            for outcome in outcomes:
                by_kind[server][outcome.kind].append(outcome)
    for kind in (CONTROL, GOOD, *(bad.kind for bad in BAD_TRAFFIC)):
        if not by_kind["helpdesk"][kind]:
            continue  # a small BENCH_INGEST_MAILS leaves the rarest bad traffic out
        row = [kind]
        for server in runs:
            row += [answers(by_kind[server][kind]), *timing(by_kind[server][kind])]
        table.add_row(*row)

    alone, amid = (accepted_per_second(*run) for run in runs["helpdesk"])
    bare_alone, bare_amid = (accepted_per_second(*run) for run in runs["bare aiosmtpd"])
    mixed, wall = runs["helpdesk"][1]
    bad = [o for o in mixed if o.mail is None]
    slack = f"{slack_seconds:.1f} s" if slack_seconds is not None else "not within 10 minutes"
    idle, after_intake, after_drain = memory
    record(
        "SMTP intake, good mail committed",
        f"{name}, amid bad traffic",
        f"{amid:.0f}/s, RSS {idle:.0f} -> {after_intake:.0f} MB",
        f"{bare_amid:.0f}/s bare aiosmtpd",
        f"{amid / bare_amid:.2f}x its rate",
    )
    table.caption = (
        f"Good mail accepted and committed: helpdesk {amid:.0f}/s amid the bad traffic, "
        f"{alone:.0f}/s alone; bare aiosmtpd {bare_amid:.0f}/s and {bare_alone:.0f}/s; "
        f"helpdesk/bare {amid / bare_amid:.2f} and {alone / bare_alone:.2f}. The helpdesk "
        f"refused {sum(o.code >= 400 for o in bad)} of {len(bad)} bad conversations. The "
        f"{MAILS:,} were answered in {wall:.1f} s; every accepted mail was in its thread in "
        f"Slack (not rate limited) after {slack}: {check}. Server RSS idle {idle:.0f} MB, end "
        f"of intake {after_intake:.0f} MB, after the drain {after_drain:.0f} MB."
    )
    return table


def answers(outcomes: list[Outcome]) -> str:
    codes = Counter(o.code for o in outcomes)
    return ", ".join(f"{code or 'none'} x{n:,}" for code, n in sorted(codes.items()))


def timing(outcomes: list[Outcome]) -> tuple[str, str]:
    seconds = [o.seconds for o in outcomes]
    return f"{median(seconds) * 1000:.0f}", f"{percentile99(seconds) * 1000:.0f}"


def wrong_answers(phase: str, outcomes: list[Outcome]) -> list[str]:
    """Good mail the helpdesk did not accept, and bad conversations it did not refuse."""
    kept = [o for o in outcomes if o.mail is not None and o.code != 250]
    let_in = [o for o in outcomes if o.mail is None and o.code < 400]
    return [
        f"{phase}: {len(found)} {what} ({answers(found)})"
        for found, what in ((kept, "good mails not accepted"), (let_in, "bad ones not refused"))
        if found
    ]


def wrong_in_slack(phase: str, landed: float | None, check: ThreadCheck) -> list[str]:
    """Accepted mail that did not reach Slack in time, or was lost, doubled or misplaced."""
    problems = [f"{phase}: {check}"] if check.wrong else []
    if landed is None:
        problems.append(f"{phase}: not all in Slack in time")
    return problems


def accepted_per_second(outcomes: list[Outcome], wall: float) -> float:
    return sum(o.mail is not None and o.code == 250 for o in outcomes) / wall


def drain_table(
    name: str, slack: FakeSlack, port: int, progress: Progress
) -> tuple[Table, list[str]]:
    """The drain burst under Slack's per-channel rate limit, channel by channel; and what it
    got wrong."""
    burst = drain_burst(DRAIN_MAILS, random.Random(SEED + 1), MAILS)
    needed: Counter[str] = (
        Counter()
    )  # channel -> posts: a new ticket's root and message, a follow-up's message
    for mail in burst:
        needed[mail.channel] += 1 if mail.after else 2
    serial = sum(floor_seconds(n) for n in needed.values())
    slack.set_rate_limit("chat.postMessage", POSTS_PER_SECOND, burst=POST_BURST)
    since, started = len(slack.requests), time.time()
    outcomes, accepting = send_all(port, burst, progress, f"drain ({name}): sending")
    accepted = [o for o in outcomes if o.code == 250]
    last = wait_in_slack(
        slack, since, [o.mail for o in accepted], progress, f"drain ({name}): in Slack",
        limit=2 * serial + 60,
    )  # fmt: skip
    check = check_threads(slack, accepted)

    calls = posts(slack, since)
    table = Table(
        title=f"Drain ({name}): {DRAIN_MAILS} mails, {OUTAGE_CHANNEL}'s first, into Slack at "
        f"{POSTS_PER_SECOND:g} post/s per channel, burst {POST_BURST}; seconds from the first mail"
    )
    columns = ("channel", "tickets", "mails", "posts", "429s", "floor s", "first s", "last s")
    for column in columns:
        table.add_column(column, justify="left" if column == "channel" else "right")
    floors = []
    for _, channel, _ in ROUTES:
        mine = [r for r in calls if r.args.get("channel") == channel]
        landed = [r.time - started for r in mine if r.ok]
        floors.append(floor_seconds(len(landed)))
        first, done = (f"{min(landed):.1f}", f"{max(landed):.1f}") if landed else ("-", "-")
        table.add_row(
            channel,
            str(sum(o.mail.channel == channel and o.mail.after is None for o in accepted)),
            str(sum(o.mail.channel == channel for o in accepted)),
            str(len(landed)),
            str(sum(r.status == 429 for r in mine)),
            f"{floors[-1]:.0f}",
            first,
            done,
        )
    floor = max(floors)
    if last is None:
        drained = f"not within {2 * serial + 60:.0f} s"
    else:
        seconds = last - started
        drained = f"{seconds:.1f} s" + (f" ({seconds / floor:.2f}x the floor)" if floor else "")
        record(
            f"drain, 1 post/s per channel, {len(needed)} channels",
            name,
            f"{seconds:.1f} s",
            f"{floor:.0f} s floor, {serial:.0f} s one channel after another",
            f"{seconds / floor:.2f}x the floor" if floor else "",
        )
    table.caption = (
        f"Every message in its thread after {drained}; the floor is {floor:.0f} s (the busiest "
        f"channel's), {serial:.0f} s channel after channel. First and last: when the channel's "
        f"first and last posts landed; a first post that comes late waited for another "
        f"channel's backlog. Accepted in {accepting:.1f} s. Posts needed "
        f"{sum(needed.values())} (2 per new ticket, 1 per follow-up), made "
        f"{sum(r.ok for r in calls)}; 429s {sum(r.status == 429 for r in calls)}. Checks: {check}; "
        f"roots posted after a later ticket's root {check.roots_out_of_order}."
    )
    phase = f"{name} drain"
    return table, wrong_answers(phase, outcomes) + wrong_in_slack(phase, last, check)


def floor_seconds(posts_needed: int) -> float:
    """The least time a channel's posts take at the rate limit, after its burst."""
    return max(0, posts_needed - POST_BURST) / POSTS_PER_SECOND


@contextmanager
def fresh_database(kind: str, folder: str) -> Iterator[str]:
    """The URL of a new, empty database: a file for SQLite, a database on the PostgreSQL server."""
    if kind == "sqlite":
        yield f"sqlite:///{folder}/{uuid.uuid4().hex}.db"
        return
    url, drop = postgres_database()
    try:
        yield url
    finally:
        drop()


@contextmanager
def helpdesk(url: str) -> Iterator[tuple[subprocess.Popen, int, FakeSlack]]:
    """`helpdesk serve` on this database, routing the five addresses to their channels in the
    fake Slack; yields the process, its SMTP port and the fake Slack."""
    with tempfile.TemporaryDirectory() as workdir, FakeSlack() as slack:
        for _, channel, _ in ROUTES:
            slack.add_channel(channel, channel.removeprefix("C0").lower())
        policy = Path(workdir) / "helpdesk.yml"
        inboxes = [{"address": a, "channel": c} for a, c, _ in ROUTES if a != SUPPORT]
        policy.write_text(yaml.safe_dump({"inboxes": inboxes}))
        env = serve_environment(url, slack, HELPDESK_CONFIG=str(policy))
        with served(env, workdir) as server:
            yield server, int(env["HELPDESK_SMTP_LISTEN"].rpartition(":")[2]), slack


def run_helpdesk(
    kind: str,
    folder: str,
    load: list[Mail | BadTraffic],
    bare: list[tuple[list[Outcome], float]],
    progress: Progress,
) -> tuple[list[Table], list[str]]:
    """The intake and drain tables on one database; and what went wrong."""
    name = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}[kind]
    good = [item for item in load if isinstance(item, Mail)]
    with fresh_database(kind, folder) as url, helpdesk(url) as (_, port, _):
        control = send_all(port, good, progress, f"{name}: good mail alone", CONTROL)
    with fresh_database(kind, folder) as url, helpdesk(url) as (server, port, slack):
        idle = rss_mb(server.pid)
        started = time.time()
        mixed = send_all(port, load, progress, f"{name}: with bad traffic")
        after_intake = rss_mb(server.pid)
        accepted = [o for o in mixed[0] if o.mail is not None and o.code == 250]
        last = wait_in_slack(
            slack, 0, [o.mail for o in accepted], progress, f"{name}: in Slack", 600
        )
        check = check_threads(slack, accepted)
        drain, drain_problems = drain_table(name, slack, port, progress)
        memory = (idle, after_intake, rss_mb(server.pid))
    runs = {"helpdesk": [control, mixed], "bare aiosmtpd": bare}
    slack_seconds = last - started if last is not None else None
    problems = [
        *wrong_answers(f"{name} good mail alone", control[0]),
        *wrong_answers(f"{name} intake", mixed[0]),
        *wrong_in_slack(f"{name} intake", last, check),
        *drain_problems,
    ]
    return [intake_table(name, runs, slack_seconds, check, memory), drain], problems


def main() -> int:
    console = Console()
    if unknown := set(DATABASES) - {"sqlite", "postgresql"}:
        raise SystemExit(f"BENCH_INGEST_DATABASES: unknown {', '.join(sorted(unknown))}")
    load = intake_load(MAILS, random.Random(SEED))
    tables, problems = [], []
    with tempfile.TemporaryDirectory() as folder, Progress(console=console, transient=True) as bar:
        with bare_smtp_server() as port:
            good = [item for item in load if isinstance(item, Mail)]
            bare = [
                send_all(port, good, bar, "bare aiosmtpd: good mail alone", CONTROL),
                send_all(port, load, bar, "bare aiosmtpd: with bad traffic"),
            ]
        for kind in DATABASES:
            if kind == "postgresql" and not postgres_reachable(console):
                continue
            measured, wrong = run_helpdesk(kind, folder, load, bare, bar)
            tables += measured
            problems += wrong
    for table in tables:
        console.print(table)
    return verdict(problems)


def postgres_reachable(console: Console) -> bool:
    try:
        _, drop = postgres_database()
    except Exception as exc:
        console.print(f"PostgreSQL skipped: {exc}")
        return False
    drop()
    return True


if __name__ == "__main__":
    sys.exit(main())
