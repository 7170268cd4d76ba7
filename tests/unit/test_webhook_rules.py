"""Webhook rules, pure: which URLs may receive events, how bodies are signed and checked."""

from __future__ import annotations

import hashlib
import hmac
import uuid

import pytest

from ctworkflow import errors
from ctworkflow.domain import webhooks
from ctworkflow.domain.retry import RetryPolicy
from ctworkflow.domain.states import SessionStatus, SessionType


@pytest.mark.parametrize(
    "url",
    [
        "https://ci.example.com/hooks/ctw",
        "https://ci.example.com:8443/h?x=1",
        "http://127.0.0.1:9000/hook",
        "http://localhost/hook",
        "http://[::1]:8080/",
    ],
)
def test_https_anywhere_and_http_to_loopback_are_accepted(url: str) -> None:
    assert webhooks.check_url(url) == url


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("http://ci.example.com/hook", "must use https"),
        ("http://10.0.0.5/hook", "must use https"),
        ("ftp://ci.example.com/", "must be https://"),
        ("https:///nohost", "must be https://"),
        ("https://user:pw@ci.example.com/", "credentials"),
        ("https://ci.example.com/a b", "spaces"),
        ("https://ci.example.com:99999/", "malformed"),
        ("", "non-empty"),
        ("https://e.com/" + "a" * 3000, "at most 2048"),
    ],
)
def test_other_urls_are_refused_saying_why(url: str, says: str) -> None:
    with pytest.raises(errors.InvalidInput, match=says):
        webhooks.check_url(url)


def test_the_signature_is_hmac_sha256_over_timestamp_dot_body() -> None:
    body = b'{"event":"session.complete"}'
    expected = hmac.new(b"whsec_x", b"1700000000." + body, hashlib.sha256).hexdigest()

    header = webhooks.signature_header("whsec_x", 1700000000, body)

    assert header == f"t=1700000000,v1={expected}"
    assert webhooks.verify("whsec_x", header, body, now=1700000100)


@pytest.mark.parametrize(
    ("secret", "body", "now"),
    [
        ("whsec_other", b"{}", 1700000000),  # another secret
        ("whsec_x", b"{} ", 1700000000),  # a changed body
        ("whsec_x", b"{}", 1700000000 + 301),  # replayed too late
        ("whsec_x", b"{}", 1700000000 - 301),  # from the future
    ],
)
def test_verification_refuses_another_secret_a_changed_body_or_an_old_timestamp(
    secret: str, body: bytes, now: int
) -> None:
    header = webhooks.signature_header("whsec_x", 1700000000, b"{}")
    assert not webhooks.verify(secret, header, body, now=now)


@pytest.mark.parametrize("header", ["", "t=abc,v1=00", "v1=00", "t=1700000000"])
def test_malformed_headers_never_verify(header: str) -> None:
    assert not webhooks.verify("whsec_x", header, b"{}", now=1700000000)


def test_secrets_are_derived_per_webhook_and_key_and_need_a_key() -> None:
    one, two = str(uuid.uuid4()), str(uuid.uuid4())
    assert webhooks.derive_secret("k", one) == webhooks.derive_secret("k", one)
    assert webhooks.derive_secret("k", one) != webhooks.derive_secret("k", two)
    assert webhooks.derive_secret("k", one) != webhooks.derive_secret("k2", one)
    assert webhooks.derive_secret("k", one).startswith("whsec_")
    with pytest.raises(errors.ConfigurationError, match="CTW_WEBHOOK_KEY"):
        webhooks.derive_secret("", one)


def test_event_names_and_retry_delays() -> None:
    assert (
        webhooks.event_name(SessionType.CONTEXT_TESTING, SessionStatus.COMPLETE)
        == "session.complete"
    )
    assert (
        webhooks.event_name(SessionType.COMPONENT_TESTING, SessionStatus.FAILED)
        == "component.failed"
    )
    policy = RetryPolicy(initial_s=5, cap_s=60, attempts=8)
    delays = [policy.delay_before(failed + 1) for failed in range(1, 7)]
    assert delays == [5, 10, 20, 40, 60, 60]
