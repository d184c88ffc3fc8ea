"""Configuration of the arbodienst connector; the application's settings object builds one of these."""

from __future__ import annotations

from pydantic import Field

from connectors.rest import RestSettings

__all__ = ["ArbodienstSettings"]


class ArbodienstSettings(RestSettings):
    """Where one arbodienst's booking API is and how to authenticate (see `connectors.rest.RestSettings`);
    its `name` also names the Prefect concurrency limit."""

    regio: str = Field(default="default", min_length=1, max_length=64)
    """Region asked for in ``list_slots`` unless the call names another."""
