"""The private-host guard: which hosts Instagram's fetcher could reach.

Private, loopback, link-local and reserved addresses are refused before any
traffic (URL006) unless `allow_private`. A name is resolved once here, and the
addresses it gave are the only ones a connection may use (`net.pinned`), so a
name that answers a public address now and 127.0.0.1 a moment later (DNS
rebinding) never reaches loopback.
"""

from __future__ import annotations

import ipaddress
import socket
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass

from igpreflight.textcheck import describe, invalid_chars

CONNECT_TIMEOUT = 10.0


def redact_url(url: str) -> str:
    """The URL without user:password, for output."""
    parts = urllib.parse.urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = host + (f":{parts.port}" if parts.port else "")
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc))


def non_public_reason(address: str) -> str | None:
    """Why an IP address cannot be reached by Instagram, or None when it is public."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    for name, flag in (
        ("loopback", ip.is_loopback),
        ("link-local", ip.is_link_local),
        ("multicast", ip.is_multicast),
        ("unspecified", ip.is_unspecified),
        ("reserved", ip.is_reserved),
        ("private", ip.is_private),
    ):
        if flag:
            return name
    if not ip.is_global:
        return "not globally routable"
    return None


def resolve(host: str, port: int, timeout: float) -> list[str]:
    """The host's addresses (getaddrinfo), in a worker so a stuck resolver times out.

    Raises OSError (socket.gaierror) when the name does not resolve, TimeoutError
    when the resolver does not answer in time.
    """
    pool = ThreadPoolExecutor(max_workers=1)
    try:
        # socket.getaddrinfo looked up at call time: the one resolver every lookup uses
        future = pool.submit(socket.getaddrinfo, host, port, 0, socket.SOCK_STREAM)
        try:
            infos = future.result(timeout=timeout)
        except FutureTimeout:
            raise TimeoutError(f"DNS lookup of {host} took longer than {timeout:g} s") from None
    finally:
        pool.shutdown(wait=False)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


@dataclass(frozen=True)
class Vetted:
    """What the guard decided for one URL's host.

    `problem` is why Instagram could not reach it (None when it can);
    `addresses` the addresses it resolved to, the only ones a connection may use;
    `lookup_error` why the name did not resolve (then nothing may connect).
    """

    host: str
    problem: str | None
    addresses: tuple[str, ...] = ()
    lookup_error: str | None = None


def vet(url: str, *, allow_private: bool, timeout: float = CONNECT_TIMEOUT) -> Vetted:
    """Decide the URL's host and resolve it once.

    `localhost` and IP literals are decided without any lookup or traffic; names
    are resolved and refused when ANY address is not public. With
    `allow_private` nothing is refused, but the name is still resolved once so
    the connection uses the address decided here.
    """
    parts = urllib.parse.urlsplit(url)
    host = (parts.hostname or "").rstrip(".").lower()
    if not host:
        return Vetted(host, "the URL has no host")
    if not allow_private and (host == "localhost" or host.endswith(".localhost")):
        return Vetted(host, f"{host} is the local machine")
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
        addresses, literal, error = (host,), True, None
    except ValueError:
        literal = False
        bad = invalid_chars(host)
        try:
            if bad:  # no resolver can take it: nothing is looked up
                raise UnicodeError(f"the host name holds {describe(bad[0][1])}")
            addresses, error = tuple(resolve(host, parts.port or 443, timeout)), None
        except (OSError, TimeoutError, UnicodeError) as exc:
            # unresolvable (or no valid name at all, which IDNA refuses): the fetch
            # reports it (URL001) and never looks the name up again
            addresses, error = (), " ".join(str(exc).split()) or type(exc).__name__
    if allow_private:
        return Vetted(host, None, addresses, error)
    for address in addresses:
        reason = non_public_reason(address)
        if reason:
            where = host if literal else f"{host} resolves to {address}"
            problem = f"{where} is {reason}" if literal else f"{where} ({reason})"
            return Vetted(host, problem, addresses, error)
    if parts.scheme != "https":
        problem = f"{parts.scheme}:// is not https; Instagram fetches public https URLs"
        return Vetted(host, problem, addresses, error)
    return Vetted(host, None, addresses, error)


def host_problem(
    url: str, *, allow_private: bool, timeout: float = CONNECT_TIMEOUT
) -> tuple[str | None, list[str]]:
    """Why Instagram could not reach this URL's host (None when it can), and its
    addresses (none are reported with `allow_private`: nothing was vetted)."""
    if allow_private:
        parts = urllib.parse.urlsplit(url)
        return (None if parts.hostname else "the URL has no host"), []
    vetted = vet(url, allow_private=False, timeout=timeout)
    return vetted.problem, list(vetted.addresses)
