"""services.outbound: which addresses a self-registered client may make the provider send requests to,
and the pinned HTTPS connection that goes to exactly the checked address while still verifying the
certificate for the URL's host name."""

from __future__ import annotations

import datetime
import socket
import ssl
import threading
import urllib.error

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from idp.services import outbound


@pytest.mark.parametrize(("address", "public"), [
    ("93.184.216.34", True), ("2606:2800:220:1:248:1893:25c8:1946", True),
    ("127.0.0.1", False), ("10.1.2.3", False), ("172.31.255.255", False), ("192.168.0.1", False),
    ("169.254.169.254", False), ("100.64.0.1", False), ("0.0.0.0", False), ("224.0.0.1", False),
    ("::1", False), ("fe80::1", False), ("fd12::1", False), ("::ffff:127.0.0.1", False), ("::ffff:10.0.0.1", False),
])
def test_public_addresses(address, public):
    assert outbound.is_public(address) is public


def test_a_name_resolving_to_a_private_address_is_refused(monkeypatch):
    monkeypatch.setattr(socket, "getaddrinfo", lambda *a, **k: [
        (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", 443)),
        (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.7", 443))])
    with pytest.raises(outbound.RefusedAddress):
        outbound.check_url("https://rp.example.com/bc", "backchannel_logout_uri")
    with pytest.raises(outbound.RefusedAddress):
        outbound.restricted_opener("https://rp.example.com/bc")


def _self_signed(tmp_path, name: str):
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


def test_the_connection_is_pinned_to_the_checked_address_and_verifies_the_host(tmp_path, monkeypatch):
    """The opener connects to the address that was checked (no second DNS lookup), sends the URL's host
    name as SNI and verifies the certificate (a self-signed one is refused)."""
    cert_file, key_file = _self_signed(tmp_path, "rp.example.com")
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(cert_file, key_file)
    seen = []
    server_context.sni_callback = lambda sock, name, ctx: seen.append(name)
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def serve():
        conn, _ = listener.accept()
        try:
            server_context.wrap_socket(conn, server_side=True)
        except (ssl.SSLError, OSError):
            pass
        finally:
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    monkeypatch.setattr(outbound, "resolve", lambda host, port: "127.0.0.1")  # as if the check had passed
    real_getaddrinfo = socket.getaddrinfo

    def no_second_lookup(host, *args, **kwargs):
        assert host == "127.0.0.1", f"a second DNS lookup of {host}"
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", no_second_lookup)
    opener = outbound.restricted_opener(f"https://rp.example.com:{port}/bc")
    with pytest.raises(urllib.error.URLError, match="CERTIFICATE_VERIFY_FAILED"):
        opener.open(f"https://rp.example.com:{port}/bc", data=b"x", timeout=5)
    thread.join(5)
    listener.close()
    assert seen == ["rp.example.com"]


def test_an_environment_proxy_is_not_used(monkeypatch):
    monkeypatch.setenv("https_proxy", "http://proxy.example:3128")
    monkeypatch.setattr(outbound, "resolve", lambda host, port: "93.184.216.34")
    opener = outbound.restricted_opener("https://rp.example.com/bc")
    assert not any(getattr(h, "proxies", {}) for h in opener.handlers)
