"""What every shop action says once recorded: the approvers' request with Approve / Decline,
the line in the ticket's thread when it ends (who did what, amounts, Shopify's ids, the
approver), and the modal that asked for it, told its state.

Rendered from the `ShopAction` row when sent, so a retry says what is true then. Everything
from the shop or the customer (addresses, codes, Shopify's messages) is escaped.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from bot.core.shop_actions import ActionKind, ActionState
from bot.integrations.shopify_actions import Address
from bot.views import ids
from bot.views.address_modal import address_text
from bot.views.discount_modal import DiscountFor, discount_form_again
from bot.views.elements import button, context, section
from bot.views.shop_action_menu import action_in_progress, action_outcome
from bot.views.text import escape_mrkdwn


class ShopAction(Protocol):
    """A recorded action as these views read it (the `shop_actions` row)."""

    id: int | None
    kind: str
    state: str
    order_name: str | None
    params: dict[str, Any]
    amount: str | None
    currency: str | None
    requested_by: str
    approver: str | None
    approval_expires_at: datetime | None
    result: dict[str, Any] | None
    errors: list[Any] | None


def what(action: ShopAction) -> str:
    """The action in a few words, mrkdwn: "a refund of 25.00 EUR on #1001"."""
    order = f" on {escape_mrkdwn(action.order_name)}" if action.order_name else ""
    params = action.params or {}
    match ActionKind(action.kind):
        case ActionKind.REFUND:
            return f"a refund of *{_money(action.amount, action.currency)}*{order}"
        case ActionKind.CANCEL:
            return f"cancelling{order.replace(' on ', ' ', 1)}"
        case ActionKind.ADDRESS:
            new = address_text(address_from(params.get("address")))
            return f"a new shipping address{order.replace(' on ', ' for ', 1)}: {new}"
        case ActionKind.RESHIP:
            count = sum(int(quantity) for _, quantity in params.get("lines", []))
            return f"reshipping {count} item{'s' * (count != 1)}{order.replace(' on ', ' of ', 1)}"
        case ActionKind.DISCOUNT:
            code = escape_mrkdwn(str(params.get("code", "")))
            if params.get("percentage") is not None:
                value = f"{escape_mrkdwn(str(params['percentage']))}%"
            else:
                value = _money(params.get("amount"), params.get("currency"))
            return f"discount code `{code}` ({value} off)"


def outcome_line(action: ShopAction) -> str:
    """The thread's record of how the action ended, mrkdwn."""
    asked = f"<@{action.requested_by}>"
    approved = f" (approved by <@{action.approver}>)" if action.approver else ""
    match ActionState(action.state):
        case ActionState.DONE:
            return f":white_check_mark: {asked}: {_done(action)}{approved}. {_ids(action)}"
        case ActionState.FAILED:
            return f":warning: {asked}: {what(action)} was not done. {problems_text(action)}"
        case ActionState.DECLINED:
            return (
                f":no_entry: <@{action.approver}> declined {what(action)} asked by {asked}; "
                "nothing was done."
            )
        case ActionState.EXPIRED:
            return (
                f":hourglass: {_sentence(what(action))} asked by {asked} expired before an "
                "approver decided; nothing was done."
            )
    return f"{asked}: {what(action)} is {action.state.replace('_', ' ')}."


def audit_text(action: ShopAction) -> str:
    """One plain line for `helpdesk export`: "refund 35.00 USD on #1001 done by U0A,
    approved by U0L (refund_id gid://shopify/Refund/1)"."""
    money = f" {action.amount} {action.currency or ''}".rstrip() if action.amount else ""
    order = f" on {action.order_name}" if action.order_name else ""
    approved = f", approved by {action.approver}" if action.approver else ""
    if action.state == ActionState.DECLINED:
        approved = f", declined by {action.approver}"
    made = ", ".join(
        f"{name} {value}"
        for name, value in (action.result or {}).items()
        if name.endswith("_id") and value
    )
    done = f"{action.kind}{money}{order} {action.state} by {action.requested_by}{approved}"
    return f"{done} ({made})" if made else done


def problems_text(action: ShopAction) -> str:
    """Shopify's refusals, each with the field it is about."""
    said = []
    for problem in action.errors or []:
        if not isinstance(problem, dict):
            said.append(escape_mrkdwn(str(problem)))
            continue
        field = ".".join(str(part) for part in problem.get("field") or [])
        where = f" ({escape_mrkdwn(field)})" if field else ""
        said.append(escape_mrkdwn(str(problem.get("message", ""))) + where)
    return "Shopify said: " + "; ".join(said) if said else "No reason was given."


