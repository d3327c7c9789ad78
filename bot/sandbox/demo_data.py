"""What the sandbox's database starts with, and a reset that brings it back to that.

Saved replies live in the database, not the policy, so the demo's are added here: the Reply
modal then offers them from the first ticket on.
"""

from __future__ import annotations

from sqlalchemy import Engine
from sqlmodel import SQLModel

from bot.core import saved_replies
from bot.sandbox.workspace import Sandbox
from bot.storage.db import transaction
from bot.storage.models import Counter

SAVED_REPLIES = (
    ("Order on its way",
     "Hi {{customer.first_name}},\n\nYour order {{order.name}} is {{order.status}}; you can "
     "follow it here: {{order.tracking_url}}\n\nBest,\n{{agent.first_name}}"),
    ("Refund started",
     "Hi {{customer.first_name}},\n\nI've started your refund (ticket #{{ticket.number}}). "
     "It reaches your card within 5 to 10 working days.\n\nBest,\n{{agent.first_name}}"),
    ("Exchange instructions",
     "Hi {{customer.first_name}},\n\nSorry about the mix-up! Send the item back with the "
     "label in your order email and we'll ship the right one as soon as it arrives.\n\n"
     "Best,\n{{agent.first_name}}"),
)  # fmt: skip
SEEDED_BY = "sandbox"


def seed_database(engine: Engine) -> None:
    with transaction(engine) as session:
        for title, body in SAVED_REPLIES:
            saved_replies.create(session, title, body, actor=SEEDED_BY)


def reset_sandbox(sandbox: Sandbox, engine: Engine) -> None:
    """A fresh workspace and database, in the running process: every row goes in one
    transaction (the counters start again, as a new database's do), then the demo's data
    comes back."""
    with engine.begin() as connection:
        for table in reversed(SQLModel.metadata.sorted_tables):
            if table.name == Counter.__tablename__:
                connection.execute(table.update().values(value=0))
            else:
                connection.execute(table.delete())
    sandbox.reset_workspace()
    seed_database(engine)
