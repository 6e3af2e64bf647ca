"""Fakes of outside services that tests talk to over real sockets."""

from .openai_server import FakeOpenAI, Reply, Request, error_reply, fake_openai, fake_vector

__all__ = ["FakeOpenAI", "Reply", "Request", "error_reply", "fake_openai", "fake_vector"]