def modal_of(action: ShopAction) -> dict:
    """The modal that asked for the action, as its state stands."""
    kind = action.kind
    match ActionState(action.state):
        case ActionState.AWAITING_APPROVAL:
            reasons = "; ".join(escape_mrkdwn(str(r)) for r in action.errors or [])
            return action_outcome(
                kind,
                [
                    f":raising_hand: Sent for approval: {what(action)}.",
                    f"Over your limits: {reasons}." if reasons else "",
                    "It is carried out once an approver approves it; the thread will say.",
                ],
            )
        case ActionState.QUEUED | ActionState.SENDING:
            return action_in_progress(kind, in_progress_text(action))
        case ActionState.DONE:
            return action_outcome(kind, [_sentence(_done(action)) + ".", _ids(action)])
        case ActionState.FAILED if kind == ActionKind.DISCOUNT and _about_fields(action):
            # A code that exists, say: the form again, the problem under its field.
            target = DiscountFor.again(
                action.ticket_id, action.order_id or "", action.order_name or "", action.params
            )
            return discount_form_again(target, action.params, action.errors or [])
        case _:
            return action_outcome(kind, [outcome_line(action)], failed=True)


def _about_fields(action: ShopAction) -> bool:
    """Whether Shopify refused it over what was typed (its userErrors name fields)."""
    return any(isinstance(p, dict) and p.get("field") for p in action.errors or [])


def in_progress_text(action: ShopAction) -> str:
    """Plain text: "Refunding 25.00 EUR on #1001…"."""
    order = action.order_name or ""
    match ActionKind(action.kind):
        case ActionKind.REFUND:
            return f"Refunding {_money(action.amount, action.currency)} on {order}…"
        case ActionKind.CANCEL:
            return f"Cancelling {order}…"
        case ActionKind.ADDRESS:
            return f"Changing the address of {order}…"
        case ActionKind.RESHIP:
            return f"Reshipping {order}…"
        case ActionKind.DISCOUNT:
            return f"Making the code {action.params.get('code', '')}…"


# ---- the approvers' message --------------------------------------------------------------


def approval_request(action: ShopAction, ticket_number: int, link: str | None) -> tuple[str, list]:
    """(fallback text, blocks) of the request an approver gets, with Approve / Decline."""
    ticket = f"<{link}|ticket #{ticket_number}>" if link else f"ticket #{ticket_number}"
    text = f"<@{action.requested_by}> asks for {what(action)} ({ticket})"
    reasons = "; ".join(escape_mrkdwn(str(reason)) for reason in action.errors or [])
    expires = action.approval_expires_at
    blocks = [
        section(f":raising_hand: {text}."),
        context(
            f"Over their limits: {reasons or 'none given'}. "
            + (f"Expires {expires:%Y-%m-%d %H:%M} UTC." if expires else "")
        ),
        {
            "type": "actions",
            "block_id": f"{ids.SHOP_APPROVAL_BLOCK}:{action.id}",
            "elements": [
                button("Approve", ids.SHOP_APPROVE, str(action.id), style="primary"),
                button("Decline", ids.SHOP_DECLINE, str(action.id), style="danger"),
            ],
        },
    ]
    return text, blocks


def approval_decided(action: ShopAction, ticket_number: int) -> tuple[str, list]:
    """The approvers' message once decided: no buttons any more."""
    asked = f"<@{action.requested_by}> asked for {what(action)} (ticket #{ticket_number})"
    match ActionState(action.state):
        case ActionState.DECLINED:
            verdict = f":no_entry: Declined by <@{action.approver}>"
        case ActionState.EXPIRED:
            verdict = ":hourglass: Expired before anyone decided"
        case _:
            verdict = f":white_check_mark: Approved by <@{action.approver}>"
    text = f"{asked}. {verdict}."
    return text, [section(text)]


# ---- pieces ------------------------------------------------------------------------------


def _done(action: ShopAction) -> str:
    result = action.result or {}
    order = escape_mrkdwn(action.order_name or "")
    match ActionKind(action.kind):
        case ActionKind.REFUND:
            money = _money(result.get("amount"), result.get("currency"))
            return f"refunded *{money}* on {order}"
        case ActionKind.CANCEL:
            done = "" if result.get("job_done", True) else " (Shopify is still finishing it)"
            return f"cancelled {order}{done}"
        case ActionKind.ADDRESS:
            old = address_text(address_from((action.params or {}).get("old")))
            new = address_text(address_from(result.get("address")))
            return f"changed the shipping address of {order} from {old} to {new}"
        case ActionKind.RESHIP:
            made = escape_mrkdwn(result.get("order_name") or "a draft order")
            return f"reshipped items of {order} as {made}, free"
        case ActionKind.DISCOUNT:
            return f"made {what(action)}"


def _ids(action: ShopAction) -> str:
    """Shopify's ids of what the action made, for finding it in the admin."""
    shown = [
        f"{name.replace('_', ' ')} `{escape_mrkdwn(str(value))}`"
        for name, value in (action.result or {}).items()
        if name.endswith("_id") and value
    ]
    return "Shopify: " + ", ".join(shown) if shown else ""


def _sentence(words: str) -> str:
    """`words` starting a sentence (str.capitalize would lower "USD" and "#A1")."""
    return words[:1].upper() + words[1:]


def _money(amount: object, currency: object) -> str:
    if amount in (None, ""):
        return "an amount"
    return escape_mrkdwn(f"{amount} {currency or ''}".strip())


def address_from(value: object) -> Address | None:
    """An address as an action's params or result keep it (a dict of Address's fields)."""
    if not isinstance(value, dict):
        return None
    return Address(**{name: value.get(name) for name in Address.__dataclass_fields__})
