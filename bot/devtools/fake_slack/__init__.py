"""A stand-in for the Slack Web API, served over real HTTP on 127.0.0.1.

The helpdesk talks to it exactly as it talks to Slack: point ``SLACK_API_URL`` (or
``WebClient(base_url=...)``) at :attr:`FakeSlack.url`. It keeps a small simulated workspace
(channels, users, messages, threads, views, files), records every call, and can be told to
fail the way Slack fails: HTTP 429 with ``Retry-After``, 5xx, outages and per-channel rate
limits.

    with FakeSlack() as slack:
        slack.add_channel("C0SUPPORT", "support")
        client = WebClient(token=slack.bot_token, base_url=slack.url)
        client.chat_postMessage(channel="C0SUPPORT", text="#1 Broken mug")
        slack.wait_for(lambda: len(slack.messages_in("C0SUPPORT")) == 1)

Besides ``/api/<method>`` the server answers three URLs Slack hands out: file upload URLs
(from ``files.getUploadURLExternal``), ``url_private`` file downloads, and ``response_url``s
(from :meth:`FakeSlack.response_url`); posts to the latter are recorded under the method
name :data:`RESPONSE_URL_METHOD`.

One module per job: ``workspace_state`` (and ``workspace_records``) hold the workspace,
``*_methods`` answer the Web API methods of one family each (``web_api`` lists them),
``fault_injection`` fails on request, and ``http_shell`` is the server around them.
"""

from bot.devtools.fake_slack.http_exchange import RecordedRequest
from bot.devtools.fake_slack.http_shell import RESPONSE_URL_METHOD, FakeSlack
from bot.devtools.fake_slack.slack_error import SlackError
from bot.devtools.fake_slack.workspace_records import WORKSPACE_URL

__all__ = ["RESPONSE_URL_METHOD", "WORKSPACE_URL", "FakeSlack", "RecordedRequest", "SlackError"]
