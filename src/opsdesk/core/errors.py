"""Domain errors. Views and the API translate them; services raise them."""

from __future__ import annotations


class OpsDeskError(Exception):
    """Base of every error a service raises on purpose."""

    status_code = 400

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class NotFound(OpsDeskError):
    status_code = 404


class PermissionDenied(OpsDeskError):
    status_code = 403


class InvalidInput(OpsDeskError):
    status_code = 422


class Conflict(OpsDeskError):
    status_code = 409
