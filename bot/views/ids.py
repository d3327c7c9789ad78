"""Every action, block and callback ID, defined once and shared by views and handlers."""

from __future__ import annotations

TICKET_REPLY = "ticket_reply"
TICKET_TAG = "ticket_tag"
TICKET_ESCALATE = "ticket_escalate"
TICKET_ASSIGN = "ticket_assign"
TICKET_CLOSE = "ticket_close"
TICKET_ORDERS = "ticket_orders"
TICKET_SNOOZE = "ticket_snooze"

ROOT_ACTIONS_BLOCK = "ticket_actions"

# Message shortcuts and the global shortcut, as declared in manifest.yml.
SHORTCUT_REPLY = "reply_to_customer"
SHORTCUT_ESCALATE = "escalate_ticket"
SHORTCUT_ESCALATE_GLOBAL = "escalate_ticket_global"

# Marks the messages the helpdesk posts, so a restarted outbox can find what it already sent.
OUTBOX_METADATA_EVENT = "helpdesk_outbox"

# The root message's other controls.
TICKET_PRIORITY = "ticket_priority"
TICKET_STATUS_MENU = "ticket_status_menu"
TICKET_ASSIGN_PICK = "ticket_assign_pick"

# Reply modal.
REPLY_MODAL = "reply_modal"
REPLY_SAVED_PICK = "reply_saved_pick"
REPLY_ANSWER_BLOCK = "reply_answer"  # suffixed with a version so Slack applies a new prefill
REPLY_ANSWER = "reply_answer_input"
REPLY_STATUS_BLOCK = "reply_status"
REPLY_STATUS = "reply_status_input"
REPLY_RETRY = "reply_retry"
REPLY_HELPERS_BLOCK = "reply_helpers"
REPLY_FILES_BLOCK = "reply_files"
REPLY_FILES = "reply_files_input"
REPLY_ORDER_PICK = "reply_order_pick"
# The AI assistant (policy `ai`): a draft into the answer box, a summary into the thread.
REPLY_DRAFT = "reply_draft"
REPLY_SUMMARISE = "reply_summarise"
# Its suggestion on a new ticket's thread, applied only by a click.
AI_SUGGESTED_TAG = "ai_suggested_tag"
AI_SUGGESTED_PRIORITY = "ai_suggested_priority"
AI_SUGGESTION_BLOCK = "ai_suggestion"  # suffixed with ":<tag>:<priority>"

# Tag modal.
TAG_MODAL = "tag_modal"
TAG_PICK_BLOCK = "tag_pick"
TAG_PICK = "tag_pick_input"
TAG_NEW_BLOCK = "tag_new"
TAG_NEW = "tag_new_input"

# Saved replies.
SAVED_REPLIES_MODAL = "saved_replies_modal"
SAVED_REPLY_EDIT_MODAL = "saved_reply_edit_modal"
SAVED_REPLY_NEW = "saved_reply_new"
SAVED_REPLY_EDIT = "saved_reply_edit"
SAVED_REPLY_TITLE_BLOCK = "saved_reply_title"
SAVED_REPLY_TITLE = "saved_reply_title_input"
SAVED_REPLY_BODY_BLOCK = "saved_reply_body"
SAVED_REPLY_BODY = "saved_reply_body_input"

# App Home.
HOME_SAVED_REPLIES = "home_saved_replies"

# Snooze: pending until a time.
SNOOZE_MODAL = "snooze_modal"
SNOOZE_UNTIL_BLOCK = "snooze_until"
SNOOZE_UNTIL = "snooze_until_input"

