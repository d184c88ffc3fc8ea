"""Provider invoice feed connector: list new e-invoices, download them, report a status (idempotent);
and the drop folder for providers that deliver files instead.

See README.md. The feed contract is vangnet's own: ``schemas/providers/openapi.yaml``.
"""

from __future__ import annotations

from .client import FeedItem, FeedPage, ProviderFeedClient, Reason, StatusReceipt
from .dropfolder import DropFile, DropFileChanged, DropFolder
from .errors import FeedProtocolError, FeedRefusedUrl, FeedRejected, FeedTooLarge, FeedUnavailable, ProviderFeedError
from .settings import FeedSettings

__all__ = [
    "DropFile",
    "DropFileChanged",
    "DropFolder",
    "FeedItem",
    "FeedPage",
    "FeedProtocolError",
    "FeedRefusedUrl",
    "FeedRejected",
    "FeedSettings",
    "FeedTooLarge",
    "FeedUnavailable",
    "ProviderFeedClient",
    "ProviderFeedError",
    "Reason",
    "StatusReceipt",
]
