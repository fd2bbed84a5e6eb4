"""Errors the service layer raises; entry points turn them into messages and exit codes."""

from __future__ import annotations

from states import InvalidTransition

__all__ = [
    "USER_ERRORS",
    "ConcurrencyConflict",
    "Forbidden",
    "InvalidTransition",
    "NotFound",
    "ServiceError",
    "ValidationFailed",
]


class ServiceError(Exception):
    """Base of errors a user can act on; the message is Chinese and complete.

    ``http_status`` is the status an HTTP entry point answers with; each subclass that
    means something else (not found, forbidden, a conflict, ...) sets its own.
    """

    http_status = 400


class NotFound(ServiceError):
    http_status = 404


class Forbidden(ServiceError):
    """The caller may not see or change this record (outside its unit, or its role)."""

    http_status = 403


class ConcurrencyConflict(ServiceError):
    """Someone else changed the record first; nothing of this change was written."""

    http_status = 409
    #: What a person at a screen should do next; shown after the message on web pages.
    hint = "另一位人员已先处理了该案件，请刷新页面查看最新状态。"


class ValidationFailed(ServiceError):
    """Input refused; ``errors`` lists every problem found (file, row, column where known)."""

    http_status = 400

    def __init__(self, errors: list[str]):
        self.errors = errors
        super().__init__(
            "；".join(errors[:5]) + (f"；等共 {len(errors)} 处错误" if len(errors) > 5 else "")
        )


#: The roots of every error a user can act on; each carries its ``http_status``.
USER_ERRORS: tuple[type[Exception], ...] = (ServiceError, InvalidTransition)
