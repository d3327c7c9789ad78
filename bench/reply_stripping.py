"""Reply stripping (`bot.mail.quotes.visible_reply`): time per message, and growth with size.

Messages: every text body of the three reply-parser corpora in ../shared/corpora and every
`.txt` case of the project's fidelity suite (tests/mail/fidelity), each stripped once per
round; the median round is reported per message. Then one customer's reply over quoted
history grown to 256 KB, 512 KB, 1 MB and 2 MB (the doubling must not much more than double
the time: linear, not quadratic), and the same sizes of hostile shapes (lines of "On", of ">",
of dashes).

Baseline, in the same run: `email_reply_parser` (zapier's Python port of github's parser,
the dev extras install it) on the same messages and on the reply over history. A call
that raises or returns something other than text is `BROKEN`; speed is only measured.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from statistics import median

from email_reply_parser import EmailReplyParser
from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.serving import record, size, verdict
from bot.mail.quotes import visible_reply

ROOT = Path(__file__).resolve().parents[1]
CORPORA = ROOT.parent / "shared" / "corpora"
REPLY_CORPORA = (
    "github-email_reply_parser",
    "zapier-email-reply-parser",
    "willdurand-EmailReplyParser",
)
ROUNDS = size("BENCH_REPLY_ROUNDS", 15, 3)
LARGEST = size("BENCH_REPLY_LARGEST_KB", 2048, 256)

REPLY = (
    "Hi, the mug in order #1043 arrived chipped. Could you send a new one?\n\nThanks,\nMaria\n\n"
)
HISTORY = (
    "On Tue, 3 Nov 2026 at 09:14, Northwind Support <support@northwind.example> wrote:\n"
    "> Hello Maria,\n>\n> Your order #1043 has shipped with DHL. Tracking: 00340434161234567890\n"
    ">\n> Best,\n> Northwind\n>\n"
)
SHAPES: dict[str, str] = {
    "reply over history": HISTORY,
    'lines of "On"': "On\n",
    'lines of ">"': "> \n",
    "lines of dashes": "-----\n",
}


def messages() -> list[str]:
    found = [
        path
        for corpus in REPLY_CORPORA
        for path in sorted((CORPORA / corpus).rglob("*.txt"))
        if "LICENSE" not in path.name
    ]
    fidelity = ROOT / "tests" / "mail" / "fidelity"
    found += [p for p in sorted(fidelity.rglob("*.txt")) if not p.name.endswith(".expected.txt")]
    return [path.read_text(encoding="utf-8", errors="replace") for path in found]


def baseline(text: str) -> str:
    return EmailReplyParser.parse_reply(text)


def timed(strip: Callable[[str], str], texts: list[str], problems: list[str], name: str) -> float:
    """Seconds per message, the median of ROUNDS rounds over all `texts`."""
    rounds = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        for text in texts:
            if not isinstance(strip(text), str):
                problems.append(f"{name} returned no text")
        rounds.append(time.perf_counter() - started)
    return median(rounds) / len(texts)


def grown(shape: str, kilobytes: int) -> str:
    unit = REPLY + shape if shape is HISTORY else shape
    body = unit * (kilobytes * 1024 // len(unit) + 1)
    return (REPLY + body)[: kilobytes * 1024]


def once(strip: Callable[[str], str], text: str, problems: list[str], name: str) -> float:
    started = time.perf_counter()
    try:
        result = strip(text)
    except Exception as error:  # a crash is the finding here, not the end of the run
        problems.append(f"{name}: {type(error).__name__}: {error}")
        return float("nan")
    if not isinstance(result, str):
        problems.append(f"{name} returned no text")
    return time.perf_counter() - started


def compared(ours: float, theirs: float) -> str:
    return f"{theirs / ours:.1f}x faster" if ours < theirs else f"{ours / theirs:.1f}x slower"


def main() -> int:
    console = Console()
    problems: list[str] = []
    texts = messages()
    ours = timed(visible_reply, texts, problems, "visible_reply")
    theirs = timed(baseline, texts, problems, "email_reply_parser")
    table = Table(title=f"Reply stripping, {len(texts)} real and hand-written messages")
    for column in ("parser", "per message", "messages per second"):
        table.add_column(column, justify="right")
    table.add_row("visible_reply", f"{ours * 1000:.3f} ms", f"{1 / ours:,.0f}")
    table.add_row("email_reply_parser", f"{theirs * 1000:.3f} ms", f"{1 / theirs:,.0f}")
    console.print(table)
    record(
        f"Reply stripping, {len(texts)} messages",
        "per message",
        f"{ours * 1000:.3f} ms",
        f"{theirs * 1000:.3f} ms email_reply_parser",
        compared(ours, theirs),
    )

    sizes = [LARGEST // 8, LARGEST // 4, LARGEST // 2, LARGEST]
    growth = Table(title="Growth with the body's size (one call each)")
    growth.add_column("body")
    for kilobytes in sizes:
        growth.add_column(f"{kilobytes:,} KB", justify="right")
    growth.add_column("last ÷ first (8 = linear)", justify="right")
    largest: dict[str, float] = {}  # each parser's time on the largest reply over history
    for label, shape in SHAPES.items():
        # The baseline only on mail as people write it: on the hostile shapes it takes
        # minutes (its fragment joining is quadratic), which measures nothing of ours.
        parsers = [("visible_reply", visible_reply)]
        if shape is HISTORY:
            parsers.append(("email_reply_parser", baseline))
        for name, strip in parsers:
            seconds = [once(strip, grown(shape, kb), problems, name) for kb in sizes]
            ratio = seconds[-1] / seconds[0] if seconds[0] else float("nan")
            growth.add_row(
                f"{label}, {name}", *(f"{s * 1000:,.0f} ms" for s in seconds), f"{ratio:.1f}"
            )
            if shape is HISTORY:
                largest[name] = seconds[-1]
    console.print(growth)
    record(
        f"Reply stripping, a {LARGEST:,} KB reply over history",
        "one call",
        f"{largest['visible_reply'] * 1000:,.0f} ms",
        f"{largest['email_reply_parser'] * 1000:,.0f} ms email_reply_parser",
        compared(largest["visible_reply"], largest["email_reply_parser"]),
    )
    return verdict(problems)


if __name__ == "__main__":
    sys.exit(main())
