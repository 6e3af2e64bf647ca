"""Encryption of the secrets the hub stores (platform bot tokens), keyed from MORNINGAI_SECRET_KEY.

Fernet (AES-128-CBC + HMAC-SHA256) with a key derived by HKDF, so the secret key itself never
encrypts anything and each purpose gets a key of its own.
"""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


class UnreadableSecret(Exception):
    """A stored secret does not decrypt: MORNINGAI_SECRET_KEY changed since it was stored."""


class SecretBox:
    def __init__(self, secret_key: str, purpose: str):
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                   info=f"morningai {purpose}".encode()).derive(secret_key.encode())
        self._fernet = Fernet(base64.urlsafe_b64encode(key))

    def seal(self, plaintext: str) -> bytes:
        return self._fernet.encrypt(plaintext.encode())

    def open(self, ciphertext: bytes) -> str:
        try:
            return self._fernet.decrypt(bytes(ciphertext)).decode()
        except InvalidToken:
            raise UnreadableSecret("a stored token does not decrypt: was MORNINGAI_SECRET_KEY changed? "
                                   "Reinstall the app to store it again") from None
