"""``@cached``: a service read through ``CacheService.get_or_set`` with a key template."""

from __future__ import annotations

import functools
import inspect
import string
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

from cache.keys import TTL

if TYPE_CHECKING:
    from cache.service import CacheService

P = ParamSpec("P")
R = TypeVar("R")


def cached(
    *,
    key: str,
    ttl: float | None = TTL.MEDIUM,
    cache: CacheService | None = None,
    attribute: str = "cache",
    rebuild: Callable[[Any], Any] | None = None,
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Cache a function's result under ``key`` formatted with its arguments.

    Example::

        class PatientService:
            def __init__(self, session_factory, cache: CacheService | None) -> None:
                self.cache = cache

            @cached(ttl=TTL.SHORT, key="search:patient:{query}:{limit}")
            def search(self, query: str, limit: int = 50) -> list[dict[str, Any]]: ...

    Args:
        key: a ``str.format`` template over the parameter names (``{query}``,
            ``{self.clinic}``); checked when decorating.
        ttl: seconds (``TTL`` presets).
        cache: the service to use; by default the method's ``self.<attribute>``, and a
            ``None`` there means "no cache": the function simply runs.
        attribute: the attribute of ``self`` holding the cache.
        rebuild: turns the cached data back into the return type (e.g.
            ``lambda rows: [Patient(**r) for r in rows]``), since dataclasses and rows
            come back from the cache as dicts.

    Raises:
        TypeError: the template names a parameter the function does not have, or there
            is neither ``cache`` nor a ``self`` to find one on.
    """

    def decorate(func: Callable[P, R]) -> Callable[P, R]:
        signature = inspect.signature(func)
        names = list(signature.parameters)
        for _, field, _, _ in string.Formatter().parse(key):
            if field is None:
                continue
            root = field.split(".", 1)[0].split("[", 1)[0]
            if root not in signature.parameters:
                raise TypeError(
                    f"@cached key {key!r} of {func.__qualname__}: {{{field}}} is not a "
                    f"parameter (parameters: {', '.join(names) or 'none'})"
                )
        if cache is None and (not names or names[0] != "self"):
            raise TypeError(
                f"@cached on {func.__qualname__}: pass cache=... (a plain function has no "
                f"self.{attribute} to find it on)"
            )

        @functools.wraps(func)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            service = cache if cache is not None else getattr(args[0], attribute, None)
            if service is None:
                return func(*args, **kwargs)
            bound = signature.bind(*args, **kwargs)
            bound.apply_defaults()
            cache_key = key.format(**bound.arguments)
            value = service.get_or_set(cache_key, lambda: func(*args, **kwargs), ttl)
            return rebuild(value) if rebuild is not None else value  # type: ignore[no-any-return]

        return wrapper

    return decorate
