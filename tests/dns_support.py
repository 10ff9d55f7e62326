"""A real DNS exchange over loopback, for tests of what a name resolves to.

`DnsServer` answers A and AAAA queries on 127.0.0.1 (UDP, a free port) from a
table, as an authoritative server would: every address of a name in one answer,
in the order given. `resolving_through(server)` makes socket.getaddrinfo (the one
resolver the guard and every connection use) ask that server over the wire for
the names in its table; anything else, IP literals included, goes to the system's.
"""

from __future__ import annotations

import ipaddress
import socket
import struct
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

A, AAAA, IN = 1, 28, 1


def _qname(name: str) -> bytes:
    return b"".join(bytes([len(p)]) + p.encode() for p in name.rstrip(".").split(".")) + b"\0"


def _read_qname(data: bytes, pos: int) -> tuple[str, int]:
    labels = []
    while data[pos]:
        labels.append(data[pos + 1 : pos + 1 + data[pos]].decode())
        pos += 1 + data[pos]
    return ".".join(labels), pos + 1


class DnsServer:
    """Authoritative answers for `table` (name -> addresses); counts every query."""

    def __init__(self, table: dict[str, list[str]]) -> None:
        self.table = {k.lower(): v for k, v in table.items()}
        self.queries: list[tuple[str, int]] = []
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.address = self.sock.getsockname()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                data, peer = self.sock.recvfrom(512)
            except OSError:
                return  # closed
            self.sock.sendto(self._answer(data), peer)

    def _answer(self, query: bytes) -> bytes:
        (qid,) = struct.unpack("!H", query[:2])
        name, end = _read_qname(query, 12)
        qtype, _ = struct.unpack("!HH", query[end : end + 4])
        self.queries.append((name, qtype))
        family = 4 if qtype == A else 6
        wanted = [
            ipaddress.ip_address(a)
            for a in self.table.get(name.lower(), [])
            if ipaddress.ip_address(a).version == family
        ]
        found = name.lower() in self.table
        flags = 0x8400 if found else 0x8403  # authoritative answer; NXDOMAIN when unknown
        header = struct.pack("!HHHHHH", qid, flags, 1, len(wanted), 0, 0)
        answers = b"".join(
            struct.pack("!HHHIH", 0xC00C, qtype, IN, 60, len(ip.packed)) + ip.packed
            for ip in wanted
        )
        return header + query[12 : end + 4] + answers

    def close(self) -> None:
        self.sock.close()


def query(server: tuple[str, int], name: str, qtype: int) -> list[str] | None:
    """The addresses a DNS answer from `server` gives (None: no such name)."""
    packet = struct.pack("!HHHHHH", 0x1D2E, 0x0100, 1, 0, 0, 0) + _qname(name)
    packet += struct.pack("!HH", qtype, IN)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(5)
        sock.sendto(packet, server)
        data, _ = sock.recvfrom(512)
    _, flags, _, count, _, _ = struct.unpack("!HHHHHH", data[:12])
    if flags & 0xF == 3:
        return None
    _, pos = _read_qname(data, 12)
    pos += 4
    out = []
    for _ in range(count):
        _, rtype, _, _, length = struct.unpack("!HHHIH", data[pos : pos + 12])
        rdata = data[pos + 12 : pos + 12 + length]
        out.append(str(ipaddress.ip_address(rdata)))
        pos += 12 + length
    return out


@contextmanager
def resolving_through(table: dict[str, list[str]]) -> Iterator[DnsServer]:
    """socket.getaddrinfo asks a DnsServer of `table` for its names, over UDP."""
    server = DnsServer(table)
    real = socket.getaddrinfo

    def getaddrinfo(host, port, family=0, type=0, proto=0, flags=0):  # noqa: A002 - socket's names
        name = host.decode() if isinstance(host, bytes) else str(host)
        if name.lower() not in server.table:
            return real(host, port, family, type, proto, flags)
        addresses = []
        for qtype, fam in ((A, socket.AF_INET), (AAAA, socket.AF_INET6)):
            if family in (0, fam):
                addresses += query(server.address, name, qtype) or []
        if not addresses:
            raise socket.gaierror(socket.EAI_NONAME, f"{name}: no address")
        sock_type = type or socket.SOCK_STREAM
        return [
            (
                socket.AF_INET6 if ":" in a else socket.AF_INET,
                sock_type,
                proto or socket.IPPROTO_TCP,
                "",
                (a, int(port or 0), 0, 0) if ":" in a else (a, int(port or 0)),
            )
            for a in addresses
        ]

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(socket, "getaddrinfo", getaddrinfo)
        try:
            yield server
        finally:
            server.close()
