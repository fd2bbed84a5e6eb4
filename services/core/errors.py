"""Errors the service layer raises; entry points turn them into messages and exit codes."""

from __future__ import annotations

from states import InvalidTransition

__all__ = [
    "ConcurrencyConflict",
    "Forbidden",
    "InvalidTransition",
    "NotFound",
    "ServiceError",
    "ValidationFailed",
]


class ServiceError(Exception):
    """Base of errors a user can act on; the message is Chinese and complete."""


class NotFound(ServiceError):
    pass


class Forbidden(ServiceError):
    """The caller may not see or change this record (outside its unit, or its role)."""


class ConcurrencyConflict(ServiceError):
    """Someone else changed the record first; nothing of this change was written."""


class ValidationFailed(ServiceError):
    """Input refused; ``errors`` lists every problem found (file, row, column where known)."""

    def __init__(self, errors: list[str]):
        self.errors = errors
        super().__init__(
            "；".join(errors[:5]) + (f"；等共 {len(errors)} 处错误" if len(errors) > 5 else "")
        )
