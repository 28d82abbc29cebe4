"""Errors the services raise; handlers turn them into a localized message."""

from __future__ import annotations


class ServiceError(Exception):
    """Base class: `key` is a catalog message id, `params` fill its placeholders."""

    key = "error.generic"

    def __init__(self, key: str | None = None, **params: object) -> None:
        super().__init__(key or self.key)
        self.key = key or self.key
        self.params = params


class PermissionDenied(ServiceError):
    """The actor's role does not allow this."""

    key = "error.permission"


class NotFound(ServiceError):
    """The thing does not exist in this workspace."""

    key = "error.not_found"


class NotOnRoster(ServiceError):
    """The actor is on no sales team yet."""

    key = "error.not_on_roster"


class ValidationFailed(ServiceError):
    """Input is wrong; `errors` maps a field name to (message id, params)."""

    key = "error.validation"

    def __init__(self, errors: dict[str, tuple[str, dict]]) -> None:
        super().__init__()
        self.errors = errors
