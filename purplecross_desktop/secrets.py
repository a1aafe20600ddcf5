"""Secrets from the OS keyring, or ``PURPLECROSS_*`` variables on a headless server.

Secrets are never written to the settings file and never logged.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping

SERVICE = "purplecross"
KNOWN = ("smtp_password", "redis_password", "job_signing_key")

log = logging.getLogger(__name__)


def get_secret(name: str, env: Mapping[str, str] | None = None) -> str | None:
    """The secret ``name``: the environment variable first, then the OS keyring.

    A missing or broken keyring backend (common on headless servers) counts as no
    secret; the failure is logged without the value.
    """
    env = os.environ if env is None else env
    from_env = env.get(f"PURPLECROSS_{name.upper()}")
    if from_env:
        return from_env
    try:
        import keyring
        from keyring.errors import KeyringError

        try:
            return keyring.get_password(SERVICE, name)
        except KeyringError as exc:
            log.info("keyring has no usable backend for %s: %s", name, type(exc).__name__)
            return None
    except Exception as exc:
        log.info("keyring lookup for %s failed: %s", name, type(exc).__name__)
        return None


def set_secret(name: str, value: str) -> None:
    """Store a secret in the OS keyring (raises keyring's error when there is none)."""
    import keyring

    keyring.set_password(SERVICE, name, value)
