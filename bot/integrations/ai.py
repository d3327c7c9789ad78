"""The policy's `ai` server, asked through the official `openai` client: any server that
speaks OpenAI's chat completions (a hosted one, llama.cpp, Ollama, vLLM).

The model is given text and gives text back: no tools, no functions, nothing it says is
run. Every way it can fail (too slow, busy, down, refusing, answering nonsense) comes out
as `AiProblem`, whose message an agent can read.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from bot.config import AiPolicy, Settings

log = logging.getLogger(__name__)


class AiProblem(Exception):
    """Why there is no answer, in words for the agent."""


@dataclass(frozen=True)
class Completion:
    text: str
    prompt_tokens: int
    completion_tokens: int


# `openai` is imported where it is used: it was a fifth of the CPU `helpdesk serve` spent
# importing, and a helpdesk without the policy's `ai` never needs it.
class AiClient:
    def __init__(self, policy: AiPolicy, api_key: str) -> None:
        import openai

        self.policy = policy
        # No retries: the agent is waiting, and a busy server is told to them rather than
        # hidden behind a minute of backing off.
        self._client = openai.OpenAI(
            base_url=policy.base_url,
            api_key=api_key,
            timeout=policy.timeout.total_seconds(),
            max_retries=0,
        )

    def complete(self, messages: list[dict[str, str]]) -> Completion:
        """The model's answer to `messages`. AiProblem when there is none worth showing."""
        import openai

        try:
            ask = self._streamed if self.policy.stream else self._whole
            completion = ask(messages)
        except openai.RateLimitError as busy:
            wait = busy.response.headers.get("retry-after")
            later = f" for {wait} s" if wait else ""
            raise AiProblem(f"the AI server is busy (429); try again{later}") from None
        except openai.APITimeoutError:
            seconds = self.policy.timeout.total_seconds()
            raise AiProblem(f"the AI server did not answer within {seconds:g} s") from None
        except openai.APIStatusError as failed:
            raise AiProblem(f"the AI server answered HTTP {failed.status_code}") from None
        except openai.APIConnectionError:
            raise AiProblem("the AI server could not be reached") from None
        except (openai.OpenAIError, ValueError, TypeError, AttributeError, KeyError) as odd:
            log.info("unreadable answer from the AI server: %r", odd)
            raise AiProblem("the AI server's answer could not be read") from None
        log.info(
            "AI answer: model %s, %d prompt and %d completion tokens",
            self.policy.model,
            completion.prompt_tokens,
            completion.completion_tokens,
        )
        return completion

    def _request(self, messages: list[dict[str, str]]) -> dict[str, Any]:
        return {
            "model": self.policy.model,
            "messages": messages,
            "max_tokens": self.policy.max_tokens,
            "temperature": 0.3,
        }

    def _whole(self, messages: list[dict[str, str]]) -> Completion:
        from openai.types.chat import ChatCompletion

        answer = self._client.chat.completions.create(**self._request(messages))
        # A body that is not JSON comes back from the client as its text.
        if not isinstance(answer, ChatCompletion) or not answer.choices:
            raise AiProblem("the AI server's answer could not be read")
        message = answer.choices[0].message
        refused(message.refusal, answer.choices[0].finish_reason)
        usage = answer.usage
        return Completion(
            text=usable(message.content),
            prompt_tokens=usage.prompt_tokens if usage else 0,
            completion_tokens=usage.completion_tokens if usage else 0,
        )

    def _streamed(self, messages: list[dict[str, str]]) -> Completion:
        pieces: list[str] = []
        refusal, finish, usage = None, None, None
        stream = self._client.chat.completions.create(
            **self._request(messages), stream=True, stream_options={"include_usage": True}
        )
        for chunk in stream:
            usage = chunk.usage or usage
            for choice in chunk.choices:
                pieces.append(choice.delta.content or "")
                refusal = refusal or choice.delta.refusal
                finish = choice.finish_reason or finish
        refused(refusal, finish)
        return Completion(
            text=usable("".join(pieces)),
            prompt_tokens=usage.prompt_tokens if usage else 0,
            completion_tokens=usage.completion_tokens if usage else 0,
        )


def refused(refusal: str | None, finish_reason: str | None) -> None:
    if refusal or finish_reason == "content_filter":
        raise AiProblem("the AI server declined to answer")


def usable(content: str | None) -> str:
    text = (content or "").strip()
    if not text:
        raise AiProblem("the AI server's answer was empty")
    return text


def connect(settings: Settings, policy: AiPolicy | None) -> AiClient | None:
    """The client, when the policy names a server and AI_API_KEY is set; drafting is off
    otherwise (`helpdesk check` says which is missing)."""
    if policy is None or not settings.ai_api_key:
        return None
    return AiClient(policy, settings.ai_api_key)
