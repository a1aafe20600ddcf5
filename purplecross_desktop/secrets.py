"""Secrets from the OS keyring, or ``PURPLECROSS_*`` variables on a headless server.

Secrets are never written to the settings file and never logged.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from urllib.parse import urlsplit

SERVICE = "purplecross"
KNOWN = ("smtp_password", "redis_password", "job_signing_key", "sms_gateway_token")

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


def redis_password_for(url: str | None, env: Mapping[str, str] | None = None) -> str | None:
    """The password to log in to Redis at ``url`` with, beside the URL itself.

    None when there is no URL or the URL carries its own password (that one wins);
    otherwise the ``redis_password`` secret (environment, then keyring), if any. The
    cache, the job broker and the Health page all connect through this rule.
    """
    if not url or urlsplit(url).password is not None:
        return None
    return get_secret("redis_password", env)


def set_secret(name: str, value: str) -> None:
    """Store a secret in the OS keyring (raises keyring's error when there is none)."""
    import keyring

    keyring.set_password(SERVICE, name, value)
