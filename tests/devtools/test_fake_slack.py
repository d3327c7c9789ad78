"""FakeSlack driven through slack_sdk's real WebClient, as the helpdesk will drive it."""

import json
import re
import threading
import time
import urllib.request
from collections.abc import Callable

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.web import SlackResponse

from bot.devtools.fake_slack import RESPONSE_URL_METHOD, FakeSlack

from .conftest import SUPPORT

TS = re.compile(r"^\d{10}\.\d{6}$")
SECTION = {"type": "section", "text": {"type": "mrkdwn", "text": "*#1* Broken mug"}}


def slack_error(call: Callable[[], object]) -> SlackApiError:
    with pytest.raises(SlackApiError) as caught:
        call()
    return caught.value


def expect_error(code: str, call: Callable[[], object]) -> SlackApiError:
    error = slack_error(call)
    assert error.response["error"] == code
    return error


def pages_of(response: SlackResponse) -> list[dict]:
    # Iterating a SlackResponse loads each next page into the same object: copy as we go.
    return [dict(page.data) for page in response]


# -- identity and auth -----------------------------------------------------------------------


def test_auth_test_identifies_the_bot(client: WebClient, slack: FakeSlack) -> None:
    answer = client.auth_test()
    assert answer["user_id"] == slack.bot_user_id
    assert answer["team_id"] == slack.team_id
    assert answer["bot_id"] == slack.bot_id


def test_missing_and_wrong_tokens_are_refused(slack: FakeSlack) -> None:
    expect_error("not_authed", WebClient(base_url=slack.url).auth_test)
    wrong = WebClient(token="xoxb-wrong", base_url=slack.url)
    expect_error("invalid_auth", lambda: wrong.chat_postMessage(channel=SUPPORT, text="x"))
    assert slack.messages_in(SUPPORT) == []


def test_api_test_needs_no_token_and_echoes_args(slack: FakeSlack) -> None:
    anonymous = WebClient(base_url=slack.url)
    assert anonymous.api_test(foo="bar")["args"] == {"foo": "bar"}
    expect_error("my_error", lambda: anonymous.api_test(error="my_error"))


def test_unknown_method(client: WebClient) -> None:
    expect_error("unknown_method", lambda: client.api_call("chat.postMesage"))


# -- posting, threads, history ---------------------------------------------------------------


def test_post_message_answers_like_slack(client: WebClient, slack: FakeSlack) -> None:
    first = client.chat_postMessage(channel=SUPPORT, text="#1 Broken mug", blocks=[SECTION])
    second = client.chat_postMessage(channel=SUPPORT, text="#2 Late parcel")

    assert first["channel"] == SUPPORT
    assert TS.match(first["ts"]) and TS.match(second["ts"])
    assert float(second["ts"]) > float(first["ts"])
    message = first["message"]
    assert message["ts"] == first["ts"]
    assert message["user"] == slack.bot_user_id and message["bot_id"] == slack.bot_id
    assert message["text"] == "#1 Broken mug" and message["blocks"] == [SECTION]


def test_form_and_multipart_bodies_are_understood(client: WebClient, slack: FakeSlack) -> None:
    # slack_sdk sends many methods form-encoded (JSON values as text), and calls with files
    # as multipart.
    form = {"channel": SUPPORT, "blocks": json.dumps([SECTION])}
    client.api_call("chat.postMessage", params=form)
    fields = {"channel": SUPPORT, "text": "multipart"}
    client.api_call("chat.postMessage", data=fields, files={"file": b"\x00\xff"})

    as_form, as_multipart = slack.calls("chat.postMessage")
    assert as_form.args["blocks"] == [SECTION]
    assert as_form.headers["content-type"] == "application/x-www-form-urlencoded"
    assert as_multipart.headers["content-type"].startswith("multipart/form-data")
    assert as_multipart.args == {**fields, "file": b"\x00\xff"}
    assert [m.get("blocks") for m in slack.messages_in(SUPPORT)] == [[SECTION], None]


