"""The chat model provider, through the real openai SDK against the fake OpenAI server, and the
fake's chat completions themselves."""

from __future__ import annotations

import json
import time
import urllib.request

import pytest
from fakes import FakeOpenAI, error_reply, fake_answer

from agents.llm import ChatModel, Completion, LLMError, OpenAIChat, choose_chat_model
from core.config import load_settings

KEY = "sk-test-secret"
MESSAGES = [
    {"role": "system", "content": "You answer from the team's documents."},
    {"role": "user", "content": "How do we deploy?"},
]
PROMPT_WORDS = 6 + 4  # the fake counts words


@pytest.fixture
def server():
    with FakeOpenAI(dims=16, api_key=KEY) as fake:
        yield fake


def chat(server: FakeOpenAI, **kwargs) -> OpenAIChat:
    return OpenAIChat(kwargs.pop("api_key", KEY), kwargs.pop("model", "gpt-4.1-mini"),
                      base_url=server.base_url, **kwargs)


def chat_requests(server: FakeOpenAI):
    return server.requests_to("/v1/chat/completions")


# --- completing ---

def test_completion(server):
    server.reply_with("Merge to main; Render deploys it.")
    model = chat(server)
    assert isinstance(model, ChatModel)
    completion = model.complete(MESSAGES, max_tokens=50, temperature=0.0)
    assert completion == Completion(text="Merge to main; Render deploys it.", model="gpt-4.1-mini",
                                    prompt_tokens=PROMPT_WORDS, completion_tokens=6, finish_reason="stop")
    [request] = chat_requests(server)
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert request.body["messages"] == MESSAGES
    assert (request.body["max_tokens"], request.body["temperature"]) == (50, 0.0)
    assert "stream" not in request.body


def test_model_name_and_base_url_are_honoured(server):
    model = chat(server, model="llama3.1:8b")
    assert (model.name, model.base_url) == ("llama3.1:8b", server.base_url)
    completion = model.complete(MESSAGES)
    assert completion.text == fake_answer(MESSAGES) == "This is a fake answer to: How do we deploy?"
    assert completion.model == "llama3.1:8b"
    [request] = chat_requests(server)  # it reached the fake, at the base URL's /chat/completions
    assert request.body["model"] == "llama3.1:8b"
    assert (request.body["max_tokens"], request.body["temperature"]) == (1200, 0.2)  # the defaults


def test_streaming_calls_on_delta_with_each_piece(server):
    text = "Merge to main.\nRender builds the image, then deploys it  at night."
    server.reply_with(text)
    pieces: list[str] = []
    completion = chat(server).complete(MESSAGES, on_delta=pieces.append)
    assert len(pieces) > 5 and "".join(pieces) == text
    assert completion.text == text
    assert (completion.prompt_tokens, completion.completion_tokens) == (PROMPT_WORDS, len(text.split()))
    assert (completion.model, completion.finish_reason) == ("gpt-4.1-mini", "stop")
    [request] = chat_requests(server)
    assert request.body["stream"] is True
    assert request.body["stream_options"] == {"include_usage": True}


def test_an_answer_cut_at_max_tokens_says_so(server):
    server.reply_with("one two three four five", "one two three four five")
    whole = chat(server).complete(MESSAGES, max_tokens=3)
    streamed = chat(server).complete(MESSAGES, max_tokens=3, on_delta=lambda piece: None)
    for completion in (whole, streamed):
        assert (completion.text, completion.completion_tokens, completion.finish_reason) == \
            ("one two three", 3, "length")


def test_an_exception_in_on_delta_propagates(server):
    def boom(piece: str) -> None:
        raise RuntimeError("client went away")

    with pytest.raises(RuntimeError, match="client went away"):
        chat(server).complete(MESSAGES, on_delta=boom)
    assert chat(server).complete(MESSAGES).text == fake_answer(MESSAGES)  # the client still works


# --- failures ---

def test_429_is_retried_after_retry_after(server):
    server.fail_next(status=429, headers={"Retry-After": "1"})
    started = time.perf_counter()
    completion = chat(server).complete(MESSAGES)
    elapsed = time.perf_counter() - started
    assert completion.text == fake_answer(MESSAGES)
    assert len(chat_requests(server)) == 2  # the 429, then one retry
    assert 0.9 < elapsed < 5  # the SDK's own backoff would have waited 0.5s at most


def test_500_is_retried(server):
    server.fail_next(status=500)
    pieces: list[str] = []
    completion = chat(server).complete(MESSAGES, on_delta=pieces.append)  # streamed requests too
    assert completion.text == "".join(pieces) == fake_answer(MESSAGES)
    assert len(chat_requests(server)) == 2


def test_persistent_500_is_an_llm_error(server):
    server.fail_next(status=503, times=5)
    with pytest.raises(LLMError, match=r"server error \(503\) after retries.*try again later"):
        chat(server, max_retries=1).complete(MESSAGES)
    assert len(chat_requests(server)) == 2


def test_timeout_is_an_llm_error(server):
    server.delay = 2
    started = time.perf_counter()
    with pytest.raises(LLMError) as caught:
        chat(server, timeout=0.3, max_retries=0).complete(MESSAGES)
    assert time.perf_counter() - started < 1.5
    assert str(caught.value) == (f"the model server at {server.base_url} did not answer within 0.3s: "
                                 "check that it is up, or raise MORNINGAI_LLM_TIMEOUT")


