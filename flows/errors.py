"""Errors meant for people: what was wrong, and what to do about it."""

from __future__ import annotations


class VangnetError(Exception):
    """A problem the user can act on. The CLI prints `message` and `hint` and exits non-zero."""

    def __init__(self, message: str, *, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint
