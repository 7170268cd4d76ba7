"""Leases on component runs: when a second delivery may take a run over."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ctworkflow.domain import leases

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
LIVE = {101}


def alive(pid: int) -> bool:
    return pid in LIVE


def free(owner: str | None, expires_at: datetime | None, host: str = "a") -> bool:
    return leases.is_free(owner, expires_at, NOW, host=host, process_alive=alive)


def test_a_holder_reads_back_from_its_string() -> None:
    holder = leases.Holder(host="worker-3.example", pid=4242, token="9f2c")
    assert leases.Holder.parse(str(holder)) == holder
    assert leases.Holder.parse("not a holder") is None
    assert leases.Holder.parse("host/notapid/token") is None


def test_a_lease_never_taken_released_or_expired_is_free() -> None:
    later, earlier = NOW + timedelta(seconds=5), NOW - timedelta(seconds=5)
    assert free(None, None)
    assert free("b/101/t", earlier)
    assert not free("b/101/t", later)


def test_a_live_lease_of_a_process_gone_from_this_host_is_free_at_once() -> None:
    later = NOW + timedelta(seconds=30)
    assert free("a/999/t", later)  # this host, its process is gone
    assert not free("a/101/t", later)  # this host, still running
    assert not free("b/999/t", later)  # another host: only its expiry tells