# Escalation.
ESCALATION_MODAL = "escalation_modal"
ESCALATION_TICKET_BLOCK = "escalation_ticket"
ESCALATION_TICKET = "escalation_ticket_input"
ESCALATION_TIER_BLOCK = "escalation_tier"
ESCALATION_TIER = "escalation_tier_input"
ESCALATION_URGENCY_BLOCK = "escalation_urgency"
ESCALATION_URGENCY = "escalation_urgency_input"
ESCALATION_REASON_BLOCK = "escalation_reason"
ESCALATION_REASON = "escalation_reason_input"
ESCALATION_TAKE = "escalation_take"
ESCALATION_OPEN_THREAD = "escalation_open_thread"
ESCALATION_RESOLVE = "escalation_resolve"

# Shopify order lookup.
ORDER_LOOKUP_MODAL = "order_lookup_modal"
ORDER_LOOKUP_BLOCK = "order_lookup"
ORDER_LOOKUP = "order_lookup_input"

# Linking a ticket to the Shopify customer of an order someone quoted, on proof.
SHOPIFY_LINK = "shopify_link"
SHOPIFY_LINK_MODAL = "shopify_link_modal"
SHOPIFY_PROOF_BLOCK = "shopify_proof"
SHOPIFY_PROOF = "shopify_proof_input"

# Tickets made from Slack messages: the message shortcut (as declared in manifest.yml) and
# its modal.
SHORTCUT_MAKE_TICKET = "make_ticket"
MAKE_TICKET_MODAL = "make_ticket_modal"
MAKE_TICKET_TEXT_BLOCK = "make_ticket_text"
MAKE_TICKET_TEXT = "make_ticket_text_input"
MAKE_TICKET_REQUESTER_BLOCK = "make_ticket_requester"
MAKE_TICKET_REQUESTER = "make_ticket_requester_input"
MAKE_TICKET_SUBJECT_BLOCK = "make_ticket_subject"
MAKE_TICKET_SUBJECT = "make_ticket_subject_input"
MAKE_TICKET_PRIORITY_BLOCK = "make_ticket_priority"
MAKE_TICKET_PRIORITY = "make_ticket_priority_input"


# Who the customer is: their history on the root, in a modal, from /helpdesk customer.
TICKET_HISTORY = "ticket_history"
CUSTOMER_HISTORY = "customer_history"
HISTORY_MODAL = "customer_history_modal"
HISTORY_PAGE = "customer_history_page"

# The Reply modal's confirmation when the customer wrote again while it was open.
REPLY_CONFIRM_BLOCK = "reply_confirm"
REPLY_CONFIRM = "reply_confirm_input"


# Merge and split (bot.core.merging, bot.core.splitting).
TICKET_MORE = "ticket_more"  # the root's second ⋯ menu: choices that open a modal
MORE_MERGE = "merge"  # its "Merge into…" choice
MERGE_SUGGESTED = "merge_suggested"  # "Possibly the same as #n — Merge"
SHORTCUT_MERGE = "merge_ticket"
SHORTCUT_SPLIT = "split_ticket"
MERGE_PICK_MODAL = "merge_pick_modal"
MERGE_TARGET_BLOCK = "merge_target"
MERGE_TARGET = "merge_target_input"
MERGE_CONFIRM_MODAL = "merge_confirm_modal"
MERGE_CONFIRM_BLOCK = "merge_confirm"
MERGE_CONFIRM = "merge_confirm_input"
MERGE_SUGGESTION_BLOCK = "merge_suggestion"
SPLIT_MODAL = "split_modal"
SPLIT_FOLLOWING_BLOCK = "split_following"
SPLIT_FOLLOWING = "split_following_input"
MOVE_REFUSED_MODAL = "move_refused_modal"
MOVE_UNDO = "move_undo"  # Unmerge, or Undo split, on the thread's notice


