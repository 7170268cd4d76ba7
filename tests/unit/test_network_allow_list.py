"""The allow-list of a run with the network: which entries a project may write, and which
destinations they let a run reach (the decision the proxy applies to every connection)."""

from __future__ import annotations

import ipaddress

import pytest

from ctworkflow import errors
from ctworkflow.config import Settings
from ctworkflow.domain import network
from ctworkflow.effects import sandbox_network
from ctworkflow.services import catalog

STANDIN = 8123
REDIS = network.Endpoint(ipaddress.ip_address("127.0.0.1"), 6379)


def ip(text: str) -> network.IPAddress:
    return ipaddress.ip_address(text)


def rules(*entries: str) -> list[network.Rule]:
    return [network.parse_entry(entry) for entry in entries]


@pytest.mark.parametrize(
    "entries",
    [
        ["pypi.org", "files.pythonhosted.org:443"],
        ["127.0.0.1:8123", "localhost:11434", "[::1]:8080", "10.0.0.0/8", "fd00::/8"],
        [],
    ],
)
def test_hosts_host_ports_and_networks_are_accepted_as_written(entries: list[str]) -> None:
    assert catalog.check_project_settings({"network_allow": entries})["network_allow"] == entries


@pytest.mark.parametrize(
    ("value", "said"),
    [
        (["pypi.org:http"], "'pypi.org:http': the port must be a number from 1 to 65535"),
        (["pypi.org:0"], "the port must be a number from 1 to 65535"),
        (["https://pypi.org/simple"], "is not a host, a host:port or a network"),
        (["10.0.0.0/33"], "'10.0.0.0/33' is not a host, a host:port or a network"),
        (["pypi org"], "is not a host, a host:port or a network"),
        (["*.pythonhosted.org"], "is not a host, a host:port or a network"),
        ([""], "is not a host, a host:port or a network"),
        ([443], "443 is not a host, a host:port or a network"),
        ("pypi.org", "must be a list of at most 256 entries"),
    ],
)
def test_an_entry_that_is_not_a_host_a_host_port_or_a_network_is_refused_in_one_line(
    value: object, said: str
) -> None:
    with pytest.raises(errors.InvalidInput) as refused:
        catalog.check_project_settings({"network_allow": value})
    message = str(refused.value)
    assert "\n" not in message and message.startswith("the setting 'network_allow'")
    assert said in message


def test_an_entry_naming_the_workers_broker_is_refused_but_a_network_holding_it_is_not() -> None:
    with pytest.raises(errors.InvalidInput, match="the worker's own broker or database"):
        network.refuse_services(["localhost:6379"], [REDIS])
    network.refuse_services(["127.0.0.0/8", "localhost:6380"], [REDIS])  # no error


def test_a_named_host_is_reached_on_the_web_ports_only() -> None:
    allow = rules("pypi.org")
    public = [ip("151.101.0.223")]

    assert network.decide("pypi.org", 443, public, allow, []) is None
    assert network.decide("PyPI.org.", 80, public, allow, []) is None
    assert (
        network.decide("pypi.org", 22, public, allow, []) == "pypi.org:22 is not in the allow-list"
    )
    assert network.decide("example.com", 443, public, allow, []) is not None


def test_a_public_name_that_resolves_to_loopback_or_a_private_address_is_refused() -> None:
    allow = rules("pypi.org")

    for address in ("127.0.0.1", "10.1.2.3", "169.254.169.254", "::1", "::ffff:127.0.0.1"):
        said = network.decide("pypi.org", 443, [ip(address)], allow, [])
        assert said == "pypi.org:443 is a private or loopback address the allow-list does not name"
    # One private answer among public ones is enough to refuse.
    both = [ip("151.101.0.223"), ip("127.0.0.1")]
    assert network.decide("pypi.org", 443, both, allow, []) is not None


def test_a_loopback_service_is_reached_only_at_the_port_an_entry_names() -> None:
    allow = rules(f"127.0.0.1:{STANDIN}", f"localhost:{STANDIN + 1}")
    loopback = [ip("127.0.0.1")]

    assert network.decide("127.0.0.1", STANDIN, loopback, allow, []) is None
    assert network.decide("localhost", STANDIN, loopback, allow, []) is None
    assert network.decide("localhost", STANDIN + 1, [ip("::1")], allow, []) is None
    assert network.decide("127.0.0.1", 5432, loopback, allow, []) is not None
    assert network.decide("127.0.0.1", 6379, loopback, allow, []) is not None


def test_the_workers_own_services_are_refused_even_inside_an_allowed_network() -> None:
    allow = rules("127.0.0.0/8")
    loopback = [ip("127.0.0.1")]

    assert network.decide("127.0.0.1", 9000, loopback, allow, [REDIS]) is None
    said = network.decide("localhost", 6379, loopback, allow, [REDIS])
    assert said == "localhost:6379 is one of the worker's own services"


def test_an_address_of_the_host_itself_counts_as_private() -> None:
    allow = rules("model.example.com")
    host = [ip("198.18.0.7")]  # public as far as the ranges go, but this host's own

    assert network.decide("model.example.com", 443, host, allow, []) is None
    assert network.decide("model.example.com", 443, host, allow, [], own=host) is not None


def test_the_package_indexes_are_the_defaults_and_those_the_worker_is_configured_with() -> None:
    environ = {
        "PIP_INDEX_URL": "https://user:secret@pypi.internal.example:8443/simple",
        "UV_EXTRA_INDEX_URL": "https://extra.example/simple file:///opt/wheels",
    }

    hosts = sandbox_network.index_hosts(environ)

    assert hosts[:2] == ("pypi.org", "files.pythonhosted.org")
    assert "pypi.internal.example:8443" in hosts and "extra.example" in hosts
    assert not any("secret" in host or "opt" in host for host in hosts)


def test_the_workers_services_are_its_broker_backend_and_database() -> None:
    settings = Settings(
        broker_url="redis://:pw@127.0.0.1:6390/0",
        result_backend="redis://127.0.0.1/1",
        database_url="postgresql+psycopg://ctw:pw@127.0.0.1:5440/ctw",
    )

    found = {(str(e.address), e.port) for e in sandbox_network.worker_services(settings)}

    assert found == {("127.0.0.1", 6390), ("127.0.0.1", 6379), ("127.0.0.1", 5440)}
