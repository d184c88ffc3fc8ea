"""ZGW JWT authentication: an HS256 token with the ZGW claims, made fresh for every request.

The ZGW "autorisaties" scheme: the client and the API share a secret per ``client_id``; the token
carries ``iss``, ``iat``, ``client_id``, ``user_id`` and ``user_representation`` and goes in
``Authorization: Bearer <jwt>``. HS256 is small enough to do with the standard library.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from typing import Any

__all__ = ["encode_hs256", "zgw_claims"]


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _json(value: Mapping[str, Any]) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def encode_hs256(claims: Mapping[str, Any], secret: str) -> str:
    """A compact JWS (JWT) over ``claims``, signed with HMAC-SHA256 and ``secret``."""
    signing_input = f"{_b64url(_json({'alg': 'HS256', 'typ': 'JWT'}))}.{_b64url(_json(claims))}"
    signature = hmac.new(secret.encode("utf-8"), signing_input.encode("ascii"), hashlib.sha256).digest()
    return f"{signing_input}.{_b64url(signature)}"


def zgw_claims(*, client_id: str, user_id: str, user_representation: str, now: float | None = None) -> dict[str, Any]:
    """The claims the ZGW APIs expect; ``iat`` is the current time in whole seconds."""
    return {
        "iss": client_id,
        "iat": int(time.time() if now is None else now),
        "client_id": client_id,
        "user_id": user_id,
        "user_representation": user_representation,
    }