def test_concurrent_posts_get_unique_increasing_timestamps(
    client: WebClient, slack: FakeSlack
) -> None:
    def post_ten() -> None:
        for n in range(10):
            client.chat_postMessage(channel=SUPPORT, text=str(n))

    workers = [threading.Thread(target=post_ten) for _ in range(8)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    stamps = [m["ts"] for m in slack.messages_in(SUPPORT)]
    assert len(stamps) == len(set(stamps)) == 80
    assert stamps == sorted(stamps, key=float)


def test_message_content_is_validated(client: WebClient) -> None:
    expect_error("no_text", lambda: client.api_call("chat.postMessage", json={"channel": SUPPORT}))

    no_text_section = [{"type": "section"}]
    invalid = expect_error(
        "invalid_blocks",
        lambda: client.chat_postMessage(channel=SUPPORT, text="x", blocks=no_text_section),
    )
    assert "json-pointer:/blocks/0" in invalid.response["response_metadata"]["messages"][0]

    not_json = {"channel": SUPPORT, "text": "x", "blocks": "[{"}
    expect_error(
        "invalid_blocks_format", lambda: client.api_call("chat.postMessage", params=not_json)
    )

    no_event_type = {"event_payload": {}}
    expect_error(
        "invalid_metadata_format",
        lambda: client.chat_postMessage(channel=SUPPORT, text="x", metadata=no_event_type),
    )


def test_channel_errors(client: WebClient, slack: FakeSlack) -> None:
    slack.add_channel("C0OTHER", "other", is_member=False)
    slack.add_channel("G0SECRET", "secret", is_member=False, is_private=True)

    expect_error("channel_not_found", lambda: client.chat_postMessage(channel="C0NOPE", text="x"))
    expect_error("not_in_channel", lambda: client.chat_postMessage(channel="C0OTHER", text="x"))
    expect_error("channel_not_found", lambda: client.conversations_info(channel="G0SECRET"))

    assert client.conversations_join(channel="C0OTHER")["channel"]["is_member"] is True
    assert client.chat_postMessage(channel="#other", text="now a member")["channel"] == "C0OTHER"


def test_thread_history_and_replies(client: WebClient, slack: FakeSlack) -> None:
    metadata = {"event_type": "ticket_created", "event_payload": {"ticket": 1}}
    root = client.chat_postMessage(channel=SUPPORT, text="#1 Broken mug", metadata=metadata)["ts"]
    replies = [
        client.chat_postMessage(channel=SUPPORT, text=f"reply {n}", thread_ts=root)["ts"]
        for n in range(3)
    ]
    note = slack.add_message(SUPPORT, "internal note", user="U0AGENT1", thread_ts=root)
    later = client.chat_postMessage(channel=SUPPORT, text="#2 Late parcel")["ts"]

    history = client.conversations_history(channel=SUPPORT)
    assert [m["ts"] for m in history["messages"]] == [later, root]  # newest first, no replies
    listed_root = history["messages"][1]
    assert "metadata" not in listed_root
    assert listed_root["reply_count"] == 4 and listed_root["latest_reply"] == note
    assert listed_root["reply_users"] == [slack.bot_user_id, "U0AGENT1"]

    with_metadata = client.conversations_history(channel=SUPPORT, include_all_metadata=True)
    assert with_metadata["messages"][1]["metadata"] == metadata

    thread = client.conversations_replies(channel=SUPPORT, ts=root)["messages"]
    assert [m["ts"] for m in thread] == [root, *replies, note]
    assert all(m["thread_ts"] == root for m in thread)
    assert thread[1]["parent_user_id"] == slack.bot_user_id
    assert [m["ts"] for m in slack.thread(SUPPORT, replies[0])] == [root, *replies, note]


def test_cursor_pagination(client: WebClient) -> None:
    posted = [client.chat_postMessage(channel=SUPPORT, text=f"#{n}")["ts"] for n in range(5)]
    root = posted[0]
    for n in range(4):
        client.chat_postMessage(channel=SUPPORT, text=f"r{n}", thread_ts=root)

    pages = pages_of(client.conversations_history(channel=SUPPORT, limit=2))
    assert [len(p["messages"]) for p in pages] == [2, 2, 1]
    assert [p["has_more"] for p in pages] == [True, True, False]
    assert [m["ts"] for p in pages for m in p["messages"]] == posted[::-1]

    thread_pages = pages_of(client.conversations_replies(channel=SUPPORT, ts=root, limit=3))
    assert [len(p["messages"]) for p in thread_pages] == [3, 2]
    assert thread_pages[0]["messages"][0]["ts"] == root

    window = client.conversations_history(channel=SUPPORT, oldest=posted[1], latest=posted[3])
    assert [m["ts"] for m in window["messages"]] == [posted[2]]
    expect_error(
        "invalid_cursor", lambda: client.conversations_history(channel=SUPPORT, cursor="bm9wZQ==")
    )


def test_thread_ts_that_names_no_message(client: WebClient, slack: FakeSlack) -> None:
    # Slack accepts such a reply and then shows it nowhere: a bug the fake must not hide.
    unknown = "1600000000.000100"
    assert client.chat_postMessage(channel=SUPPORT, text="lost", thread_ts=unknown)["ok"]

    assert client.conversations_history(channel=SUPPORT)["messages"] == []
    expect_error(
        "thread_not_found", lambda: client.conversations_replies(channel=SUPPORT, ts=unknown)
    )
    expect_error(
        "invalid_thread_ts",
        lambda: client.chat_postMessage(channel=SUPPORT, text="x", thread_ts="0"),
    )
    assert [m["text"] for m in slack.messages_in(SUPPORT)] == ["lost"]


def test_update_delete_and_permalink(client: WebClient, slack: FakeSlack) -> None:
    root = client.chat_postMessage(channel=SUPPORT, text="#1 open", blocks=[SECTION])["ts"]
    reply = client.chat_postMessage(channel=SUPPORT, text="hi", thread_ts=root)["ts"]

    updated = client.chat_update(channel=SUPPORT, ts=root, text="#1 closed")
    assert updated["ts"] == root and updated["text"] == "#1 closed"
    stored = slack.messages_in(SUPPORT)[0]
    assert stored["text"] == "#1 closed" and stored["blocks"] == [SECTION]  # blocks kept
    assert "edited" in stored
    expect_error(
        "message_not_found", lambda: client.chat_update(channel=SUPPORT, ts="1.1", text="x")
    )
    human = slack.add_message(SUPPORT, "typed by an agent", user="U0AGENT1")
    expect_error(
        "cant_update_message", lambda: client.chat_update(channel=SUPPORT, ts=human, text="x")
    )

    link = client.chat_getPermalink(channel=SUPPORT, message_ts=reply)["permalink"]
    assert link.startswith(f"https://fake.slack.test/archives/{SUPPORT}/p")
    assert f"thread_ts={root}" in link

    client.chat_delete(channel=SUPPORT, ts=reply)
    assert [m["ts"] for m in slack.thread(SUPPORT, root)] == [root]


def test_ephemeral_messages_and_reactions(client: WebClient, slack: FakeSlack) -> None:
    ephemeral = client.chat_postEphemeral(channel=SUPPORT, user="U0AGENT1", text="only you")
    assert TS.match(ephemeral["message_ts"])
    assert slack.messages_in(SUPPORT) == []  # ephemeral messages are not kept in the channel

    ts = client.chat_postMessage(channel=SUPPORT, text="#1")["ts"]
    client.reactions_add(channel=SUPPORT, timestamp=ts, name="white_check_mark")
    assert slack.messages_in(SUPPORT)[0]["reactions"] == [
        {"name": "white_check_mark", "users": [slack.bot_user_id], "count": 1}
    ]
    expect_error(
        "already_reacted",
        lambda: client.reactions_add(channel=SUPPORT, timestamp=ts, name="white_check_mark"),
    )


def test_conversation_info_members_and_direct_messages(client: WebClient, slack: FakeSlack) -> None:
    slack.add_user("U0AGENT1", "ann")
    slack.add_channel("C0TEAM", "team", members=["U0AGENT1", "U0AGENT2", "U0AGENT3"])

    info = client.conversations_info(channel="C0TEAM")["channel"]
    assert info["name"] == "team" and info["is_member"] and not info["is_private"]
    pages = pages_of(client.conversations_members(channel="C0TEAM", limit=3))
    members = [m for p in pages for m in p["members"]]
    assert members == ["U0AGENT1", "U0AGENT2", "U0AGENT3", slack.bot_user_id]

    direct = client.chat_postMessage(channel="U0AGENT1", text="SLA breached on #1")
    assert direct["channel"].startswith("D")
    assert client.conversations_open(users="U0AGENT1")["channel"]["id"] == direct["channel"]


def test_users(client: WebClient, slack: FakeSlack) -> None:
    slack.add_user("U0AGENT1", "ann", real_name="Ann Agent", email="Ann@Example.com")

    user = client.users_info(user="U0AGENT1")["user"]
    assert user["real_name"] == "Ann Agent" and user["profile"]["email"] == "Ann@Example.com"
    assert client.users_lookupByEmail(email="ann@example.com")["user"]["id"] == "U0AGENT1"
    expect_error("user_not_found", lambda: client.users_info(user="U0NOBODY"))
    expect_error("users_not_found", lambda: client.users_lookupByEmail(email="x@example.com"))


def test_presence(client: WebClient, slack: FakeSlack) -> None:
    slack.add_user("U0AGENT1", "ann")
    slack.add_user("U0AGENT2", "bob")
    slack.set_presence("U0AGENT2", "away")

    assert client.users_getPresence(user="U0AGENT1")["presence"] == "active"
    assert client.users_getPresence(user="U0AGENT2").data == {"ok": True, "presence": "away"}
    assert client.api_call("users.getPresence")["presence"] == "active"  # the caller's own
    expect_error("user_not_found", lambda: client.users_getPresence(user="U0NOBODY"))
    with pytest.raises(ValueError):
        slack.set_presence("U0AGENT1", "busy")
    slack.revoke_scope("users:read")
    refused = expect_error("missing_scope", lambda: client.users_getPresence(user="U0AGENT1"))
    assert refused.response["needed"] == "users:read"


def test_user_groups(client: WebClient, slack: FakeSlack) -> None:
    slack.add_usergroup("S0RETURNS", ["U0AGENT1", "U0AGENT2"])

    assert client.usergroups_users_list(usergroup="S0RETURNS")["users"] == [
        "U0AGENT1",
        "U0AGENT2",
    ]
    expect_error("no_such_subteam", lambda: client.usergroups_users_list(usergroup="S0NONE"))
    expect_error("invalid_arguments", lambda: client.api_call("usergroups.users.list"))
    slack.revoke_scope("usergroups:read")
    refused = expect_error(
        "missing_scope", lambda: client.usergroups_users_list(usergroup="S0RETURNS")
    )
    assert refused.response["needed"] == "usergroups:read"
    slack.reset()
    expect_error("no_such_subteam", lambda: client.usergroups_users_list(usergroup="S0RETURNS"))


def test_views(client: WebClient, slack: FakeSlack) -> None:
    modal = {
        "type": "modal",
        "callback_id": "reply_modal",
        "title": {"type": "plain_text", "text": "Reply"},
        "blocks": [SECTION],
    }
    expect_error("invalid_trigger_id", lambda: client.views_open(trigger_id="", view=modal))
    long_title = {**modal, "title": {"type": "plain_text", "text": "x" * 30}}
    expect_error(
        "invalid_arguments", lambda: client.views_open(trigger_id="1.2.a", view=long_title)
    )

    opened = client.views_open(trigger_id="1.2.a", view=modal)["view"]
    assert opened["id"].startswith("V") and opened["callback_id"] == "reply_modal"
    changed = {**modal, "blocks": [SECTION, {"type": "divider"}]}
    updated = client.views_update(view_id=opened["id"], view=changed, hash=opened["hash"])
    assert updated["view"]["id"] == opened["id"]
    assert slack.view(opened["id"])["blocks"] == changed["blocks"]
    stale = opened["hash"]
    expect_error(
        "hash_conflict", lambda: client.views_update(view_id=opened["id"], view=modal, hash=stale)
    )

    client.views_publish(user_id="U0AGENT1", view={"type": "home", "blocks": [SECTION]})
    assert slack.home_view("U0AGENT1")["blocks"] == [SECTION]


def test_files_upload_v2_end_to_end(client: WebClient, slack: FakeSlack) -> None:
    root = client.chat_postMessage(channel=SUPPORT, text="#1 Broken mug")["ts"]

    upload = client.files_upload_v2(
        channel=SUPPORT,
        thread_ts=root,
        content=b"order 1001: 1 mug",
        filename="order.txt",
        title="Order",
        initial_comment="Order details",
    )

    shared = upload["file"]
    assert shared["name"] == "order.txt" and shared["title"] == "Order"
    assert shared["size"] == len(b"order 1001: 1 mug")
    assert slack.file_content(shared["id"]) == b"order 1001: 1 mug"
    posted = slack.thread(SUPPORT, root)[-1]
    assert posted["text"] == "Order details"
    assert [f["id"] for f in posted["files"]] == [shared["id"]]
    assert shared["shares"]["public"][SUPPORT][0]["ts"] == posted["ts"]

    download = urllib.request.Request(
        shared["url_private"], headers={"Authorization": f"Bearer {slack.bot_token}"}
    )
    with urllib.request.urlopen(download, timeout=5) as response:
        assert response.read() == b"order 1001: 1 mug"


def test_response_urls_are_recorded(slack: FakeSlack) -> None:
    body = json.dumps({"response_type": "ephemeral", "text": "Ticket #1 escalated"}).encode()
    headers = {"Content-Type": "application/json"}
    request = urllib.request.Request(slack.response_url(), body, headers)
    with urllib.request.urlopen(request, timeout=5) as response:
        assert json.load(response) == {"ok": True}

    (call,) = slack.calls(RESPONSE_URL_METHOD)
    assert call.args["text"] == "Ticket #1 escalated"


# -- failures --------------------------------------------------------------------------------


def test_injected_429_reaches_slack_sdk_with_retry_after(
    client: WebClient, slack: FakeSlack
) -> None:
    slack.fail_next("chat.postMessage", status=429, retry_after=7)

    error = expect_error("ratelimited", lambda: client.chat_postMessage(channel=SUPPORT, text="#1"))
    assert error.response.status_code == 429
    assert error.response.headers["Retry-After"] == "7"
    assert client.chat_postMessage(channel=SUPPORT, text="#1")["ok"]  # only the next call failed


def test_rate_limit_retry_handler_retries_and_succeeds(slack: FakeSlack) -> None:
    client = WebClient(
        token=slack.bot_token,
        base_url=slack.url,
        retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=1)],
    )
    slack.fail_next("chat.postMessage", status=429)  # Retry-After: 1

    assert client.chat_postMessage(channel=SUPPORT, text="#1")["ok"]
    assert [c.status for c in slack.calls("chat.postMessage")] == [429, 200]
    assert len(slack.messages_in(SUPPORT)) == 1


