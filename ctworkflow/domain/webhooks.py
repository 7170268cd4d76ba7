"""Webhooks, pure: which events there are, which URLs may receive them, how a body is signed.

A delivery carries two headers:

- ``CTW-Webhook-Id``: the delivery's id (the same on every retry of one event, so a receiver
  can drop duplicates);
- ``CTW-Signature: t=<unix seconds>,v1=<hex>``, where ``<hex>`` is HMAC-SHA256, keyed with the
  webhook's secret, of ``"<t>." + body`` (the scheme Stripe uses). A receiver recomputes it over
  the raw body, compares in constant time, and refuses a ``t`` too far from its own clock, so a
  captured request cannot be replayed later.

A webhook's secret is never stored: it is derived from the server key (``CTW_WEBHOOK_KEY``) and
the webhook's id, so the database alone cannot sign anything.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Final
from urllib.parse import urlsplit

from ctworkflow import errors
from ctworkflow.domain.inputs import preview
from ctworkflow.domain.states import SessionStatus, SessionType

SIGNATURE_HEADER: Final = "CTW-Signature"
DELIVERY_HEADER: Final = "CTW-Webhook-Id"
EVENT_HEADER: Final = "CTW-Event"
#: How far a signature's timestamp may be from the receiver's clock (docs/webhooks.md).
TOLERANCE_S: Final = 300
URL_MAX: Final = 2048
SECRET_PREFIX: Final = "whsec_"


class DeliveryStatus(StrEnum):
    """Where one event's delivery to one webhook is."""

    PENDING = "pending"  #: not sent yet, or sent and due again after a failure
    DELIVERED = "delivered"  #: the receiver answered 2xx
    FAILED = "failed"  #: every attempt failed; not sent again


def event_name(session_type: SessionType, status: SessionStatus) -> str:
    """``session.complete`` for a context session's end, ``component.failed`` for a child's."""
    kind = "session" if session_type is SessionType.CONTEXT_TESTING else "component"
    return f"{kind}.{status.value}"


def check_url(value: object) -> str:
    """A webhook URL: HTTPS anywhere, or plain HTTP to a loopback address; else InvalidInput."""
    if not isinstance(value, str) or not value.strip():
        raise errors.InvalidInput("webhook url must be a non-empty text")
    url = value.strip()
    if len(url) > URL_MAX:
        raise errors.InvalidInput(f"webhook url is {len(url)} characters long; at most {URL_MAX}")
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018  (raises ValueError on a malformed port)
    except ValueError:
        raise errors.InvalidInput(f"webhook url {preview(url)} is malformed") from None
    if parts.scheme not in ("https", "http") or not host:
        raise errors.InvalidInput(f"webhook url {preview(url)} must be https://host/...")
    if parts.username is not None or parts.password is not None:
        raise errors.InvalidInput("webhook url must not carry credentials")
    if any(ord(c) < 0x21 for c in url):
        raise errors.InvalidInput(f"webhook url {preview(url)} holds spaces or control characters")
    if parts.scheme == "http" and not is_loopback(host):
        raise errors.InvalidInput(
            f"webhook url {preview(url)} must use https (plain http only to a loopback address)"
        )
    return url


def is_loopback(host: str) -> bool:
    """Tell whether ``host`` is this machine: ``localhost`` or a loopback address."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def derive_secret(server_key: str, webhook_id: str) -> str:
    """The signing secret of a webhook: HMAC-SHA256 of the server key over its id."""
    if not server_key:
        raise errors.ConfigurationError(
            "CTW_WEBHOOK_KEY is not set: set it to a long random value to sign webhooks"
        )
    digest = hmac.new(server_key.encode(), f"webhook:{webhook_id}".encode(), hashlib.sha256)
    return SECRET_PREFIX + digest.hexdigest()


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The hex HMAC-SHA256 of ``"<timestamp>." + body`` keyed with ``secret``."""
    signed = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def signature_header(secret: str, timestamp: int, body: bytes) -> str:
    """The value of the ``CTW-Signature`` header."""
    return f"t={timestamp},v1={signature(secret, timestamp, body)}"


def verify(
    secret: str, header: str, body: bytes, *, now: int, tolerance_s: int = TOLERANCE_S
) -> bool:
    """Tell whether ``header`` signs ``body`` with ``secret`` at a time close enough to ``now``."""
    fields: dict[str, list[str]] = {}
    for item in header.split(","):
        key, _, value = item.strip().partition("=")
        fields.setdefault(key, []).append(value)
    try:
        timestamp = int(fields["t"][0])
    except (KeyError, ValueError):
        return False
    if abs(now - timestamp) > tolerance_s:
        return False
    expected = signature(secret, timestamp, body)
    return any(hmac.compare_digest(expected, given) for given in fields.get("v1", []))


@dataclass(frozen=True, slots=True, kw_only=True)
class Webhook:
    """A project's receiver of session events."""

    id: uuid.UUID
    account_id: uuid.UUID
    project_id: uuid.UUID
    url: str
    component_events: bool
    created_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class Delivery:
    """One event for one webhook: the outbox row and the record of its sending."""

    id: uuid.UUID
    account_id: uuid.UUID
    project_id: uuid.UUID
    webhook_id: uuid.UUID
    session_id: uuid.UUID
    event: str
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime
    body: str | None
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None
