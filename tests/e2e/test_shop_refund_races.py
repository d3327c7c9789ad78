"""Issue 22: a refund submitted twice, and two agents refunding the same order at once, make
one refund. On both databases: the unique idempotency key and the order held while an action
is under way are what keep it to one."""

from __future__ import annotations

import threading

from bot.core.shop_actions import ActionState
from tests.e2e.harness import eventually
from tests.e2e.shop_actions_desk import SAM, policy_with, shop_desk, view_text

EVERYONE_MAY = policy_with(limits={"default": {"refund_max": 500}})


def both_calculated(desk, alex, sam, quantities: dict[int, str]) -> list[dict]:
    """Each agent opens the Refund modal and calculates: their confirmation views."""
    views = []
    for agent in (alex, sam):
        form = agent.open_refund(desk.ticket_id)
        agent.calculate(form, quantities)
        views.append(agent.confirmation(form["id"]))
    return views


def at_once(*steps) -> list:
    """Runs the steps in threads released together; their results, in order."""
    start = threading.Barrier(len(steps))
    results: list = [None] * len(steps)

    def run(index: int) -> None:
        start.wait()
        results[index] = steps[index]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(steps))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results


def test_the_same_confirmation_submitted_twice_refunds_once(database_url):
    with shop_desk(database_url) as desk:
        alex = desk.agent()
        form = alex.open_refund(desk.ticket_id)
        alex.calculate(form, {0: "1", 1: "0"})
        view = alex.confirmation(form["id"])
        answers = at_once(lambda: alex.confirm(view), lambda: alex.confirm(view))
        assert [answer.status for answer in answers] == [200, 200]
        desk.settled(ActionState.DONE)
        alex.confirm(view)  # and Slack's retry, later
        assert len(desk.actions()) == 1
        assert len(desk.refunds()) == 1 and len(desk.shop.calls_to("refundCreate")) == 1


def test_two_agents_refunding_the_same_order_at_once_refund_once(database_url):
    with shop_desk(database_url, EVERYONE_MAY) as desk:
        alex, sam = desk.agent(), desk.agent(SAM)
        views = both_calculated(desk, alex, sam, {0: "2", 1: "1"})
        at_once(lambda: alex.confirm(views[0]), lambda: sam.confirm(views[1]))
        action = desk.settled(ActionState.DONE)
        assert len(desk.actions()) == 1
        assert len(desk.refunds()) == 1 and len(desk.shop.calls_to("refundCreate")) == 1
        refused = next(v for v in views if v["id"] != action.view_id)
        # Refused while the first is under way, or once it is done, as calculated before it.
        assert eventually(
            lambda: any(
                why in view_text(desk.slack.view(refused["id"]))
                for why in ("only one action at a time", "after you looked")
            )
        )


def test_a_refund_confirmed_after_another_agents_is_refused(database_url):
    """Both looked before either confirmed: the second is refused even once the first has
    finished, as it was calculated on an order that has changed since."""
    with shop_desk(database_url, EVERYONE_MAY) as desk:
        alex, sam = desk.agent(), desk.agent(SAM)
        views = both_calculated(desk, alex, sam, {0: "1", 1: "0"})
        alex.confirm(views[0])
        desk.settled(ActionState.DONE)
        sam.confirm(views[1])
        assert eventually(lambda: "after you looked" in view_text(desk.slack.view(views[1]["id"])))
        assert len(desk.actions()) == 1 and len(desk.refunds()) == 1