def test_outage_and_server_errors(client: WebClient, slack: FakeSlack) -> None:
    slack.set_outage(True)
    assert expect_error("service_unavailable", client.auth_test).response.status_code == 503
    slack.set_outage(False)
    assert client.auth_test()["ok"]

    slack.fail_next("*", status=500)
    assert slack_error(client.auth_test).response.status_code == 500

    slack.fail_next("chat.update", status=200, error="fatal_error", count=2)

    def update() -> object:
        return client.chat_update(channel=SUPPORT, ts="1.1", text="x")

    for _ in range(2):
        assert expect_error("fatal_error", update).response.status_code == 200
    expect_error("message_not_found", update)


def test_rate_limit_is_per_channel(client: WebClient, slack: FakeSlack) -> None:
    slack.add_channel("C0RETURNS", "returns")
    slack.set_rate_limit("chat.postMessage", per_second=1, burst=1)

    assert client.chat_postMessage(channel=SUPPORT, text="a")["ok"]
    limited = slack_error(lambda: client.chat_postMessage(channel=SUPPORT, text="b"))
    assert limited.response.status_code == 429
    assert limited.response.headers["Retry-After"] == "1"
    assert client.chat_postMessage(channel="C0RETURNS", text="c")["ok"]  # its own bucket
    assert client.conversations_history(channel=SUPPORT)["ok"]  # other methods unaffected


