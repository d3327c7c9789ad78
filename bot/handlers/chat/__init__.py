"""The live-chat widget, its page and its JSON API under /chat/ (docs/chat.md)."""
