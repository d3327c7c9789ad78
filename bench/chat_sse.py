"""Live chat: 1,000 visitors holding event streams on one `helpdesk serve` process.

Measures the time from an agent's Reply-modal submission (a signed `view_submission` to
`/slack/events`) to the reply's arrival in the visitor's event stream, and the process's
resident memory. Baseline in the same run: the same replies with a single visitor connected.
Runs the real server as a subprocess on SQLite, with the fake Slack Web API on loopback.
Not a test: it measures, and checks only that every reply arrived where it should (else it
exits 1).
"""

from __future__ import annotations

import asyncio
import json
import random
import sys
import tempfile
import time
from pathlib import Path
from statistics import median

import yaml
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.serving import percentile99, record, rss_mb, served, size, tickets_in_slack, verdict
from bot.devtools.fake_slack import FakeSlack
from bot.views import ids
from tests.e2e.harness import AGENT, CHANNEL, SlackAgent, answer_values, serve_environment

VISITORS = size("BENCH_CHAT_VISITORS", 1000, 50)
REPLIES = size("BENCH_CHAT_REPLIES", 100, 10)


class Visitor:
    def __init__(self, port: int, number: int):
        self.port = port
        self.number = number  # its ticket's number
        self.conversation = ""
        self.token = ""
        self.seen = 0
        self.arrivals: asyncio.Queue[tuple[float, dict]] = asyncio.Queue()
        self._writer: asyncio.StreamWriter | None = None

    async def start(self) -> None:
        body = json.dumps({"message": f"Visitor {self.number} here", "name": "V"}).encode()
        status, answer = await http(self.port, "POST", "/chat/api/conversations", body)
        assert status == 201, answer
        self.conversation, self.token = answer["conversation"]["id"], answer["token"]
        self.seen = answer["messages"][-1]["id"]
        assert answer["conversation"]["ticket_number"] == self.number

    async def listen(self) -> None:
        reader, self._writer = await asyncio.open_connection("127.0.0.1", self.port)
        path = f"/chat/api/conversations/{self.conversation}/events?after={self.seen}"
        self._writer.write(
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {self.token}\r\n"
            "Accept: text/event-stream\r\n\r\n".encode()
        )
        await self._writer.drain()
        status = await reader.readline()
        assert b" 200 " in status, status
        asyncio.get_running_loop().create_task(self._read(reader))

    async def _read(self, reader: asyncio.StreamReader) -> None:
        while line := await reader.readline():
            # Chunked framing lines and SSE fields arrive interleaved; only data lines matter.
            if line.startswith(b"data: "):
                self.arrivals.put_nowait((time.perf_counter(), json.loads(line[6:])))

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()


async def http(port: int, method: str, path: str, body: bytes = b"") -> tuple[int, dict]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
        + body
    )
    await writer.drain()
    raw = await reader.read()
    writer.close()
    head, _, payload = raw.partition(b"\r\n\r\n")
    return int(head.split()[1]), json.loads(payload or b"{}")


class Agent(SlackAgent):
    """Replies as Slack delivers an agent's work: a Reply click, then the modal's submission."""

    def __init__(self, port: int, slack: FakeSlack, tickets: dict[int, tuple[int, str]]):
        super().__init__(port, slack)
        self.tickets = tickets  # number -> (ticket id, root ts)

    def open_modal(self, number: int) -> dict:
        ticket_id, root_ts = self.tickets[number]
        opened = len(self.slack.calls("views.open"))
        self.click(ticket_id, root_ts, ids.TICKET_REPLY)
        return self.opened_view(after=opened)

    def submit_answer(self, view: dict, text: str, view_id: str) -> None:
        answer = self.submit(view, answer_values(view, text), view_id=view_id)
        assert answer.status == 200 and not answer.body, answer.body


