"""Customer text made safe and sized for Slack."""

from __future__ import annotations

from datetime import UTC, datetime

SECTION_LIMIT = 3000  # characters in a section block's text
MESSAGE_BLOCK_LIMIT = 50
FALLBACK_TEXT_LIMIT = 3900  # Slack shows at most about 4,000 characters of `text`


def escape_mrkdwn(text: str) -> str:
    """Slack's three control characters, so customer text can't mention, link or ping."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# Who a chat visitor who gave neither name nor address is: never the stand-in address the
# helpdesk keeps for them.
VISITOR = "Website visitor"


def customer_label(name: str, email: str | None) -> str:
    """Who a ticket is from, as plain text: "Jane <jane@x.com>", "Jane", the address alone,
    or a website visitor. `email` is None for a visitor who gave none (core.visitors)."""
    if name and email:
        return f"{name} <{email}>"
    return name or email or VISITOR


def slack_time(when: datetime, fallback: str = "%a %d %b %H:%M UTC") -> str:
    """An instant Slack renders in each reader's own time zone, so the line never goes stale;
    `fallback` (strftime, in UTC) is what clients that can't render it show."""
    pattern = "{date_short_pretty} at {time}"
    return f"<!date^{int(when.timestamp())}^{pattern}|{when.astimezone(UTC).strftime(fallback)}>"


def truncate(text: str, limit: int, marker: str = "…") -> str:
    return text if len(text) <= limit else text[: limit - len(marker)] + marker


def quoted(text: str, limit: int) -> str:
    """Customer text as a mrkdwn block quote: cut to `limit`, escaped, every line quoted."""
    return "\n".join(f">{line}" for line in escape_mrkdwn(truncate(text, limit)).split("\n"))


def split_for_sections(text: str, limit: int = SECTION_LIMIT) -> list[str]:
    """Chunks of at most `limit` characters, cut at line ends or spaces where possible.

    Cuts never fall inside an escape entity such as `&amp;`, which would show as garbage.
    """
    chunks: list[str] = []
    while len(text) > limit:
        cut = text.rfind("\n", 0, limit)
        if cut < limit // 2:
            cut = text.rfind(" ", 0, limit)
        if cut < limit // 2:
            cut = limit
        amp = text.rfind("&", cut - 6, cut)
        if amp != -1 and ";" not in text[amp:cut]:
            cut = amp
        chunks.append(text[:cut].rstrip())
        text = text[cut:].lstrip("\n ")
    if text or not chunks:
        chunks.append(text)
    return chunks


def shown_name(name: str) -> str:
    """A display name as the thread shows it, escaped: in quotes when it looks like an
    address (or holds angle brackets), so `"ann@cust.example" <attacker@evil.example>` can't
    pass for Ann's address."""
    if _looks_like_an_address(name):
        return escape_mrkdwn(f'"{name}"')
    return escape_mrkdwn(name)


def shown_sender(name: str, address: str) -> str:
    """Who sent something, escaped, in one word where possible: the name, or the address
    when there is none; a name that looks like an address comes quoted, with the real one."""
    if not name:
        return escape_mrkdwn(address)
    if _looks_like_an_address(name):
        return f"{shown_name(name)} {escape_mrkdwn(f'<{address}>')}"
    return escape_mrkdwn(name)


def _looks_like_an_address(name: str) -> bool:
    return "@" in name or "<" in name or ">" in name
