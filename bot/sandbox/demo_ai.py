"""The sandbox's AI server: the fake OpenAI-compatible server with a stand-in model that
writes from the ticket's data, so *Draft a reply*, *Summarise* and the suggested tag and
priority can be tried without a model or a key. It reads the data; it understands nothing."""

from __future__ import annotations

import json
from typing import Any

from bot.devtools.fake_ai import FakeAi


def open_demo_ai(host: str) -> FakeAi:
    return FakeAi(host, answer=demo_model).start()


def demo_model(messages: list[dict[str, Any]]) -> str:
    task = str(messages[0].get("content", ""))
    data = _ticket_data(str(messages[-1].get("content", "")))
    if "Suggest one tag" in task:
        tags = data.get("tags") or [None]
        return json.dumps({"tag": tags[0], "priority": "normal"})
    said = [m["text"] for m in data.get("conversation", []) if m.get("from") == "customer"]
    if "Summarise" in task:
        latest = said[-1][:200] if said else "nothing yet"
        return f"The customer wrote {len(said)} message(s); the latest: “{latest}”."
    name = (data.get("customer_name") or "there").split(" ")[0]
    lines = [f"Hi {name},", "", "Thanks for getting in touch."]
    lines += [f"{order['status']}." for order in data.get("orders", [])[:1]]
    lines += [f"This may help: {a['title']}." for a in data.get("help_articles", [])[:1]]
    return "\n".join([*lines, "", "(Drafted by the sandbox's stand-in model.)"])


def _ticket_data(content: str) -> dict[str, Any]:
    body = content.removeprefix("<ticket_data>\n").removesuffix("\n</ticket_data>")
    try:
        data = json.loads(body)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}
