"""Typed errors of the domain services; the UI turns them into inline messages."""

from __future__ import annotations

from collections.abc import Mapping, Sequence


class DomainError(Exception):
    """Base of every error a domain service raises on purpose."""


class ValidationError(DomainError):
    """Bad input: nothing was written.

    Attributes:
        errors: field name -> the rules it broke, e.g. ``{"email": ["must be a valid email
            address"]}``. ``str(exc)`` names field and rule: ``"email: must be a valid email
            address"``.
    """

    def __init__(self, errors: Mapping[str, Sequence[str]]) -> None:
        self.errors: dict[str, list[str]] = {k: list(v) for k, v in errors.items() if v}
        super().__init__("; ".join(self.messages()))

    def messages(self) -> list[str]:
        """Every problem as ``"field: rule"``."""
        return [f"{field}: {rule}" for field, rules in self.errors.items() for rule in rules]

    @classmethod
    def single(cls, field: str, rule: str) -> ValidationError:
        """A validation error for one field and one rule."""
        return cls({field: [rule]})


class NotFound(DomainError):  # noqa: N818 (the name the other areas code against)
    """The entity asked for does not exist.

    Attributes:
        entity: the kind, e.g. ``"patient"``.
        entity_id: the id asked for.
    """

    def __init__(self, entity: str, entity_id: object) -> None:
        self.entity = entity
        self.entity_id = entity_id
        super().__init__(f"{entity} {entity_id}: not found")


class Conflict(DomainError):  # noqa: N818
    """The write clashes with data another user committed meanwhile (e.g. a double booking
    caught by the database guard); reload and try again."""


class PermissionDenied(DomainError):  # noqa: N818
    """The acting staff member's role may not do this (or nobody is signed in); nothing
    was written.

    Attributes:
        permission: the permission that was missing (its value, e.g. ``"manage_staff"``),
            or None when nobody was signed in or the account is inactive.
    """

    def __init__(self, message: str, permission: str | None = None) -> None:
        self.permission = permission
        super().__init__(message)