async def reply_latencies(
    agent: Agent, visitors: list[Visitor], samples: int, tag: str
) -> list[float]:
    loop = asyncio.get_running_loop()
    latencies = []
    for n in range(samples):
        visitor = random.choice(visitors)
        view = await loop.run_in_executor(None, agent.open_modal, visitor.number)
        text = f"{tag} reply {n}"
        started = time.perf_counter()
        await loop.run_in_executor(None, agent.submit_answer, view, text, f"V{tag}{n}")
        arrived, message = await asyncio.wait_for(visitor.arrivals.get(), 30)
        assert message["text"] == text, message
        latencies.append(arrived - started)
    return latencies


async def run(port: int, pid: int, slack: FakeSlack, console: Console) -> tuple[Table, int]:
    """The table, and how many replies reached a stream other than their visitor's."""
    idle = rss_mb(pid)
    visitors = [Visitor(port, n + 1) for n in range(VISITORS)]
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("starting conversations", total=VISITORS)
        for visitor in visitors:  # in order, so conversation n is ticket n
            await visitor.start()
            progress.advance(task)
    agent = Agent(port, slack, tickets_in_slack(slack, VISITORS))

    await visitors[0].listen()
    await reply_latencies(agent, visitors[:1], 5, "warm-up")  # first-call costs, not measured
    alone = await reply_latencies(agent, visitors[:1], REPLIES, "alone")
    one_stream = rss_mb(pid)

    started = time.perf_counter()
    await asyncio.gather(*(v.listen() for v in visitors[1:]))
    connect_seconds = time.perf_counter() - started
    await asyncio.sleep(1)
    connected = rss_mb(pid)
    crowded = await reply_latencies(agent, visitors, REPLIES, "crowd")
    stray = sum(v.arrivals.qsize() for v in visitors)
    for visitor in visitors:
        visitor.close()

    table = Table(title=f"Live chat: agent reply to visitor's stream ({REPLIES} replies each)")
    for column in ("streams open", "median ms", "p99 ms", "max ms", "server RSS MB"):
        table.add_column(column, justify="right")
    for label, latencies, memory in (
        ("1", alone, one_stream),
        (f"{VISITORS:,}", crowded, connected),
    ):
        table.add_row(
            label,
            f"{median(latencies) * 1000:.1f}",
            f"{percentile99(latencies) * 1000:.1f}",
            f"{max(latencies) * 1000:.1f}",
            f"{memory:.0f}",
        )
    record(
        "chat reply to the visitor's stream",
        f"median, {VISITORS:,} streams open",
        f"{median(crowded) * 1000:.1f} ms, {connected:.0f} MB",
        f"{median(alone) * 1000:.1f} ms, {one_stream:.0f} MB with one stream",
        f"{median(crowded) / median(alone):.2f}x its median",
    )
    table.caption = (
        f"ratio of medians {median(crowded) / median(alone):.2f}; {VISITORS - 1:,} streams "
        f"opened in {connect_seconds:.1f} s; RSS before any conversation {idle:.0f} MB; replies "
        f"delivered to the wrong stream: {stray}"
    )
    return table, stray


def main() -> int:
    console = Console()
    with tempfile.TemporaryDirectory() as workdir, FakeSlack() as slack:
        slack.add_channel(CHANNEL, "support", members=[AGENT["id"]])
        slack.add_user(AGENT["id"], "alex", real_name="Alex Agent")
        policy = Path(workdir) / "helpdesk.yml"
        unlimited = 10 * VISITORS + 10 * REPLIES
        policy.write_text(
            yaml.safe_dump(
                {"chat": {"ip_conversations_per_hour": unlimited,
                          "ip_requests_per_minute": unlimited}}
            )
        )  # fmt: skip
        env = serve_environment(f"sqlite:///{workdir}/helpdesk.db", slack)
        env["HELPDESK_CONFIG"] = str(policy)
        port = int(env["HELPDESK_HTTP_PORT"])
        with served(env, workdir) as server:
            table, stray = asyncio.run(run(port, server.pid, slack, console))
    console.print(table)
    return verdict([f"{stray} replies reached another visitor's stream"] if stray else [])


if __name__ == "__main__":
    sys.exit(main())
