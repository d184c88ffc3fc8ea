"""Configuration of one provider's invoice feed; the application's settings object builds these."""

from __future__ import annotations

from pydantic import Field

from connectors.rest import RestSettings

__all__ = ["FeedSettings"]

MAX_DOCUMENT_BYTES = 20 * 1024 * 1024


class FeedSettings(RestSettings):
    """Where one provider's invoice feed is and how to authenticate (see `connectors.rest.RestSettings`)."""

    page_limit: int = Field(default=100, ge=1, le=500)
    """Items asked for per page by ``iter_new``."""
    max_document_bytes: int = Field(default=MAX_DOCUMENT_BYTES, ge=1024)
    """Largest document ``download`` accepts; a larger one is refused, not truncated."""
