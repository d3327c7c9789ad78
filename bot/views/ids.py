"""Every action, block and callback ID, defined once and shared by views and handlers."""

from __future__ import annotations

TICKET_REPLY = "ticket_reply"
TICKET_TAG = "ticket_tag"
TICKET_ESCALATE = "ticket_escalate"
TICKET_ASSIGN = "ticket_assign"
TICKET_CLOSE = "ticket_close"

ROOT_ACTIONS_BLOCK = "ticket_actions"

# Message shortcuts and the global shortcut, as declared in manifest.yml.
SHORTCUT_REPLY = "reply_to_customer"
SHORTCUT_ESCALATE = "escalate_ticket"
SHORTCUT_ESCALATE_GLOBAL = "escalate_ticket_global"

# Marks the messages the helpdesk posts, so a restarted outbox can find what it already sent.
OUTBOX_METADATA_EVENT = "helpdesk_outbox"
