"""Secrets: the one rule for the Redis password that the cache, the broker and Health share."""

from __future__ import annotations

import pytest

from purplecross_desktop.secrets import redis_password_for

ENV = {"PURPLECROSS_REDIS_PASSWORD": "from-keyring-or-env"}


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (None, None),  # no Redis at all
        ("", None),
        ("redis://127.0.0.1:6390/0", "from-keyring-or-env"),  # the URL has none
        ("redis://user@127.0.0.1:6390/0", "from-keyring-or-env"),  # a user is not a password
        ("redis://:in-url@127.0.0.1:6390/0", None),  # the URL's own password wins
        ("redis://user:in-url@127.0.0.1:6390/0", None),
    ],
)
def test_the_secret_is_used_only_when_the_url_has_no_password(
    url: str | None, expected: str | None
) -> None:
    assert redis_password_for(url, ENV) == expected


def test_no_secret_set_means_no_password() -> None:
    assert redis_password_for("redis://127.0.0.1:6390/0", {}) is None