# Knowledge base: App Home's list, an article, its form; the Reply modal's suggestions.
HOME_KB = "home_kb"
KB_LIST_MODAL = "kb_list_modal"
KB_NEW = "kb_new"
KB_ARTICLE_MENU = "kb_article_menu"  # suffixed with the article's place in the list
KB_ARTICLE_MODAL = "kb_article_modal"
KB_EDIT_MODAL = "kb_edit_modal"
KB_TITLE_BLOCK = "kb_title"
KB_TITLE = "kb_title_input"
KB_TAGS_BLOCK = "kb_tags"
KB_TAGS = "kb_tags_input"
KB_PUBLIC_BLOCK = "kb_public"
KB_PUBLIC = "kb_public_input"
KB_BODY_BLOCK = "kb_body"
KB_BODY = "kb_body_input"
REPLY_ARTICLE = "reply_article"  # suffixed with the suggestion's place
# Shopify actions on an order (issue 22), opened from the order's ⋯ menu in the thread's
# Shopify post and in the Orders modal, or from the Reply modal's buttons once an order is
# picked. Each choice's value is "kind:ticket_id:order_gid".
SHOP_ACTION_MENU = "shop_action_menu"
SHOP_ACTION_BUTTON = "shop_action_button"
SHOP_ACTION_PROGRESS_MODAL = "shop_action_progress_modal"  # loading, refused, done: no submit
SHOP_ORDER_ACTIONS_BLOCK = "shop_order_actions"  # the Reply modal's buttons for a picked order
# Cancel order.
SHOP_CANCEL_MODAL = "shop_cancel_modal"
SHOP_CANCEL_REASON_BLOCK = "shop_cancel_reason"
SHOP_CANCEL_REASON = "shop_cancel_reason_input"
SHOP_CANCEL_OPTIONS_BLOCK = "shop_cancel_options"
SHOP_CANCEL_OPTIONS = "shop_cancel_options_input"
SHOP_CANCEL_NOTE_BLOCK = "shop_cancel_note"
SHOP_CANCEL_NOTE = "shop_cancel_note_input"
# Change address: one input per field, block "shop_address:<field>".
SHOP_ADDRESS_MODAL = "shop_address_modal"
SHOP_ADDRESS_BLOCK = "shop_address"
SHOP_ADDRESS_INPUT = "shop_address_input"
# Reship: one quantity per line item, block "shop_reship_line:<index>".
SHOP_RESHIP_MODAL = "shop_reship_modal"
SHOP_RESHIP_LINE_BLOCK = "shop_reship_line"
SHOP_RESHIP_QUANTITY = "shop_reship_quantity_input"
# Discount.
SHOP_DISCOUNT_MODAL = "shop_discount_modal"
SHOP_DISCOUNT_CODE_BLOCK = "shop_discount_code"
SHOP_DISCOUNT_CODE = "shop_discount_code_input"
SHOP_DISCOUNT_KIND_BLOCK = "shop_discount_kind"
SHOP_DISCOUNT_KIND = "shop_discount_kind_input"
SHOP_DISCOUNT_VALUE_BLOCK = "shop_discount_value"
SHOP_DISCOUNT_VALUE = "shop_discount_value_input"
SHOP_DISCOUNT_EXPIRY_BLOCK = "shop_discount_expiry"
SHOP_DISCOUNT_EXPIRY = "shop_discount_expiry_input"
# Refund (bot/views/refund_modal.py), opened from an order's ⋯ menu like the others: one
# quantity per line item, block "shop_refund_line:<index>"; Calculate asks Shopify, then the
# same modal confirms.
SHOP_REFUND_MODAL = "shop_refund_modal"
SHOP_REFUND_LINE_BLOCK = "shop_refund_line"
SHOP_REFUND_QUANTITY = "shop_refund_quantity_input"
SHOP_REFUND_OPTIONS_BLOCK = "shop_refund_options"
SHOP_REFUND_OPTIONS = "shop_refund_options_input"
SHOP_REFUND_NOTE_BLOCK = "shop_refund_note"
SHOP_REFUND_NOTE = "shop_refund_note_input"
# An approver's Approve / Decline on a request over someone's limits; the value is the
# action's id, the block "shop_approval:<action id>".
SHOP_APPROVAL_BLOCK = "shop_approval"
SHOP_APPROVE = "shop_action_approve"
SHOP_DECLINE = "shop_action_decline"
