"""The figures of a period as Block Kit: the daily digest and `/helpdesk stats`."""

from __future__ import annotations

from datetime import timedelta

from bot.core.assistance import Usage
from bot.core.metrics import NPS_WINDOW, Durations, Ratio, Report, SelfService
from bot.core.nps import Nps, combined
from bot.views.elements import context, plain, section
from bot.views.ticket_list import age

AGENT_ROWS = 15  # a message's 50 blocks and a section's 3,000 characters stay far away


def digest_blocks(report: Report, title: str) -> list[dict]:
    blocks: list[dict] = [
        {"type": "header", "text": plain(title, 150)},
        {
            "type": "section",
            "fields": [
                {"type": "mrkdwn", "text": text}
                for text in (
                    f"*Created*\n{report.created}",
                    f"*Solved*\n{report.solved}",
                    f"*Still open*\n{backlog_text(report)}",
                    f"*SLA met*\n{ratio_text(report.sla, 'clock', 'stopped')}",
                    f"*CSAT*\n{csat_text(report)}",
                    f"*NPS*\n{nps_text(report.nps)}",
                    f"*Self-service*\n{self_service_text(report.self_service)}",
                )
            ],
        },
        context(nps_trend_text(report.nps_trend)),
    ]
    if report.quiet:
        blocks.append(section("A quiet period: no ticket was created, answered or solved."))
    else:
        blocks.append(
            section(
                f"*First response*\n{durations_text(report.first_response, 'answered')}\n"
                f"*Resolution*\n{durations_text(report.resolution, 'solved')}"
            )
        )
    by_age = " · ".join(f"{label}: {count}" for label, count in report.backlog.by_age)
    blocks.append(context(f"Open and pending by age: {by_age}"))
    if report.top_tags:
        tags = " · ".join(f"`{tag}` {count}" for tag, count in report.top_tags)
        blocks.append(section(f"*Busiest tags*\n{tags}"))
    if report.agents:
        blocks.append(section("*Per agent*\n" + "\n".join(agent_lines(report))))
    if report.shop.refunds or report.shop.cancellations:
        blocks.append(section(f"*Shop*\n{shop_text(report)}"))
    blocks.append(
        context(
            f"Times in {report.period.zone.key}; median and 90th percentile in business "
            "hours, wall-clock time in brackets. Definitions: docs/metrics.md."
        )
    )
    return blocks


def digest_text(report: Report, title: str) -> str:
    """The notification and screen-reader line."""
    return (
        f"{title}: {report.created} created, {report.solved} solved, "
        f"{report.backlog.total} still open; self-service: {self_service_text(report.self_service)}"
    )


def shop_text(report: Report) -> str:
    """ "2 refunds (45.00 USD) · 1 cancellation": what agents did in the shop."""
    shop = report.shop
    amounts = ", ".join(f"{amount:.2f} {currency}" for currency, amount in shop.refunded)
    refunds = counted(shop.refunds, "refund") + (f" ({amounts})" if amounts else "")
    return f"{refunds} · {counted(shop.cancellations, 'cancellation')}"


def self_service_text(served: SelfService) -> str:
    """Beside the tickets created: what visitors answered themselves in the chat widget."""
    lookups = counted(served.order_lookups, "order look-up")
    return f"{counted(served.deflections, 'deflection')}, {lookups} ({served.orders_found} found)"


def backlog_text(report: Report) -> str:
    backlog = report.backlog
    return f"{backlog.total} ({backlog.open} open, {backlog.pending} pending)"


def ratio_text(ratio: Ratio, noun: str, verb: str) -> str:
    if ratio.share is None:
        return f"no {noun} {verb}"
    return f"{ratio.share:.0%} ({ratio.hits} of {ratio.total})"


def csat_text(report: Report) -> str:
    csat = report.csat
    if csat.average is None:
        return "no answers"
    return f"{ratio_text(csat.satisfied, 'answer', 'given')} satisfied, {csat.average:.1f} of 5"


def nps_text(nps: Nps) -> str:
    """The score (promoters' share minus detractors', -100 to +100) and what it is made of."""
    if nps.score is None:
        return "no answers"
    return (
        f"{score_text(nps.score)} ({counted(nps.promoters, 'promoter')}, "
        f"{counted(nps.passives, 'passive')}, {counted(nps.detractors, 'detractor')})"
    )


def nps_trend_text(windows: tuple[Nps, ...]) -> str:
    """The NPS of each window, oldest first, and of all of them together."""
    every = combined(windows)
    days = NPS_WINDOW.days * len(windows)
    if every.score is None:
        return f"NPS, last {days} days: no answers"
    scores = " → ".join("-" if w.score is None else score_text(w.score) for w in windows)
    return (
        f"NPS, last {days} days: {score_text(every.score)} from "
        f"{counted(every.answers, 'answer')}; by {NPS_WINDOW.days} days, oldest first: {scores}"
    )


def score_text(score: int) -> str:
    return f"{score:+d}" if score else "0"


def durations_text(durations: Durations, verb: str) -> str:
    business, wall = durations.business, durations.wall
    if not wall.count:
        return f"no ticket {verb}"
    return (
        f"median {duration(business.median)} ({duration(wall.median)}) · "
        f"90% within {duration(business.p90)} ({duration(wall.p90)}) · {wall.count} {verb}"
    )


def agent_lines(report: Report) -> list[str]:
    lines = []
    for figures in report.agents[:AGENT_ROWS]:
        first = ""
        if figures.first_responses:
            first = (
                f", {counted(figures.first_responses, 'first response')}"
                f" (median {duration(figures.median_first_response)})"
            )
        replies = counted(figures.replies, "reply", "replies")
        lines.append(f"<@{figures.agent}>: {replies}{first}, {figures.solved} solved")
    if len(report.agents) > AGENT_ROWS:
        lines.append(f"and {len(report.agents) - AGENT_ROWS} more")
    return lines


def counted(n: int, singular: str, plural: str | None = None) -> str:
    return f"{n} {singular if n == 1 else plural or singular + 's'}"


def duration(seconds: int | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 60:
        return f"{seconds}s"
    return age(timedelta(seconds=seconds))


def digest_title(report: Report) -> str:
    day = report.period.last_day
    return f"Helpdesk digest for {day:%A} {day.day} {day:%B %Y}"


def assistant_usage(usage: Usage) -> dict:
    """`/helpdesk stats`' line on the AI assistant: what its server was asked, and cost."""
    failed = f" ({usage.failures} failed)" if usage.failures else ""
    plural = "" if usage.requests == 1 else "s"
    return context(
        f":robot_face: AI assistant: {usage.requests} request{plural}{failed}, "
        f"{usage.prompt_tokens:,} prompt and {usage.completion_tokens:,} completion tokens"
    )


def stats_title(name: str, report: Report) -> str:
    first, last = report.period.first_day, report.period.last_day
    span = f"{last:%a} {last.day} {last:%b}"
    if first != last:
        span = f"{first.day} {first:%b} to {last.day} {last:%b}"
    return f"Helpdesk stats: {'today' if name == 'today' else f'last {name}'} ({span})"