def test_bad_key_is_an_llm_error_naming_the_variable_not_the_key(server):
    with pytest.raises(LLMError, match=r"rejected the key \(401\): check OPENAI_API_KEY") as caught:
        chat(server, api_key="sk-wrong-key").complete(MESSAGES)
    assert "sk-wrong-key" not in str(caught.value)
    assert caught.value.__cause__ is None and caught.value.__suppress_context__
    assert len(chat_requests(server)) == 1  # a 401 is not retried


def test_openai_is_named_as_such():
    model = OpenAIChat("sk-x", "gpt-4.1-mini")
    assert model._explain_status(model._where(), 401, None) == \
        "OpenAI rejected the key (401): check OPENAI_API_KEY"


def test_unknown_model_and_bad_request_quote_the_server(server):
    server.chat_hook = lambda request: error_reply(404, f"model '{request.body['model']}' not found")
    with pytest.raises(LLMError, match=r"has no model 'nope' \(404\) \(model 'nope' not found\): "
                                       r"check MORNINGAI_CHAT_MODEL"):
        chat(server, model="nope").complete(MESSAGES)
    server.chat_hook = lambda request: error_reply(400, f"bad\nrequest {KEY}")
    with pytest.raises(LLMError) as caught:
        chat(server).complete(MESSAGES)
    assert str(caught.value) == f"the model server at {server.base_url} rejected the request (400) (bad request ****)"


def test_unreachable_server_is_an_llm_error():
    with FakeOpenAI() as fake:
        base_url = fake.base_url  # nothing listens there once the fake stops
    with pytest.raises(LLMError, match=f"could not connect to the model server at {base_url}: "
                                       "check OPENAI_BASE_URL"):
        OpenAIChat(KEY, "m", base_url=base_url, max_retries=0).complete(MESSAGES)


# --- the fake's chat completions ---

def test_fake_replies_queue_then_hook_then_default(server):
    server.reply_with("first")
    server.chat_hook = lambda request: ("fixed" if len(chat_requests(server)) > 2 else None)
    model = chat(server)
    texts = [model.complete(MESSAGES).text for _ in range(3)]
    assert texts == ["first", fake_answer(MESSAGES), "fixed"]


def test_fake_hook_errors_are_server_errors_not_retried(server):
    def broken(request):
        raise KeyError("oops")

    server.chat_hook = broken
    with pytest.raises(LLMError, match=r"\(500\).*fake server error: KeyError"):
        chat(server).complete(MESSAGES)
    assert len(chat_requests(server)) == 1


def test_fake_streams_openai_sse(server):
    server.reply_with("a b")
    body = {"model": "m", "messages": MESSAGES, "stream": True, "stream_options": {"include_usage": True}}
    request = urllib.request.Request(f"{server.base_url}/chat/completions", data=json.dumps(body).encode(),
                                     headers={"Authorization": f"Bearer {KEY}"}, method="POST")
    with urllib.request.urlopen(request, timeout=5) as response:
        assert response.headers["Content-Type"] == "text/event-stream"
        events = response.read().decode().split("\n\n")
    assert events[-2:] == ["data: [DONE]", ""]
    chunks = [json.loads(event.removeprefix("data: ")) for event in events[:-2]]
    assert {chunk["object"] for chunk in chunks} == {"chat.completion.chunk"}
    assert [chunk["choices"][0]["delta"] for chunk in chunks[:-1]] == \
        [{"role": "assistant", "content": ""}, {"content": "a"}, {"content": " b"}, {}]
    assert chunks[-2]["choices"][0]["finish_reason"] == "stop"
    assert all(chunk["usage"] is None for chunk in chunks[:-1])
    assert chunks[-1]["choices"] == []
    assert chunks[-1]["usage"] == {"prompt_tokens": PROMPT_WORDS, "completion_tokens": 2, "total_tokens": PROMPT_WORDS + 2}


def test_fake_rejects_malformed_chat_requests(server):
    model = chat(server)
    with pytest.raises(LLMError, match=r"\(400\).*'messages' must be a non-empty array"):
        model.complete([])


# --- choosing ---

def test_choose_without_a_key_is_offline(clean_env):
    assert choose_chat_model(load_settings()) is None


def test_choose_with_a_key_is_openai(clean_env):
    clean_env.setenv("OPENAI_API_KEY", "sk-x")
    model = choose_chat_model(load_settings())
    assert isinstance(model, OpenAIChat)
    assert (model.name, model.base_url, model.timeout) == ("gpt-4.1-mini", "https://api.openai.com/v1", 60.0)


def test_choose_honours_model_base_url_and_timeout(clean_env, server):
    clean_env.setenv("OPENAI_API_KEY", KEY)
    clean_env.setenv("OPENAI_BASE_URL", server.base_url)
    clean_env.setenv("MORNINGAI_CHAT_MODEL", "qwen2.5:7b")
    clean_env.setenv("MORNINGAI_LLM_TIMEOUT", "7.5")
    model = choose_chat_model(load_settings())
    assert (model.name, model.timeout) == ("qwen2.5:7b", 7.5)
    assert model.complete(MESSAGES).model == "qwen2.5:7b"
    assert chat_requests(server)[0].body["model"] == "qwen2.5:7b"
