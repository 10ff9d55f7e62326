"""DNS rebinding: every connection goes to the address the guard vetted (issue 14).

Name resolution is controlled in-process (socket.getaddrinfo, the one resolver
both the guard and a connection would use); the servers are real sockets on
loopback.
"""

from __future__ import annotations

import datetime as dt
import io
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from loopback import serving
from PIL import Image

from igpreflight.net.fetch import fetch
from igpreflight.preflight.urlcheck import check_url

PUBLIC = "93.184.216.34"  # a global address; the tests never let a packet go there


def _jpeg() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (40, 50), (90, 120, 200)).save(buf, "JPEG")
    return buf.getvalue()


JPEG = _jpeg()


class Handler(BaseHTTPRequestHandler):
    """Counts connections and records each request's Host header."""

    protocol_version = "HTTP/1.1"
    connections = 0
    hosts: list[str] = []

    def setup(self) -> None:
        type(self).connections += 1
        super().setup()

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        type(self).hosts.append(self.headers.get("Host", ""))
        if self.path == "/hop":
            port = self.server.server_address[1]
            self.send_response(302)
            self.send_header("Location", f"http://hop2.example:{port}/a.jpg")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "image/jpeg")
        self.send_header("Content-Length", str(len(JPEG)))
        self.end_headers()
        self.wfile.write(JPEG)


@pytest.fixture()
def server() -> Iterator[int]:
    Handler.connections, Handler.hosts = 0, []
    with serving(Handler) as url:
        yield int(url.rsplit(":", 1)[1])


Answers = dict[str, list[str]]


@pytest.fixture()
def dns(monkeypatch: pytest.MonkeyPatch) -> Callable[[Answers], list[str]]:
    """Program answers per name: each lookup takes the next answer (the last repeats).
    Returns the log of every lookup; a lookup of PUBLIC fails (no packet leaves)."""
    real = socket.getaddrinfo
    log: list[str] = []

    def install(answers: Answers) -> list[str]:
        calls: dict[str, int] = {}

        def fake(host, port, *args, **kwargs):
            name = host.decode() if isinstance(host, bytes) else str(host)
            log.append(name)
            if name == PUBLIC:
                raise socket.gaierror(socket.EAI_NONAME, f"test: no route to {PUBLIC}")
            if name in answers:
                n = calls[name] = calls.get(name, 0) + 1
                address = answers[name][min(n, len(answers[name])) - 1]
                return real(address, port, *args, **kwargs)
            return real(host, port, *args, **kwargs)

        monkeypatch.setattr(socket, "getaddrinfo", fake)
        return log

    return install


def test_a_name_that_rebinds_to_loopback_never_gets_a_connection(server, dns):
    """Public when the guard asks, 127.0.0.1 a moment later: the connection goes to
    the vetted public address (which the test's network refuses), never to loopback."""
    log = dns({"rebind.example": [PUBLIC, "127.0.0.1"]})
    r = check_url(f"https://rebind.example:{server}/a.jpg", timeout=5)
    assert Handler.connections == 0
    assert r.outcome("URL006").status == "pass" and PUBLIC in r.outcome("URL006").detail
    assert r.outcome("URL001").status == "fail"
    assert log.count("rebind.example") == 1  # resolved once, by the guard
    assert PUBLIC in log  # the connection went to the vetted address


def test_the_connection_keeps_the_original_host_header(server, dns):
    log = dns({"media.example": ["127.0.0.1", "127.0.0.2"]})
    r = check_url(f"http://media.example:{server}/a.jpg", allow_private=True, timeout=5)
    assert r.ok, r.to_dict()
    assert Handler.hosts == [f"media.example:{server}"]
    assert log.count("media.example") == 1


def test_every_redirect_hop_is_pinned_to_the_address_it_was_vetted_with(server, dns):
    """hop2.example answers 127.0.0.1 (the server) to the guard and 127.0.0.2 (nothing
    listens there) afterwards: the hop connects to the first answer."""
    log = dns({"media.example": ["127.0.0.1"], "hop2.example": ["127.0.0.1", "127.0.0.2"]})
    r = check_url(f"http://media.example:{server}/hop", allow_private=True, timeout=5)
    assert r.ok, r.to_dict()
    assert Handler.hosts == [f"media.example:{server}", f"hop2.example:{server}"]
    assert log.count("hop2.example") == 1


def test_a_redirect_hop_that_rebinds_to_loopback_is_refused(dns):
    """Without --allow-private the guard vets each hop; a hop name that resolves to
    loopback is refused before any connection (URL006)."""
    dns({"hop2.example": ["127.0.0.1"]})
    got = fetch(
        "http://hop2.example:9/a.jpg",
        allow_private=False,
        deadline=time.monotonic() + 5,
        timeout=5,
        byte_cap=1000,
    )
    assert got.refused_hop and "loopback" in got.refused_hop and got.status is None


def _self_signed(name: str, tmp: Path) -> tuple[Path, Path]:
    x509 = pytest.importorskip("cryptography.x509")
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp / "cert.pem", tmp / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def test_tls_to_a_pinned_address_names_the_original_host(dns, tmp_path):
    """The TLS handshake with the pinned IP sends the URL's host name as SNI (and
    verifies the certificate for it: this self-signed one is refused)."""
    cert, key = _self_signed("media.example", tmp_path)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    seen: list[str | None] = []
    ctx.sni_callback = lambda sock, name, _ctx: seen.append(name)
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def accept_once() -> None:
        conn, _ = listener.accept()
        try:
            with ctx.wrap_socket(conn, server_side=True):
                pass
        except (ssl.SSLError, OSError):
            pass  # the client refuses the self-signed certificate

    thread = threading.Thread(target=accept_once, daemon=True)
    thread.start()
    dns({"media.example": ["127.0.0.1"]})
    try:
        r = check_url(f"https://media.example:{port}/a.jpg", allow_private=True, timeout=5)
    finally:
        thread.join(5)
        listener.close()
    assert seen == ["media.example"]
    assert r.outcome("URL001").status == "fail"
    assert "certificate" in r.outcome("URL001").detail.lower()


def test_a_name_pinned_to_an_ipv6_address_is_reached_there(dns):
    """The pinned address goes into the URL in brackets; the Host header keeps the name."""

    class V6Server(ThreadingHTTPServer):
        address_family = socket.AF_INET6

    try:
        httpd = V6Server(("::1", 0), Handler)
    except OSError:
        pytest.skip("this machine has no IPv6 loopback")
    Handler.connections, Handler.hosts = 0, []
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    port = httpd.server_address[1]
    dns({"v6.example": ["::1"]})
    try:
        r = check_url(f"http://v6.example:{port}/a.jpg", allow_private=True, timeout=5)
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert r.ok, r.to_dict()
    assert Handler.hosts == [f"v6.example:{port}"]
