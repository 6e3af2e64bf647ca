"""Embedders: the hash embedder's properties, OpenAI through the real SDK against a fake server,
the local model, and how one is chosen from the settings."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import time
import urllib.request

import numpy as np
import openai
import pytest
from conftest import ROOT
from fakes import FakeOpenAI, Reply, Request, fake_vector

from core.config import load_settings
from memory.embedders import (
    Embedder,
    EmbeddingError,
    HashEmbedder,
    LocalEmbedder,
    OpenAIEmbedder,
    choose_embedder,
    explain_choice,
)

QUESTION = "How do I reset my password?"
PARAPHRASE = "What are the steps to reset a forgotten password"
UNRELATED = "The quarterly revenue grew by twelve percent in Europe"


def assert_unit_rows(matrix: np.ndarray, count: int, dims: int) -> None:
    assert matrix.dtype == np.float32
    assert matrix.shape == (count, dims)
    np.testing.assert_allclose(np.linalg.norm(matrix, axis=1), 1.0, atol=1e-5)


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b)


# --- hash ---

def test_hash_shape_normalised_and_empty_input():
    embedder = HashEmbedder()
    assert isinstance(embedder, Embedder)
    assert (embedder.name, embedder.dims) == ("hash-v1", 384)
    texts = [QUESTION, "", "!!! ???", "x", "naïve café " * 300, "\ud800 lone surrogate"]
    assert_unit_rows(embedder.embed(texts), len(texts), 384)  # wordless texts too: no NaN rows
    empty = embedder.embed([])
    assert empty.shape == (0, 384) and empty.dtype == np.float32
    with pytest.raises(TypeError):
        embedder.embed(QUESTION)


def test_hash_is_stable_across_processes():
    texts = [QUESTION, "Éléphant au CAFÉ, ﬁne", "def embed(texts): return np.zeros((0, 384))"]
    script = ("import json, sys; from memory.embedders import HashEmbedder; "
              "print(json.dumps(HashEmbedder().embed(json.loads(sys.argv[1])).tolist()))")
    # Different PYTHONHASHSEEDs: a result leaning on the salted built-in hash() would differ.
    runs = [subprocess.run([sys.executable, "-c", script, json.dumps(texts)], cwd=ROOT, check=True,
                           capture_output=True, text=True, env={"PYTHONHASHSEED": seed}).stdout
            for seed in ("1", "2")]
    first, second = (np.array(json.loads(run), dtype=np.float32) for run in runs)
    np.testing.assert_array_equal(first, second)
    np.testing.assert_array_equal(first, HashEmbedder().embed(texts))


def test_hash_similarity_is_lexical():
    question, paraphrase, unrelated, folded, accented = HashEmbedder().embed(
        [QUESTION, PARAPHRASE, UNRELATED, "elephant cafe", "Éléphant CAFÉ"])
    assert cosine(question, paraphrase) > cosine(question, unrelated) + 0.2
    assert cosine(folded, accented) == pytest.approx(1.0, abs=1e-6)  # case and accents folded


def test_hash_is_fast():
    # ~400-token chunks; the real rate is measured in the report, this only catches a collapse.
    chunk = ("The worker picks the task from the queue, embeds the question, searches the "
             "workspace's chunks and answers in the thread. ") * 20
    texts = [f"{i} {chunk}" for i in range(200)]
    started = time.perf_counter()
    HashEmbedder().embed(texts)
    assert len(texts) / (time.perf_counter() - started) > 300


# --- openai, through the real SDK ---

@pytest.fixture
def server():
    with FakeOpenAI(dims=16, api_key="sk-test") as fake:
        yield fake


def openai_embedder(server: FakeOpenAI, **kwargs) -> OpenAIEmbedder:
    return OpenAIEmbedder("sk-test", base_url=server.base_url, **kwargs)


def test_openai_batches_in_order(server):
    texts = [f"text number {i}" for i in range(600)]
    embedder = openai_embedder(server, model="text-embedding-3-small", batch_size=256)
    assert (embedder.name, embedder.dims) == ("openai:text-embedding-3-small", 1536)
    server.dims = 1536
    vectors = embedder.embed(texts)

    requests = server.requests_to("/v1/embeddings")
    assert [len(request.body["input"]) for request in requests] == [256, 256, 88]
    assert all(request.headers["authorization"] == "Bearer sk-test" for request in requests)
    assert all(request.body["model"] == "text-embedding-3-small" for request in requests)
    assert_unit_rows(vectors, 600, 1536)
    np.testing.assert_allclose(vectors, np.stack([fake_vector(text, 1536) for text in texts]), atol=1e-6)


def test_openai_sorts_rows_by_index(server):
    request = Request("POST", "/v1/embeddings", {}, {"model": "m", "input": ["a", "b", "c"]})
    payload = json.loads(server.embeddings(request).body)
    payload["data"].reverse()  # the API may answer out of order; `index` says whose row it is
    server.reply_next(Reply.json(payload))
    vectors = openai_embedder(server, model="m").embed(["a", "b", "c"])
    np.testing.assert_allclose(vectors, np.stack([fake_vector(t, 16) for t in "abc"]), atol=1e-6)


def test_openai_learns_dims_of_unknown_model(server):
    embedder = openai_embedder(server, model="nomic-embed-text")
    assert embedder.name == "openai:nomic-embed-text"
    assert embedder.dims == 16  # one probe request
    assert len(server.requests) == 1
    assert embedder.embed([]).shape == (0, 16)
    assert_unit_rows(embedder.embed(["", "two"]), 2, 16)  # "" is sent as " ", which the API accepts
    assert len(server.requests) == 2


def test_openai_unexpected_dims_is_an_error(server):
    with pytest.raises(EmbeddingError, match="returned 16 dimensions, expected 1536"):
        openai_embedder(server, model="text-embedding-3-small").embed(["x"])


def test_openai_retries_429_honouring_retry_after(server):
    server.fail_next(status=429, headers={"Retry-After": "0"})
    vectors = openai_embedder(server, model="m").embed(["hello", "world"])
    assert len(server.requests_to("/v1/embeddings")) == 2  # the 429, then one retry
    np.testing.assert_allclose(vectors, np.stack([fake_vector("hello", 16), fake_vector("world", 16)]), atol=1e-6)


def test_openai_retries_500(server):
    server.fail_next(status=500)
    vectors = openai_embedder(server, model="m").embed(["hello"])
    assert len(server.requests) == 2
    np.testing.assert_allclose(vectors[0], fake_vector("hello", 16), atol=1e-6)


def test_openai_persistent_500_is_an_embedding_error(server):
    server.fail_next(status=500, times=10)
    with pytest.raises(EmbeddingError, match="OpenAI embeddings failed: .*500"):
        openai_embedder(server, model="m", max_retries=2).embed(["hello"])
    assert len(server.requests) == 3  # first try + 2 retries


def test_openai_bad_key_is_an_embedding_error_without_retries(server):
    embedder = OpenAIEmbedder("sk-wrong", model="m", base_url=server.base_url)
    with pytest.raises(EmbeddingError, match="401"):
        embedder.embed(["hello"])
    assert len(server.requests) == 1


def test_openai_unreachable_is_an_embedding_error():
    with FakeOpenAI() as fake:
        base_url = fake.base_url  # the port is free again once the fake stops
    with pytest.raises(EmbeddingError, match="OpenAI embeddings failed"):
        OpenAIEmbedder("sk-test", model="m", base_url=base_url, max_retries=0, timeout=5).embed(["x"])


@pytest.mark.parametrize("encoding", ["float", "base64"])
def test_fake_server_speaks_both_encodings(server, encoding):
    client = openai.OpenAI(api_key="sk-test", base_url=server.base_url, max_retries=0)
    response = client.embeddings.create(model="m", input=["hi", "there"], encoding_format=encoding)
    assert [item.index for item in response.data] == [0, 1]
    first = response.data[0].embedding
    if encoding == "base64":
        first = np.frombuffer(base64.b64decode(first), dtype="<f4")
    np.testing.assert_allclose(first, fake_vector("hi", 16), atol=1e-6)
    assert response.usage.total_tokens == 2
    assert server.requests[-1].body["encoding_format"] == encoding


def test_fake_server_default_sdk_encoding_and_errors(server):
    client = openai.OpenAI(api_key="sk-test", base_url=server.base_url, max_retries=0)
    client.embeddings.create(model="m", input="hi")
    assert server.requests[-1].body["encoding_format"] == "base64"  # what this SDK sends by default
    with pytest.raises(openai.BadRequestError):
        client.embeddings.create(model="m", input=[""])
    with pytest.raises(openai.NotFoundError):  # a route the fake does not serve
        client.files.list()
    assert [model.id for model in client.models.list()] == ["gpt-4o-mini", "text-embedding-3-small"]


def test_fake_server_streams_iterable_bodies():
    # The extension point for chat completions: a subclass route whose body is an iterable.
    class Streaming(FakeOpenAI):
        ROUTES = {**FakeOpenAI.ROUTES, "POST /v1/stream": "stream"}

        def stream(self, request):
            return Reply(200, (f"data: {i}\n\n".encode() for i in range(3)),
                         {"Content-Type": "text/event-stream"})

    with Streaming() as fake:
        request = urllib.request.Request(f"{fake.base_url}/stream", data=b"{}", method="POST",
                                         headers={"Authorization": "Bearer k"})
        with urllib.request.urlopen(request, timeout=5) as response:
            assert response.headers["Content-Type"] == "text/event-stream"
            assert response.read() == b"data: 0\n\ndata: 1\n\ndata: 2\n\n"


# --- local ---

@pytest.mark.skipif(not LocalEmbedder.available(), reason="morningai[local] not installed")
def test_local_embedder():
    embedder = LocalEmbedder()
    assert (embedder.name, embedder.dims) == ("local:all-MiniLM-L6-v2", 384)
    vectors = embedder.embed([QUESTION, PARAPHRASE, UNRELATED])
    assert_unit_rows(vectors, 3, 384)
    question, paraphrase, unrelated = vectors
    assert cosine(question, paraphrase) > cosine(question, unrelated) + 0.3
    assert embedder.embed([]).shape == (0, 384)


@pytest.mark.skipif(not LocalEmbedder.available(), reason="morningai[local] not installed")
def test_the_local_model_is_loaded_once_per_process(rt, clean_env):
    """Its start-up cost (seconds) is paid once: a Runtime makes one embedder, which keeps its model."""
    clean_env.setenv("MORNINGAI_EMBEDDINGS", "local")
    rt.settings = load_settings()
    embedder = rt.embedder
    assert isinstance(embedder, LocalEmbedder) and rt.embedder is embedder
    embedder.embed([QUESTION])
    model = embedder._load()
    embedder.embed([PARAPHRASE, UNRELATED])
    assert embedder._load() is model


# --- choosing ---

def test_choose_default_prefers_openai_with_a_key(clean_env):
    clean_env.setenv("OPENAI_API_KEY", "sk-x")
    clean_env.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    clean_env.setenv("MORNINGAI_EMBEDDING_MODEL", "text-embedding-3-large")
    embedder = choose_embedder(load_settings())
    assert isinstance(embedder, OpenAIEmbedder)
    assert (embedder.name, embedder.dims) == ("openai:text-embedding-3-large", 3072)
    assert str(embedder._client.base_url).rstrip("/") == "http://127.0.0.1:9/v1"
    assert explain_choice(load_settings()) == \
        ("openai", "OPENAI_API_KEY is set, so the model's embeddings (text-embedding-3-large)")


def test_choose_default_without_a_key_is_local_then_hash(clean_env):
    assert isinstance(choose_embedder(load_settings()), LocalEmbedder)  # installed here
    kind, why = explain_choice(load_settings())
    assert kind == "local" and why.startswith("no OPENAI_API_KEY, and the local model (all-MiniLM-L6-v2) is installed")
    clean_env.setattr(LocalEmbedder, "available", staticmethod(lambda: False))
    assert isinstance(choose_embedder(load_settings()), HashEmbedder)
    kind, why = explain_choice(load_settings())
    # The reason says how to get the better one.
    assert kind == "hash" and "the local model is not installed" in why and "`make local-embedder`" in why


def test_choose_explicit_wins(clean_env):
    clean_env.setenv("OPENAI_API_KEY", "sk-x")
    clean_env.setenv("MORNINGAI_EMBEDDINGS", "hash")
    assert isinstance(choose_embedder(load_settings()), HashEmbedder)
    clean_env.setenv("MORNINGAI_EMBEDDINGS", "local")
    assert isinstance(choose_embedder(load_settings()), LocalEmbedder)
    assert explain_choice(load_settings()) == ("local", "MORNINGAI_EMBEDDINGS=local is set")


def test_choose_openai_without_a_key_fails(clean_env):
    clean_env.setenv("MORNINGAI_EMBEDDINGS", "openai")
    with pytest.raises(EmbeddingError, match="MORNINGAI_EMBEDDINGS=openai needs OPENAI_API_KEY"):
        choose_embedder(load_settings())


def test_choose_local_when_not_installed_fails(clean_env):
    clean_env.setenv("MORNINGAI_EMBEDDINGS", "local")
    clean_env.setattr(LocalEmbedder, "available", staticmethod(lambda: False))
    with pytest.raises(EmbeddingError, match=r"pip install 'morningai\[local\]'"):
        choose_embedder(load_settings())
