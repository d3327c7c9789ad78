"""The AI client (the official `openai` library) against the fake OpenAI-compatible server over
real HTTP: whole and streamed answers, and every failure as one readable AiProblem."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.checks import _ai_server
from bot.config import AiPolicy, ConfigError, Policy, Settings, load_policy
from bot.devtools.fake_ai import FakeAi
from bot.integrations.ai import AiClient, AiProblem, connect

ASKED = [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "Where is my parcel?"},
]


@pytest.fixture
def server():
    with FakeAi(answer=lambda messages: "It left our warehouse on Monday.") as fake:
        yield fake


def client_for(server: FakeAi, **policy) -> AiClient:
    settings = {"base_url": server.url, "model": "helpdesk-test", **policy}
    return AiClient(AiPolicy(**settings), server.api_key)


@pytest.mark.parametrize("stream", [False, True])
def test_an_answer_comes_back_whole_or_streamed_with_its_token_counts(server, stream):
    answer = client_for(server, stream=stream).complete(ASKED)
    assert answer.text == "It left our warehouse on Monday."
    assert (answer.prompt_tokens, answer.completion_tokens) == (6, 6)
    [request] = server.requests
    assert request["model"] == "helpdesk-test"
    assert request["messages"] == ASKED
    assert bool(request.get("stream")) is stream
    # The model is given no tools: nothing it says can call anything.
    assert "tools" not in request and "functions" not in request


def problem_of(client: AiClient) -> str:
    with pytest.raises(AiProblem) as raised:
        client.complete(ASKED)
    return str(raised.value)


@pytest.mark.parametrize("stream", [False, True])
def test_failures_become_one_line_for_the_agent(server, stream):
    client = client_for(server, stream=stream, timeout=timedelta(seconds=1))
    server.fail_next(429, retry_after=7)
    assert problem_of(client) == "the AI server is busy (429); try again for 7 s"
    server.fail_next(500)
    assert problem_of(client) == "the AI server answered HTTP 500"
    server.slow_next(3)
    assert problem_of(client) == "the AI server did not answer within 1 s"
    server.refuse_next()
    assert problem_of(client) == "the AI server declined to answer"
    # And it still works afterwards: one request per try, never retried behind the agent.
    assert client.complete(ASKED).text == "It left our warehouse on Monday."
    assert len(server.requests) == 5


@pytest.mark.parametrize(
    "garbage",
    [
        b"<html>502 Bad Gateway</html>",
        b'{"choices": [',
        b'{"unexpected": true}',
        b'{"choices": []}',
        b'{"choices": [{"index": 0, "message": {"role": "assistant", "content": "  "}}]}',
    ],
)
def test_garbage_is_an_unreadable_answer_not_a_crash(server, garbage):
    server.garbage_next(garbage)
    assert problem_of(client_for(server)) in (
        "the AI server's answer could not be read",
        "the AI server's answer was empty",
    )


def test_a_wrong_key_and_a_dead_server_are_problems_too(server):
    wrong = AiClient(AiPolicy(base_url=server.url, model="m"), "sk-wrong")
    assert problem_of(wrong) == "the AI server answered HTTP 401"
    url = server.url
    server.stop()
    assert problem_of(AiClient(AiPolicy(base_url=url, model="m"), "k")) == (
        "the AI server could not be reached"
    )


def test_drafting_is_off_without_the_policy_or_the_key():
    policy = Policy.model_validate({"ai": {"base_url": "http://127.0.0.1:9/v1", "model": "m"}})
    assert connect(Settings(_env_file=None), policy.ai) is None
    assert connect(Settings(_env_file=None, ai_api_key="k"), None) is None
    assert connect(Settings(_env_file=None, ai_api_key="k"), policy.ai) is not None


def test_helpdesk_check_asks_the_server_once_and_says_what_is_wrong(server):
    policy = Policy.model_validate({"ai": {"base_url": server.url, "model": "m"}})
    with_key = Settings(_env_file=None, ai_api_key=server.api_key)
    assert _ai_server(Settings(_env_file=None), Policy()).status == "skipped"
    assert "AI_API_KEY is missing" in _ai_server(Settings(_env_file=None), policy).detail
    assert _ai_server(with_key, policy).status == "ok"
    server.fail_next(500)
    failed = _ai_server(with_key, policy)
    assert (failed.status, failed.detail) == (
        "error",
        f"{server.url}: the AI server answered HTTP 500",
    )
    assert server.api_key not in failed.detail


def test_a_bad_server_address_stops_start_up_with_the_key_named(tmp_path):
    written = tmp_path / "helpdesk.yml"
    written.write_text('ai: {base_url: "ftp://models.example/v1", model: m}\n')
    with pytest.raises(ConfigError) as raised:
        load_policy(written)
    assert "ai.base_url" in str(raised.value) and "http://127.0.0.1:8000/v1" in str(raised.value)
