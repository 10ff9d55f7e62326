"""An httpx transport that connects only to addresses the guard vetted.

The guard resolves a name once and checks the addresses (URL006); if the
connection then resolved the name again, a name that answers a public address
first and 127.0.0.1 next (DNS rebinding) would reach loopback. This transport
never resolves: each request goes to an address pinned for its host, with the
original Host header, TLS SNI and certificate name, and a host with no pin is
refused without traffic. Each host gets its own pool, so a TLS connection
verified for one name is never reused for another name on the same address.
"""

from __future__ import annotations

import functools
import ssl
import threading

import httpx


@functools.lru_cache(maxsize=1)
def _tls() -> ssl.SSLContext:
    """One TLS context (the CA bundle, verified) for every pool of the process: building
    one loads the bundle, ~15 ms of CPU, which a service checking URLs would pay on
    every fetch. A context is safe to share between threads and connections."""
    return httpx.create_ssl_context(trust_env=False)


class NotVetted(httpx.ConnectError):
    """A request for a host the guard has not vetted, or whose name did not resolve."""


class PinnedTransport(httpx.BaseTransport):
    """Connects each host to the addresses `pin` gave it, in order until one answers."""

    def __init__(self) -> None:
        self._pins: dict[str, tuple[tuple[str, ...], str | None]] = {}
        self._pools: dict[str, httpx.HTTPTransport] = {}
        self._lock = threading.Lock()

    def pin(self, host: str, addresses: tuple[str, ...], lookup_error: str | None = None) -> None:
        """Allow `host` to be reached at `addresses` only (none: refuse with `lookup_error`)."""
        with self._lock:
            self._pins[host.rstrip(".").lower()] = (tuple(addresses), lookup_error)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        host = request.url.host.rstrip(".").lower()
        with self._lock:
            addresses, error = self._pins.get(host, ((), None))
            pool = self._pools.get(host)
            if pool is None:
                # the client's own trust_env=False does not reach a custom transport
                pool = self._pools[host] = httpx.HTTPTransport(verify=_tls(), trust_env=False)
        if not addresses:
            why = f"{host} does not resolve ({error})" if error else f"{host} was not vetted"
            raise NotVetted(why, request=request)
        last: httpx.ConnectError | None = None
        for address in addresses:
            try:
                return pool.handle_request(_to(request, host, address))
            except httpx.ConnectError as exc:  # try the next vetted address
                last = exc
        assert last is not None
        raise last

    def close(self) -> None:
        with self._lock:
            pools, self._pools = list(self._pools.values()), {}
        for pool in pools:
            pool.close()


def _to(request: httpx.Request, host: str, address: str) -> httpx.Request:
    """The same request sent to `address`: the Host header (set from the URL when
    the request was built) stays, and TLS names and verifies the original host."""
    if address == host:
        return request
    pinned = httpx.Request(
        request.method,
        request.url.copy_with(host=address),
        headers=request.headers,
        stream=request.stream,
        extensions=dict(request.extensions),
    )
    if request.url.scheme == "https":
        pinned.extensions["sni_hostname"] = host
    return pinned
