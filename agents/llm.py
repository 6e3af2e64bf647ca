"""Chat models: messages in, a Completion out.

`OpenAIChat` speaks OpenAI's chat completions API, so through OPENAI_BASE_URL it also drives
Ollama, vLLM, LM Studio and gateways. `choose_chat_model(settings)` returns it when there is a
key, else None: the caller then answers offline, from the retrieved passages alone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable
from urllib.parse import urlsplit

import openai

if TYPE_CHECKING:
    from core.config import Settings


class LLMError(Exception):
    """The model did not answer; the message is one line saying what happened and how to fix it."""


@dataclass(frozen=True)
class Completion:
    text: str
    model: str  # as the server names it, which may be a dated snapshot of the model asked for
    prompt_tokens: int  # 0 when the server reports no usage (some compatible servers don't)
    completion_tokens: int
    finish_reason: str = "stop"  # "length": cut off at max_tokens, so the text is incomplete


@runtime_checkable
class ChatModel(Protocol):
    name: str  # the model id

    def complete(self, messages: list[dict], *, max_tokens: int = 1200, temperature: float = 0.2,
                 on_delta: Callable[[str], None] | None = None) -> Completion:
        """The assistant's answer to `messages` (OpenAI's format). With `on_delta` the answer is
        streamed, each piece of text passed to it as it arrives. Raises LLMError."""
        ...


class OpenAIChat:
    """A chat model behind OpenAI's API. The SDK retries 429 (honouring Retry-After), 408, 409
    and 5xx itself, up to `max_retries` times; what still fails comes out as LLMError."""

    def __init__(self, api_key: str, model: str, base_url: str | None = None, timeout: float = 60.0,
                 max_retries: int = 3):
        self.name = model
        self.timeout = timeout
        self.max_retries = max_retries
        self._api_key = api_key
        # `timeout` bounds each wait for the server (connecting, or the next bytes of an answer),
        # so a long answer that keeps streaming is never cut off; an unreachable host fails sooner.
        self._client = openai.OpenAI(api_key=api_key, base_url=base_url, max_retries=max_retries,
                                     timeout=openai.Timeout(timeout, connect=min(timeout, 10.0)))
        # The SDK falls back to $OPENAI_BASE_URL, then OpenAI: name the server it really calls.
        self.base_url = str(self._client.base_url).rstrip("/")

    def complete(self, messages: list[dict], *, max_tokens: int = 1200, temperature: float = 0.2,
                 on_delta: Callable[[str], None] | None = None) -> Completion:
        # max_tokens rather than max_completion_tokens: every OpenAI-compatible server knows it.
        request = {"model": self.name, "messages": messages, "max_tokens": max_tokens,
                   "temperature": temperature}
        try:
            if on_delta is None:
                return self._whole(request)
            return self._streamed(request, on_delta)
        except openai.APIError as exc:
            # `from None`: the SDK's error may quote the server, and a server may echo the key.
            raise LLMError(self._explain(exc)) from None

    def _whole(self, request: dict) -> Completion:
        response = self._client.chat.completions.create(**request)
        if not response.choices:
            raise LLMError(f"{self._where()} returned no answer: check the model {self.name!r} chats")
        choice, usage = response.choices[0], response.usage
        return Completion(text=choice.message.content or "", model=response.model or self.name,
                          prompt_tokens=usage.prompt_tokens if usage else 0,
                          completion_tokens=usage.completion_tokens if usage else 0,
                          finish_reason=choice.finish_reason or "stop")

    def _streamed(self, request: dict, on_delta: Callable[[str], None]) -> Completion:
        pieces, usage, model, finish = [], None, self.name, "stop"
        # include_usage: the server ends the stream with one more chunk, without choices, whose
        # usage holds the token counts; the chunks before it carry none.
        stream = self._client.chat.completions.create(**request, stream=True,
                                                      stream_options={"include_usage": True})
        with stream:  # closes the connection even if on_delta raises
            for chunk in stream:
                model = chunk.model or model
                usage = chunk.usage or usage
                for choice in chunk.choices:
                    if choice.delta is not None and choice.delta.content:
                        pieces.append(choice.delta.content)
                        on_delta(choice.delta.content)
                    finish = choice.finish_reason or finish
        return Completion(text="".join(pieces), model=model,
                          prompt_tokens=usage.prompt_tokens if usage else 0,
                          completion_tokens=usage.completion_tokens if usage else 0,
                          finish_reason=finish)

    # --- errors ---

    def _where(self) -> str:
        return "OpenAI" if urlsplit(self.base_url).hostname == "api.openai.com" \
            else f"the model server at {self.base_url}"

    def _explain(self, exc: openai.APIError) -> str:
        where = self._where()
        # APITimeoutError is a kind of APIConnectionError: test for it first.
        if isinstance(exc, openai.APITimeoutError):
            message = (f"{where} did not answer within {self.timeout:g}s: check that it is up, "
                       "or raise MORNINGAI_LLM_TIMEOUT")
        elif isinstance(exc, openai.APIConnectionError):
            message = f"could not connect to {where}: check OPENAI_BASE_URL and that the server is running"
        elif isinstance(exc, openai.APIStatusError):
            message = self._explain_status(where, exc.status_code, exc.body)
        else:  # an error event in the middle of a stream
            message = f"{where} failed mid-answer: {_detail(exc.body) or exc.message}"
        message = " ".join(message.split())  # one line, whatever the server said
        return message.replace(self._api_key, "****") if self._api_key else message

    def _explain_status(self, where: str, status: int, body: object) -> str:
        detail = _detail(body)
        said = f" ({detail})" if detail else ""
        if status == 401:
            return f"{where} rejected the key (401): check OPENAI_API_KEY"
        if status == 403:
            return f"{where} refused the key access (403){said}: check OPENAI_API_KEY's permissions"
        if status == 404:
            return (f"{where} has no model {self.name!r} (404){said}: check MORNINGAI_CHAT_MODEL "
                    "(and OPENAI_BASE_URL)")
        if status == 429 and isinstance(body, dict) and body.get("code") == "insufficient_quota":
            return f"{where} says the account is out of quota (429): check its plan and billing"
        if status == 429:
            return f"{where} is still rate limiting requests (429) after retries: try again later"
        if status >= 500:
            return f"{where} failed with a server error ({status}) after retries{said}: try again later"
        return f"{where} rejected the request ({status}){said}"


def _detail(body: object) -> str:
    """The server's own explanation, shortened: the SDK hands over the `error` object of the body."""
    message = body.get("message") if isinstance(body, dict) else body if isinstance(body, str) else None
    if not isinstance(message, str):
        return ""
    message = " ".join(message.split())
    return message if len(message) <= 200 else message[:199] + "…"


def choose_chat_model(settings: Settings) -> ChatModel | None:
    """OpenAIChat with OPENAI_API_KEY; None without one, which means: answer offline."""
    if not settings.openai_api_key:
        return None
    return OpenAIChat(settings.openai_api_key.get_secret_value(), settings.chat_model,
                      base_url=settings.openai_base_url, timeout=settings.llm_timeout)
