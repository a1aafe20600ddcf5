"""Retry policy: backoff schedule with cap and jitter bounds, transient vs permanent errors."""

from __future__ import annotations

import random

import pytest

from jobs.policy import (
    DEFAULT_POLICY,
    SINGLE_ATTEMPT,
    PermanentError,
    RetryPolicy,
    TransientError,
)
from jobs.queues import DEFAULT_QUEUES


def test_defaults_are_three_attempts_from_two_seconds_and_reports_one() -> None:
    assert DEFAULT_POLICY.max_attempts == 3
    assert DEFAULT_POLICY.nominal_delay(1) == 2.0
    assert DEFAULT_POLICY.nominal_delay(2) == 4.0
    reports = {q.name: q for q in DEFAULT_QUEUES}["reports"]
    assert reports.policy is SINGLE_ATTEMPT
    assert reports.policy.max_attempts == 1


@pytest.mark.parametrize("seed", range(20))
def test_delays_stay_within_jitter_bounds_and_under_the_cap(seed: int) -> None:
    rng = random.Random(seed)
    policy = RetryPolicy(
        max_attempts=20, base_delay=1, factor=3, max_delay=60, jitter=0.25, rng=rng.random
    )
    for failed in range(1, 20):
        low, high = policy.bounds(failed)
        nominal = min(60.0, 1 * 3 ** (failed - 1))
        assert low == pytest.approx(nominal * 0.75)
        assert high == pytest.approx(min(60.0, nominal * 1.25))
        delay = policy.delay(failed)
        assert low <= delay <= high <= 60


def test_jitter_spreads_delays() -> None:
    rng = random.Random(1)
    policy = RetryPolicy(base_delay=10, jitter=0.5, rng=rng.random)
    delays = {round(policy.delay(1), 3) for _ in range(50)}
    assert len(delays) > 40
    assert min(delays) >= 5
    assert max(delays) <= 15


def test_huge_attempt_numbers_stay_finite() -> None:
    assert RetryPolicy(max_delay=30).nominal_delay(10_000) == 30


def test_transient_errors_retry_until_attempts_run_out() -> None:
    policy = RetryPolicy(max_attempts=3)
    for error in (TransientError("later"), ConnectionError("reset"), TimeoutError()):
        assert policy.should_retry(error, 1)
        assert policy.should_retry(error, 2)
        assert not policy.should_retry(error, 3)


def test_permanent_errors_fail_at_once_even_if_also_transient() -> None:
    class BothError(PermanentError, ConnectionError):
        pass

    policy = RetryPolicy(max_attempts=5)
    assert not policy.should_retry(PermanentError("bad address"), 1)
    assert not policy.should_retry(ValueError("bad input"), 1)
    assert not policy.should_retry(BothError(), 1)


def test_unknown_errors_follow_retry_unknown() -> None:
    assert RetryPolicy().should_retry(RuntimeError("?"), 1)
    assert not RetryPolicy(retry_unknown=False).should_retry(RuntimeError("?"), 1)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"max_attempts": 0}, "max_attempts"),
        ({"base_delay": -1}, "base_delay"),
        ({"factor": 0.5}, "factor"),
        ({"jitter": 2}, "jitter"),
    ],
)
def test_bad_policies_name_the_field(kwargs: dict[str, float], field: str) -> None:
    with pytest.raises(ValueError, match=field):
        RetryPolicy(**kwargs)  # type: ignore[arg-type]
