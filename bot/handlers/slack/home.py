"""The App Home tab: an agent's customers waiting, their open tickets and the unassigned ones,
with thread links."""

from __future__ import annotations

from slack_bolt import Ack, App
from slack_sdk import WebClient
from sqlmodel import Session

from bot.handlers.slack.common import services_of
from bot.handlers.slack.permalinks import ticket_lines, with_customers
from bot.storage import queries
from bot.storage.models import utcnow
from bot.views.ticket_list import HOME_LIST_LIMIT, home_view, outsider_home_view


def register(app: App) -> None:
    app.event("app_home_opened")(on_home_opened)


def on_home_opened(ack: Ack, event: dict, client: WebClient, context) -> None:
    ack()
    # It fires for the Messages tab too, which has nothing of ours to draw.
    if event.get("tab") != "home":
        return
    services = services_of(context)
    user = event["user"]
    if not services.desk.roster.is_agent(user):
        client.views_publish(user_id=user, view=outsider_home_view())
        return
    with Session(services.reader) as session:
        waiting = with_customers(session, queries.customers_waiting(session, user, HOME_LIST_LIMIT))
        mine = with_customers(session, queries.tickets_assigned_to(session, user, HOME_LIST_LIMIT))
        unassigned = with_customers(session, queries.unassigned_tickets(session, HOME_LIST_LIMIT))
        listed = waiting + mine + unassigned
        sla = queries.sla_urgency(session, [ticket.id for ticket, _ in listed])
    links = services.permalinks
    view = home_view(
        ticket_lines(waiting, links, sla),
        ticket_lines(mine, links, sla),
        ticket_lines(unassigned, links, sla),
        utcnow(),
        knowledge_base=services.kb is not None,
    )
    client.views_publish(user_id=user, view=view)
