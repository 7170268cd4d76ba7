"""Which addresses a sandboxed run with the network may reach: the allow-list and its rules.

A project's ``network_allow`` lists entries, each a host name (``pypi.org``), a host and a
port (``pypi.org:443``, ``127.0.0.1:8080``, ``[::1]:8080``) or a network (``10.0.0.0/8``).
A host without a port allows the web's ports, 80 and 443; a network allows every port.

A destination is reached only if an entry names it, and never if it is one of the worker's
own services (its broker, its database), whatever an entry says. An address that is not on
the public internet (loopback, private ranges, link-local) is reached only if an entry names
that address or a network holding it, or names ``localhost``: a public name that resolves to
such an address (a DNS answer pointing at the host's own services) is refused.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final

from ctworkflow import errors

__all__ = [
    "WEB_PORTS",
    "Endpoint",
    "Rule",
    "check_allow_list",
    "decide",
    "internal",
    "ip_address",
    "parse_entry",
    "refuse_services",
    "split_host_port",
]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

#: The ports a host entry without a port allows.
WEB_PORTS: Final = (80, 443)
#: The setting's name in a project's settings.
SETTING: Final = "network_allow"
_MAX_ENTRIES: Final = 256
_HOST_CHARS: Final = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-.")
_LOCALHOST: Final = "localhost"
#: Addresses that are not on the public internet: a deployment's own, never reached by name.
INTERNAL: Final = tuple(
    ipaddress.ip_network(n)
    for n in (
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10",  # carrier-grade NAT, and some clusters' service ranges
        "127.0.0.0/8",
        "169.254.0.0/16",  # link-local, and clouds' metadata services
        "172.16.0.0/12",
        "192.168.0.0/16",
        "224.0.0.0/3",  # multicast and reserved
        "::/127",
        "fc00::/7",
        "fe80::/10",
        "ff00::/8",
    )
)


@dataclass(frozen=True, slots=True)
class Rule:
    """One allow-list entry: a host (name or address) with its ports, or a network."""

    host: str | None = None
    ports: tuple[int, ...] = WEB_PORTS
    network: IPNetwork | None = None

    def names(self, host: str, port: int) -> bool:
        """Whether this entry names ``host`` itself (not a network holding it) and ``port``."""
        return self.host is not None and self.host == _normal(host) and port in self.ports

    def covers(self, address: IPAddress) -> bool:
        """Whether this entry names ``address``, by the address or by a network holding it."""
        if self.network is not None:
            return address in self.network
        literal = _address(self.host or "")
        return literal is not None and literal == address


@dataclass(frozen=True, slots=True)
class Endpoint:
    """A service of the worker (its broker, its database): an address and a port."""

    address: IPAddress
    port: int


def split_host_port(text: str) -> tuple[str, int | None]:
    """``host``, ``host:port``, ``[v6]`` or ``[v6]:port`` → (host, port or None).

    Raises:
        InvalidInput: the port is not a number from 1 to 65535, or brackets do not close.
    """
    if text.startswith("["):
        host, bracket, rest = text[1:].partition("]")
        if not bracket or (rest and not rest.startswith(":")):
            raise errors.InvalidInput(f"{text!r} is not a host, a host:port or a network")
        return host, _port(rest[1:], text) if rest else None
    if text.count(":") == 1:
        host, _, port = text.partition(":")
        return host, _port(port, text)
    return text, None


def parse_entry(text: str) -> Rule:
    """One allow-list entry as a rule.

    Raises:
        InvalidInput: it is not a host, a host:port or a network (CIDR), in one line.
    """
    if not isinstance(text, str) or not text.strip():  # type: ignore[redundant-expr]
        raise errors.InvalidInput(f"{text!r} is not a host, a host:port or a network")
    text = text.strip()
    if "/" in text:
        try:
            return Rule(network=ipaddress.ip_network(text, strict=False))
        except ValueError:
            raise errors.InvalidInput(f"{text!r} is not a host, a host:port or a network") from None
    host, port = split_host_port(text)
    if _address(host) is None and not _is_host_name(host):
        raise errors.InvalidInput(f"{text!r} is not a host, a host:port or a network")
    return Rule(host=_normal(host), ports=WEB_PORTS if port is None else (port,))


def check_allow_list(value: object) -> list[str]:
    """A project's ``network_allow`` setting, checked: a list of entries.

    Raises:
        InvalidInput: it is not a list of entries, or one entry is not one, in one line.
    """
    if not isinstance(value, list | tuple) or len(value) > _MAX_ENTRIES:
        raise errors.InvalidInput(
            f"the setting '{SETTING}' must be a list of at most {_MAX_ENTRIES} entries, "
            "each a host, a host:port or a network (CIDR)"
        )
    for entry in value:
        try:
            parse_entry(entry)
        except errors.InvalidInput as error:
            raise errors.InvalidInput(f"the setting '{SETTING}': {error}") from None
    return [entry.strip() for entry in value]


def refuse_services(entries: Iterable[str], forbidden: Iterable[Endpoint]) -> None:
    """Refuse an entry that names one of the worker's own services by address and port.

    Raises:
        InvalidInput: one does, in one line.
    """
    forbidden = tuple(forbidden)
    for entry in entries:
        rule = parse_entry(entry)
        if rule.host is None:
            continue  # a network: the proxy still refuses the services inside it
        literal = _address(rule.host)
        loopback = (ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1"))
        addresses = (literal,) if literal else loopback if rule.host == _LOCALHOST else ()
        if any(
            e.address == _plain(a) and e.port in rule.ports for e in forbidden for a in addresses
        ):
            raise errors.InvalidInput(
                f"the setting '{SETTING}': {entry.strip()!r} is the worker's own broker or "
                "database, which no run may reach"
            )


def decide(
    host: str,
    port: int,
    addresses: Sequence[IPAddress],
    rules: Iterable[Rule],
    forbidden: Iterable[Endpoint],
    own: Iterable[IPAddress] = (),
) -> str | None:
    """Why ``host:port``, resolved to ``addresses``, may not be reached; None if it may.

    ``own`` are the worker host's own addresses among them (internal, like loopback). Every
    address must pass: a name that resolves to a public address and a private one is
    refused, so a second lookup cannot turn an allowed name into the host's own service.
    """
    if not addresses:
        return f"{host} has no address"
    rules = tuple(rules)
    forbidden = tuple(forbidden)
    own = frozenset(_plain(a) for a in own)
    named = any(rule.names(host, port) for rule in rules)
    for address in addresses:
        if any(e.port == port and e.address == _plain(address) for e in forbidden):
            return f"{host}:{port} is one of the worker's own services"
        covering = [rule for rule in rules if rule.covers(_plain(address))]
        explicit = any(r.network is not None or port in r.ports for r in covering)
        if not internal(address) and _plain(address) not in own:
            if not (named or explicit):
                return f"{host}:{port} is not in the allow-list"
        elif not (explicit or (named and _normal(host) == _LOCALHOST and address.is_loopback)):
            return f"{host}:{port} is a private or loopback address the allow-list does not name"
    return None


def ip_address(text: str) -> IPAddress:
    """An address as a resolver gives it (an IPv6 one may carry its zone, ``fe80::1%eth0``)."""
    return ipaddress.ip_address(text.partition("%")[0])


def _port(text: str, entry: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise errors.InvalidInput(f"{entry!r}: the port must be a number from 1 to 65535")
    return int(text)


def _normal(host: str) -> str:
    return host.strip().lower().rstrip(".")


def _address(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _is_host_name(host: str) -> bool:
    name = _normal(host)
    labels = name.split(".")
    return (
        0 < len(name) <= 253
        and set(name) <= _HOST_CHARS
        and all(0 < len(label) <= 63 for label in labels)
        and not any(label.startswith("-") or label.endswith("-") for label in labels)
        and not labels[-1].isdigit()
    )


def _plain(address: IPAddress) -> IPAddress:
    """An IPv4 address written as IPv6 (``::ffff:127.0.0.1``) as the IPv4 address it is."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def internal(address: IPAddress) -> bool:
    """Whether ``address`` is loopback, private, link-local or otherwise not the internet's."""
    plain = _plain(address)
    return any(plain.version == n.version and plain in n for n in INTERNAL)
