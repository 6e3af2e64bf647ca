"""Fakes of outside services that tests talk to over real sockets."""

from .discord_server import FakeDiscord
from .github_server import FakeGitHub
from .openai_server import (
    ChatHook,
    FakeOpenAI,
    Reply,
    Request,
    count_tokens,
    error_reply,
    fake_answer,
    fake_openai,
    fake_vector,
    message_text,
)

__all__ = ["ChatHook", "FakeDiscord", "FakeGitHub", "FakeOpenAI", "Reply", "Request", "count_tokens", "error_reply", "fake_answer",
           "fake_openai", "fake_vector", "message_text"]
