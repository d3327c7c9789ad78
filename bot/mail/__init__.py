"""Email parsing, pure and standard-library only: raw bytes in, helpdesk-ready fields out.

`parse.parse_email` is the entry point; `quotes`, `html_text` and `subjects` are usable on
their own. Nothing here touches the network, the database or Slack.
"""
