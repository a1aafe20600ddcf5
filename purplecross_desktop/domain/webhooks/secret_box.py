"""Endpoint signing secrets: made as ``whsec_`` + base64, kept encrypted in the database.

Every process that delivers (the app's embedded worker, ``purplecross worker`` on the
clinic server) must sign with the same secret, so the secret lives in the shared
database, encrypted with Fernet (AES-128-CBC + HMAC-SHA256, from ``cryptography``) under
a key derived (HKDF-SHA256) from the job signing key, which every such process already
shares. Rotating ``job_signing_key`` therefore makes the stored secrets unreadable:
rotate each endpoint's secret afterwards (``purplecross webhooks rotate-secret``).
"""

from __future__ import annotations

import base64
import secrets

PREFIX = "whsec_"
SECRET_BYTES = 24


def new_secret() -> str:
    """A fresh signing secret: ``whsec_`` + base64 of 24 random bytes."""
    return PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")


class SecretUnreadable(RuntimeError):  # noqa: N818
    """A stored secret cannot be decrypted (the job signing key changed)."""


class SecretBox:
    """Encrypts and decrypts endpoint secrets with a key derived from ``master_key``.

    Args:
        master_key: the job signing key (bytes); never stored, never shown.
    """

    def __init__(self, master_key: bytes) -> None:
        # Imported here: the app's start-up should not pay for cryptography's import.
        from cryptography.fernet import Fernet
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.kdf.hkdf import HKDF

        if not master_key:
            raise ValueError("master_key: must not be empty")
        derived = HKDF(
            algorithm=hashes.SHA256(),
            length=32,
            salt=b"purplecross webhook secrets",
            info=b"fernet v1",
        ).derive(master_key)
        self._fernet = Fernet(base64.urlsafe_b64encode(derived))
        # Decrypting costs an HMAC and an AES pass per delivery; the sealed text is the key.
        self._opened: dict[str, str] = {}

    def __repr__(self) -> str:
        return "SecretBox(<key hidden>)"

    def seal(self, secret: str) -> str:
        return self._fernet.encrypt(secret.encode("ascii")).decode("ascii")

    def open(self, sealed: str) -> str:
        from cryptography.fernet import InvalidToken

        cached = self._opened.get(sealed)
        if cached is not None:
            return cached
        try:
            secret = self._fernet.decrypt(sealed.encode("ascii")).decode("ascii")
        except InvalidToken:
            raise SecretUnreadable(
                "the endpoint's secret cannot be decrypted: the job signing key changed; "
                "rotate the endpoint's secret"
            ) from None
        if len(self._opened) > 1000:
            self._opened.clear()
        self._opened[sealed] = secret
        return secret