def test_rate_limit_refills_and_can_be_shared(client: WebClient, slack: FakeSlack) -> None:
    slack.add_channel("C0RETURNS", "returns")
    slack.set_rate_limit("chat.postMessage", per_second=4, burst=2, per_channel=False)

    def post(channel: str) -> SlackResponse:
        return client.chat_postMessage(channel=channel, text="x")

    assert post(SUPPORT)["ok"] and post("C0RETURNS")["ok"]
    assert slack_error(lambda: post(SUPPORT)).response.status_code == 429  # one shared bucket
    time.sleep(0.3)  # 4 tokens a second: one is back after 250 ms
    assert post(SUPPORT)["ok"]

    slack.set_rate_limit("chat.postMessage", per_second=None)
    assert all(post(SUPPORT)["ok"] for _ in range(3))


def test_held_answers_arrive_only_when_released(client: WebClient, slack: FakeSlack) -> None:
    slack.hold_responses("chat.postMessage")
    answers: list[SlackResponse] = []
    poster = threading.Thread(
        target=lambda: answers.append(client.chat_postMessage(channel=SUPPORT, text="#1"))
    )
    poster.start()

    slack.wait_for(lambda: len(slack.messages_in(SUPPORT)) == 1)  # Slack has the message...
    poster.join(timeout=0.2)
    assert answers == []  # ...but the caller has not heard back
    slack.release_responses()
    poster.join(timeout=5)
    assert answers[0]["ts"] == slack.messages_in(SUPPORT)[0]["ts"]
    assert client.chat_postMessage(channel=SUPPORT, text="#2")["ok"]  # no longer held


# -- waiting ---------------------------------------------------------------------------------


def test_wait_for_sees_calls_made_from_another_thread(client: WebClient, slack: FakeSlack) -> None:
    def post_three() -> None:
        for n in range(3):
            client.chat_postMessage(channel=SUPPORT, text=f"#{n}")

    worker = threading.Timer(0.05, post_three)
    worker.start()
    assert slack.wait_for(lambda: len(slack.calls("chat.postMessage")) >= 3, timeout=5)
    worker.join()


def test_wait_for_timeout_says_what_was_seen(client: WebClient, slack: FakeSlack) -> None:
    client.auth_test()
    with pytest.raises(AssertionError, match=r"saw 1 call\(s\) \{'auth.test': 1\}"):
        slack.wait_for(lambda: bool(slack.calls("chat.postMessage")), timeout=0.05)
