"""Webhook POSTs go only to public addresses, and to the very addresses that were checked.

Endpoint URLs are checked when saved (``validate_webhook_url``), but a host name can resolve to
anything, and to something else a second later. So at send time the host is resolved once
(``vet``): if ANY address it resolves to is not globally routable (private, loopback, link-local,
multicast, reserved, unspecified, shared address space 100.64.0.0/10, or an IPv6 address carrying
one of those: IPv4-mapped, NAT64, 6to4), nothing is sent. Otherwise the connection is made to
those vetted addresses (``pinned_post``), never to the name again, so a DNS answer that changes
between the check and the connect (DNS rebinding) cannot move the request to a private address.

The URL is sent unchanged: the ``Host`` header, TLS SNI and certificate verification all use the
host name; only the TCP connect goes to the pinned address (a ``requests`` adapter whose urllib3
connections dial the vetted addresses in order). Proxies from the environment are not used (a
proxy would resolve the name itself), and redirects are not followed.
"""

import ipaddress
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

import requests
from django.utils.translation import gettext
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError
from urllib3.util import connection as urllib3_connection

SHARED_ADDRESS_SPACE = ipaddress.IPv4Network("100.64.0.0/10")  # carrier-grade NAT
NAT64_PREFIX = ipaddress.IPv6Network("64:ff9b::/96")
DEFAULT_PORTS = {"http": 80, "https": 443}


class DestinationError(Exception):
    """Nothing was sent: the destination could not be vetted (``reason`` for the delivery log)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class DestinationRefused(DestinationError):
    """The host resolves (at least partly) to an address that is not globally routable."""


class ResolutionFailed(DestinationError):
    """The host name did not resolve (possibly temporarily)."""


def resolve(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to, in resolver order (tests replace this function)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def is_public(address: str) -> bool:
    """True only for a globally routable unicast address (and what an IPv6 one embeds)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour
        if embedded is None and ip in NAT64_PREFIX:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None and not is_public(str(embedded)):
            return False
    elif ip in SHARED_ADDRESS_SPACE:
        return False
    return ip.is_global and not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
    )


def vet(url: str, *, allow_private: bool = False) -> tuple[str, ...]:
    """The addresses to connect to for ``url``; raises ``DestinationError`` to send nothing."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or DEFAULT_PORTS.get(parts.scheme, 443)
    try:
        addresses = resolve(host, port)
    except (OSError, UnicodeError, ValueError) as exc:
        raise ResolutionFailed(
            gettext("Could not resolve %(host)s: %(error)s") % {"host": host, "error": exc}
        ) from exc
    if not addresses:
        raise ResolutionFailed(
            gettext("Could not resolve %(host)s: %(error)s") % {"host": host, "error": "no address"}
        )
    refused = [address for address in addresses if not is_public(address)]
    if refused and not allow_private:
        raise DestinationRefused(
            gettext(
                "The destination resolves to a private address (%(host)s → %(address)s): "
                "nothing was sent."
            )
            % {"host": host, "address": refused[0]}
        )
    return tuple(addresses)


class _PinnedConnectionMixin:
    """A urllib3 connection that dials the vetted addresses instead of resolving ``host``.

    ``host`` stays the URL's host name, so urllib3 uses it for SNI and to verify the certificate.
    """

    def __init__(self, *args, pinned_addresses: tuple[str, ...] = (), **kwargs):
        super().__init__(*args, **kwargs)
        self.pinned_addresses = tuple(pinned_addresses)

    def _new_conn(self) -> socket.socket:
        error: Exception = NewConnectionError(self, "No vetted address to connect to.")
        for address in self.pinned_addresses:
            try:
                return urllib3_connection.create_connection(
                    (address, self.port),
                    self.timeout,
                    source_address=self.source_address,
                    socket_options=self.socket_options,
                )
            except TimeoutError as exc:
                error = ConnectTimeoutError(
                    self, f"Connection to {self.host} ({address}) timed out: {exc}"
                )
            except OSError as exc:
                error = NewConnectionError(
                    self, f"Failed to establish a new connection to {address}: {exc}"
                )
        raise error


class PinnedHTTPConnection(_PinnedConnectionMixin, HTTPConnection):
    pass


class PinnedHTTPSConnection(_PinnedConnectionMixin, HTTPSConnection):
    pass


class PinnedAdapter(HTTPAdapter):
    """Every connection of this adapter goes to ``addresses`` (see the module docstring)."""

    def __init__(self, addresses: tuple[str, ...]):
        self.addresses = tuple(addresses)
        super().__init__(max_retries=0)

    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": self._http_pool,
            "https": self._https_pool,
        }

    def _http_pool(self, host, port, **kwargs) -> HTTPConnectionPool:
        pool = HTTPConnectionPool(host, port, **kwargs)
        pool.ConnectionCls = PinnedHTTPConnection
        pool.conn_kw["pinned_addresses"] = self.addresses
        return pool

    def _https_pool(self, host, port, **kwargs) -> HTTPSConnectionPool:
        pool = HTTPSConnectionPool(host, port, **kwargs)
        pool.ConnectionCls = PinnedHTTPSConnection
        pool.conn_kw["pinned_addresses"] = self.addresses
        return pool


@contextmanager
def pinned_post(url: str, *, addresses: tuple[str, ...], **kwargs) -> Iterator[requests.Response]:
    """``requests.post(url, **kwargs)``, connecting only to ``addresses`` (from ``vet``)."""
    with requests.Session() as session:
        session.trust_env = False  # no proxies from the environment: they would resolve the name
        adapter = PinnedAdapter(addresses)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        with session.post(url, allow_redirects=False, **kwargs) as response:
            yield response
