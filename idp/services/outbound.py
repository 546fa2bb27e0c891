"""Where the provider may send a request that a *self-registered* client chose the address of (its
back-channel logout URI): https only, and never to this host's or its network's own services —
loopback, link-local (cloud metadata at 169.254.169.254), private, shared, multicast or reserved
addresses (OWASP SSRF Prevention). The address is checked when the client registers and again at
delivery, after DNS resolution, and the connection then goes to exactly the address that was checked
(no second lookup a rebinding DNS server could answer differently). Clients registered by an
operator are trusted and may use any address."""

from __future__ import annotations

import functools
import http.client
import ipaddress
import socket
import urllib.request
from urllib.parse import urlsplit

from ..errors import ValidationError

LOCAL_NAMES = ("localhost", "localhost.localdomain")


class RefusedAddress(ValidationError):
    """The URL points (or resolves) somewhere a self-registered client may not make us send requests."""


def is_public(address: str) -> bool:
    """A globally routable unicast address (IPv4-mapped IPv6 judged as the IPv4 address)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_loopback or ip.is_link_local
                                 or ip.is_private or ip.is_unspecified)


def _literal(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def check_url(uri: str, label: str) -> str:
    """At registration: https, a host that is not a local name and not a non-public address literal;
    a name that resolves must resolve only to public addresses (unresolvable now is left to delivery)."""
    parts = urlsplit(uri)
    host = (parts.hostname or "").rstrip(".").lower()
    if parts.scheme != "https" or not host:
        raise RefusedAddress(f"{label} must be an https URL.")
    if host in LOCAL_NAMES or host.endswith(".localhost") or "." not in host and _literal(host) is None:
        raise RefusedAddress(f"{label} must not point to this server or its local network.")
    literal = _literal(host)
    if literal is not None:
        if not is_public(str(literal)):
            raise RefusedAddress(f"{label} must not point to a loopback, link-local or private address.")
        return uri
    try:
        resolve(host, parts.port or 443)
    except OSError:
        pass  # not resolvable now: checked again at delivery
    return uri


def resolve(host: str, port: int) -> str:
    """The first address `host` resolves to, if every address it resolves to is public; else RefusedAddress."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses = [info[4][0] for info in infos]
    if not addresses or not all(is_public(a) for a in addresses):
        raise RefusedAddress(f"{host} resolves to an address that is not public.")
    return addresses[0]


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to `address` (already checked) while verifying the certificate and sending SNI for the host."""

    def __init__(self, host, *, address: str, **kwargs):
        super().__init__(host, **kwargs)
        self._address = address

    def connect(self):
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


class _PinnedHTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self, address: str):
        super().__init__()
        self._address = address

    def https_open(self, req):
        return self.do_open(functools.partial(_PinnedHTTPSConnection, address=self._address), req,
                            context=self._context)


def restricted_opener(uri: str, *handlers) -> urllib.request.OpenerDirector:
    """An opener for one request to `uri` by a self-registered client's choice: refused (RefusedAddress)
    unless https and every resolved address public; the connection is pinned to the checked address."""
    parts = urlsplit(uri)
    if parts.scheme != "https" or not parts.hostname:
        raise RefusedAddress("Only https URLs may be called for a self-registered client.")
    address = resolve(parts.hostname, parts.port or 443)
    # No proxy from the environment: the request goes straight to the address that was checked.
    return urllib.request.build_opener(urllib.request.ProxyHandler({}), _PinnedHTTPSHandler(address), *handlers)
