"""The digest's chart: the last days' created and solved tickets, the visitors the chat
widget answered without one (deflected), and the median first response.

Rendered headless into PNG bytes for Slack: a bare `Figure` draws on matplotlib's Agg
canvas, needs no display, and, unlike pyplot, keeps no global state the outbox's threads
could share.
"""

from __future__ import annotations

import io

from bot.core.metrics import TrendDay


def trend_png(days: list[TrendDay], title: str) -> bytes:
    # Imported when a chart is drawn, once a day: matplotlib's import costs about half a second
    # of CPU, which every `helpdesk` command and every start of `serve` paid before.
    from matplotlib.figure import Figure

    labels = [day.day.strftime("%d %b") for day in days]
    positions = range(len(days))
    figure = Figure(figsize=(8, 3.6), dpi=100)
    counts = figure.subplots()
    width = 0.27
    for offset, label, colour, values in (
        (-width, "created", "#4a90d9", [d.created for d in days]),
        (0, "solved", "#7cb342", [d.solved for d in days]),
        (width, "deflected (self-service)", "#8e24aa", [d.deflected for d in days]),
    ):
        counts.bar([p + offset for p in positions], values, width, label=label, color=colour)
    counts.set_ylabel("tickets")
    # Headroom for the legend, and sensible axes on a quiet fortnight.
    counts.set_ylim(0, max([1, *(max(d.created, d.solved, d.deflected) for d in days)]) * 1.3)
    counts.yaxis.get_major_locator().set_params(integer=True)
    counts.set_xticks(list(positions), labels, rotation=45, ha="right", fontsize=8)
    hours = counts.twinx()
    # Days without a first response leave a gap in the line rather than a false zero.
    medians = [
        d.median_first_response / 3600 if d.median_first_response is not None else float("nan")
        for d in days
    ]
    hours.plot(
        list(positions),
        medians,
        color="#e65100",
        marker="o",
        label="median first response (business hours)",
    )
    hours.set_ylabel("hours")
    known = [d.median_first_response / 3600 for d in days if d.median_first_response]
    hours.set_ylim(0, max([1, *known]) * 1.3)
    handles = counts.get_legend_handles_labels()[0] + hours.get_legend_handles_labels()[0]
    counts.legend(handles=handles, loc="upper left", fontsize=8, frameon=False)
    counts.set_title(title, fontsize=10)
    figure.tight_layout()
    png = io.BytesIO()
    figure.savefig(png, format="png")
    return png.getvalue()
