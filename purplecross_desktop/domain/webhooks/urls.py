"""Which URLs an endpoint may have, and which addresses a delivery may connect to (SSRF).

Only ``https://`` by default. ``http://`` and hosts on the local network (private,
loopback, link-local and unique-local addresses, ``localhost``) are refused unless the
admin ticks *allow local network* on that endpoint: a clinic's lab machine may live on
the LAN, but nobody should be able to aim the clinic's server at its own Redis or a
cloud metadata service by accident. Multicast, unspecified and reserved addresses are
always refused. The check runs when the endpoint is saved and again before every
request (the name may resolve elsewhere by then).
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from purplecross_desktop.domain.webhooks.model import MAX_URL

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class DestinationRefused(ValueError):  # noqa: N818 (a ValueError: bad input, never retried)
    """The URL or an address it resolves to is not allowed; the message names the rule."""


@dataclass(frozen=True, slots=True)
class Destination:
    """A checked endpoint URL.

    Attributes:
        url: the URL as given (stripped).
        scheme: ``http`` or ``https``.
        host: the host name or address literal (no brackets).
        port: the port (the scheme's default when the URL names none).
    """

    url: str
    scheme: str
    host: str
    port: int


def parse_url(url: object, *, allow_local_network: bool, field: str = "url") -> Destination:
    """Check ``url``'s form and, for address literals and ``localhost``, its host.

    Raises:
        DestinationRefused: the message says ``field: rule``.
    """
    if not isinstance(url, str) or not url.strip():
        raise DestinationRefused(f"{field}: must not be empty")
    text = url.strip()
    if len(text) > MAX_URL:
        raise DestinationRefused(f"{field}: at most {MAX_URL} characters; got {len(text)}")
    if any(ch.isspace() or ord(ch) < 32 for ch in text):
        raise DestinationRefused(f"{field}: must not contain spaces or control characters")
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise DestinationRefused(f"{field}: is not a valid URL ({exc})") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise DestinationRefused(
            f"{field}: must be an http:// or https:// URL; got {parts.scheme or 'no'} scheme"
        )
    if scheme == "http" and not allow_local_network:
        raise DestinationRefused(
            f"{field}: must use https://; plain http:// is allowed only with "
            "'allow local network' ticked"
        )
    host = (parts.hostname or "").lower()
    if not host:
        raise DestinationRefused(f"{field}: must name a host, e.g. https://lab.example.org/hook")
    if parts.username is not None or parts.password is not None:
        raise DestinationRefused(
            f"{field}: must not carry a user name or password (the signature authenticates)"
        )
    if parts.fragment:
        raise DestinationRefused(f"{field}: must not have a #fragment")
    destination = Destination(text, scheme, host, port or (443 if scheme == "https" else 80))
    literal = _literal(host)
    if literal is not None:
        check_address(literal, allow_local_network, field)
    elif (host == "localhost" or host.endswith(".localhost")) and not allow_local_network:
        raise DestinationRefused(
            f"{field}: {host} is this machine; allowed only with 'allow local network' ticked"
        )
    return destination


def check_address(address: IpAddress, allow_local_network: bool, field: str = "url") -> None:
    """Refuse an address a delivery must never connect to."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address.is_multicast or address.is_unspecified or address.is_reserved:
        raise DestinationRefused(f"{field}: {address} is not a unicast address a host can have")
    local = address.is_private or address.is_loopback or address.is_link_local
    if local and not allow_local_network:
        kind = "loopback" if address.is_loopback else "a private or link-local address"
        raise DestinationRefused(
            f"{field}: {address} is {kind}; local-network addresses are allowed only with "
            "'allow local network' ticked"
        )


def resolve_checked(destination: Destination, allow_local_network: bool) -> list[IpAddress]:
    """Every address the host resolves to, each checked; refused if any is not allowed.

    Raises:
        DestinationRefused: an address is not allowed.
        OSError: the name does not resolve (a network error: worth a retry).
    """
    literal = _literal(destination.host)
    if literal is not None:
        check_address(literal, allow_local_network)
        return [literal]
    infos = socket.getaddrinfo(destination.host, destination.port, type=socket.SOCK_STREAM)
    addresses: list[IpAddress] = []
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        check_address(address, allow_local_network, f"url ({destination.host})")
        addresses.append(address)
    return addresses


def _literal(host: str) -> IpAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None
