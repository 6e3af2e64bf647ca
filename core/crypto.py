"""Encryption of the secrets the hub stores (platform bot tokens), keyed from MORNINGAI_SECRET_KEY.

Fernet (AES-128-CBC + HMAC-SHA256) with a key derived by HKDF, so the secret key itself never
encrypts anything and each purpose gets a key of its own.
"""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


class UnreadableSecret(Exception):
    """A stored secret does not decrypt: MORNINGAI_SECRET_KEY changed since it was stored."""


def _fernet(secret_key: str, purpose: str) -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
               info=f"morningai {purpose}".encode()).derive(secret_key.encode())
    return Fernet(base64.urlsafe_b64encode(key))


class SecretBox:
    """Seals with `secret_key`; opens what it or `previous_key` sealed, so a key can be rotated
    without a moment where stored secrets are unreadable (`morningai rotate-secret-key`)."""

    def __init__(self, secret_key: str, purpose: str, previous_key: str | None = None):
        keys = [secret_key, previous_key] if previous_key else [secret_key]
        self._fernet = MultiFernet([_fernet(key, purpose) for key in keys])

    def seal(self, plaintext: str) -> bytes:
        return self._fernet.encrypt(plaintext.encode())

    def open(self, ciphertext: bytes) -> str:
        try:
            return self._fernet.decrypt(bytes(ciphertext)).decode()
        except InvalidToken:
            raise _unreadable() from None

    def reseal(self, ciphertext: bytes) -> bytes:
        """The secret sealed again with the current key."""
        try:
            return self._fernet.rotate(bytes(ciphertext))
        except InvalidToken:
            raise _unreadable() from None


def _unreadable() -> UnreadableSecret:
    return UnreadableSecret("a stored token does not decrypt: was MORNINGAI_SECRET_KEY changed? Set "
                            "MORNINGAI_PREVIOUS_SECRET_KEY to the old key, or reinstall the app to store it again")
