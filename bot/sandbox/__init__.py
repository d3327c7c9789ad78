"""Sandbox mode: the real helpdesk with a local stand-in for Slack and a mail catcher, and a
page at `/sandbox/` to use it from a browser (`helpdesk serve --sandbox`, `make run`)."""
