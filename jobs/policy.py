"""Retry policies: attempts, exponential backoff with a cap and jitter, transient vs permanent."""

from __future__ import annotations

import random
import socket
from collections.abc import Callable
from dataclasses import dataclass, field

ErrorClasses = tuple[type[BaseException], ...]


class TransientError(Exception):
    """A failure worth retrying (a server said "try later", a connection dropped)."""


class PermanentError(Exception):
    """A failure that a retry cannot fix (bad input, a refused recipient); fails at once."""


#: Errors retried by default: our own transient marker and the network's usual suspects.
DEFAULT_TRANSIENT: ErrorClasses = (
    TransientError,
    ConnectionError,
    TimeoutError,
    socket.timeout,
)
#: Errors never retried by default, even when they subclass a transient class.
DEFAULT_PERMANENT: ErrorClasses = (PermanentError, ValueError, TypeError, KeyError, LookupError)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How a job kind is retried.

    The delay before attempt ``n + 1`` (after ``n`` failed attempts) is
    ``min(cap, base * factor ** (n - 1))``, then jittered by ``± jitter`` of itself,
    never below zero and never above ``cap``.

    Args:
        max_attempts: attempts in all, the first included (1 means never retried).
        base_delay: seconds before the second attempt.
        factor: growth of the delay per failed attempt.
        max_delay: the cap on any delay, in seconds.
        jitter: fraction (0..1) of the delay drawn at random either way, so that
            many jobs failing together do not all come back at the same instant.
        transient: error classes retried while attempts remain.
        permanent: error classes that fail the job at once; checked first.
        retry_unknown: whether an error in neither list is retried.
    """

    max_attempts: int = 3
    base_delay: float = 2.0
    factor: float = 2.0
    max_delay: float = 300.0
    jitter: float = 0.2
    transient: ErrorClasses = DEFAULT_TRANSIENT
    permanent: ErrorClasses = DEFAULT_PERMANENT
    retry_unknown: bool = True
    rng: Callable[[], float] = field(default=random.random, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts: must be at least 1")
        if self.base_delay < 0 or self.max_delay < 0:
            raise ValueError("base_delay/max_delay: must not be negative")
        if self.factor < 1:
            raise ValueError("factor: must be at least 1")
        if not 0 <= self.jitter <= 1:
            raise ValueError("jitter: must be between 0 and 1")

    def bounds(self, failed_attempts: int) -> tuple[float, float]:
        """The (lowest, highest) delay after ``failed_attempts`` failures (1 = first try)."""
        nominal = self.nominal_delay(failed_attempts)
        low = max(0.0, nominal * (1 - self.jitter))
        high = min(self.max_delay, nominal * (1 + self.jitter))
        return low, high

    def nominal_delay(self, failed_attempts: int) -> float:
        """The delay before jitter after ``failed_attempts`` failures."""
        if failed_attempts < 1:
            raise ValueError("failed_attempts: must be at least 1")
        exponent = min(failed_attempts - 1, 64)  # keeps the power finite
        return float(min(self.max_delay, self.base_delay * self.factor**exponent))

    def delay(self, failed_attempts: int) -> float:
        """A jittered delay in seconds before the next attempt."""
        low, high = self.bounds(failed_attempts)
        return low + (high - low) * self.rng()

    def is_permanent(self, error: BaseException) -> bool:
        """Whether ``error`` must fail the job at once, whatever attempts remain."""
        if isinstance(error, self.permanent):
            return True
        if isinstance(error, self.transient):
            return False
        return not self.retry_unknown

    def should_retry(self, error: BaseException, attempts_made: int) -> bool:
        """Whether a job that failed with ``error`` on attempt ``attempts_made`` runs again."""
        return attempts_made < self.max_attempts and not self.is_permanent(error)


@dataclass(frozen=True, slots=True)
class RateLimit:
    """At most ``jobs`` jobs start per ``per_seconds`` (across every runner); the rest wait.

    Args:
        jobs: how many may start in one window.
        per_seconds: the window's length (60 for "per minute").
    """

    jobs: int
    per_seconds: float = 60.0

    def __post_init__(self) -> None:
        if self.jobs < 1:
            raise ValueError("rate limit jobs: must be at least 1")
        if self.per_seconds <= 0:
            raise ValueError("rate limit per_seconds: must be positive")


#: The web system's default: 3 attempts, 2 s, 4 s (each ±20 %).
DEFAULT_POLICY = RetryPolicy()
#: Reports are expensive and not worth repeating blindly: one attempt.
SINGLE_ATTEMPT = RetryPolicy(max_attempts=1)
