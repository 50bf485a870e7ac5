"""Outgoing webhooks go only to public addresses, checked at send time (SSRF, DNS rebinding)."""

import datetime
import socket
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
import responses
import time_machine
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from django.utils import timezone

from orders import tasks
from orders.models.partner_webhooks import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from orders.partner_webhooks import services as webhooks
from orders.partner_webhooks import transport as webhook_transport
from tests.factories import PartnerFactory

pytestmark = pytest.mark.django_db
Status = WebhookDelivery.Status
HOST = "hooks.partner.example"
URL = f"https://{HOST}/paksim"
PUBLIC_V4, PUBLIC_V6 = "93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"
PRIVATE_RESOLUTIONS = {
    "rfc1918": ["10.1.2.3"],
    "rfc1918-192": ["192.168.0.10"],
    "loopback": ["127.0.0.1"],
    "metadata": ["169.254.169.254"],
    "ipv6-loopback": ["::1"],
    "ipv6-unique-local": ["fd12:3456:789a::1"],
    "ipv6-fc00": ["fc00::1"],
    "ipv6-link-local": ["fe80::1"],
    "shared-100.64": ["100.64.0.1"],
    "ipv4-mapped-private": ["::ffff:10.0.0.1"],
    "ipv4-mapped-loopback": ["::ffff:127.0.0.1"],
    "nat64-private": ["64:ff9b::a9fe:a9fe"],
    "6to4-private": ["2002:a00:1::1"],
    "unspecified": ["0.0.0.0"],
    "multicast": ["224.0.0.1"],
    "reserved": ["240.0.0.1"],
    "mixed-public-and-private": [PUBLIC_V4, PUBLIC_V6, "10.0.0.5"],
}


@pytest.fixture
def http():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.post(URL, status=200)
        yield mock


@pytest.fixture
def endpoint():
    return WebhookEndpoint.objects.create(partner=PartnerFactory(), url=URL)


@pytest.fixture
def resolves_to(monkeypatch):
    """Make the webhook host resolve to the given addresses (or raise); records the look-ups."""
    lookups = []

    def _set(answer):
        def resolve(host, port):
            lookups.append((host, port))
            if isinstance(answer, Exception):
                raise answer
            return list(answer)

        monkeypatch.setattr(webhook_transport, "resolve", resolve)
        return lookups

    return _set


@pytest.fixture
def send(django_capture_on_commit_callbacks):
    def _send(endpoint):
        with django_capture_on_commit_callbacks(execute=True):
            (delivery,) = webhooks.emit(
                partner=endpoint.partner, event_type="sim.expiring", data={}
            )
        delivery.refresh_from_db()
        return delivery

    return _send


def test_a_public_resolution_is_sent_to_the_vetted_addresses(
    http, endpoint, send, resolves_to, monkeypatch
):
    lookups = resolves_to([PUBLIC_V4, PUBLIC_V6])
    pinned = []
    real_pinned_post = webhook_transport.pinned_post

    def spy(url, *, addresses, **kwargs):
        pinned.append(addresses)
        return real_pinned_post(url, addresses=addresses, **kwargs)

    monkeypatch.setattr(webhook_transport, "pinned_post", spy)
    delivery = send(endpoint)
    assert delivery.status == Status.SUCCEEDED and len(http.calls) == 1
    assert http.calls[0].request.url == URL  # the host name, not the address, is in the URL
    assert lookups == [(HOST, 443)] and pinned == [(PUBLIC_V4, PUBLIC_V6)]


@pytest.mark.parametrize("addresses", PRIVATE_RESOLUTIONS.values(), ids=PRIVATE_RESOLUTIONS)
def test_a_host_resolving_to_a_non_public_address_is_not_sent_to(
    http, endpoint, send, resolves_to, addresses
):
    resolves_to(addresses)
    delivery = send(endpoint)
    assert not http.calls
    assert delivery.status == Status.FAILED and delivery.next_attempt_at  # retried later
    assert delivery.last_status_code is None
    assert "resolves to a private address" in delivery.last_error
    attempt = delivery.attempt_log.get()
    assert attempt.outcome == WebhookAttempt.Outcome.FAILED and attempt.finished_at
    assert "resolves to a private address" in attempt.error and HOST in attempt.error


def test_a_resolution_failure_is_a_failed_attempt_retried_later(http, endpoint, send, resolves_to):
    resolves_to(socket.gaierror(socket.EAI_NONAME, "Name or service not known"))
    delivery = send(endpoint)
    assert not http.calls
    assert delivery.status == Status.FAILED and delivery.next_attempt_at
    assert delivery.attempt_log.get().error.startswith(f"Could not resolve {HOST}")


def test_each_retry_resolves_again_and_a_fixed_host_is_sent_to_then_abandoned_if_not(
    http, endpoint, send, resolves_to, django_capture_on_commit_callbacks
):
    start = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)
    with time_machine.travel(start, tick=False) as clock:
        lookups = resolves_to(["10.0.0.1"])
        delivery = send(endpoint)
        assert delivery.status == Status.FAILED and not http.calls
        resolves_to([PUBLIC_V4])  # the partner fixed their DNS
        clock.shift(datetime.timedelta(minutes=1))
        with django_capture_on_commit_callbacks(execute=True):
            tasks.send_due_webhooks()
    delivery.refresh_from_db()
    assert delivery.status == Status.SUCCEEDED and len(http.calls) == 1
    assert len(lookups) == 2  # one look-up per attempt

    resolves_to(["10.0.0.1"])
    stuck = send(endpoint)
    WebhookDelivery.objects.filter(pk=stuck.pk).update(attempts=11, next_attempt_at=timezone.now())
    tasks.deliver_webhook(stuck.pk)
    stuck.refresh_from_db()
    assert stuck.status == Status.ABANDONED and "private address" in stuck.last_error


def test_private_destinations_can_be_allowed_for_development(
    http, endpoint, send, resolves_to, settings
):
    settings.WEBHOOKS_ALLOW_PRIVATE_DESTINATIONS = True
    resolves_to(["127.0.0.1"])
    assert send(endpoint).status == Status.SUCCEEDED and len(http.calls) == 1


@pytest.mark.parametrize(
    ("address", "public"),
    [
        (PUBLIC_V4, True),
        (PUBLIC_V6, True),
        ("8.8.8.8", True),
        ("100.63.255.255", True),
        ("100.127.255.255", False),
        ("172.16.0.1", False),
        ("198.18.0.1", False),
        ("192.0.2.1", False),
        ("255.255.255.255", False),
        ("ff02::1", False),
        ("::", False),
        ("2001:db8::1", False),
        ("fe80::1%eth0", False),
        ("not an address", False),
    ],
)
def test_is_public(address, public):
    assert webhook_transport.is_public(address) is public


# The pinned transport itself, against a server on this machine (the only network tests reach).


class _Hook(BaseHTTPRequestHandler):
    def do_POST(self):
        self.server.seen.append(
            (self.headers["Host"], self.rfile.read(int(self.headers["Content-Length"])))
        )
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def local_server():
    """A server on 127.0.0.1 (optionally TLS with ``context``); yields ``(port, seen)``."""
    servers = []

    def _start(context=None):
        server = ThreadingHTTPServer(("127.0.0.1", 0), _Hook)
        server.seen = []
        if context is not None:
            server.socket = context.wrap_socket(server.socket, server_side=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return server.server_address[1], server.seen

    yield _start
    for server in servers:
        server.shutdown()
        server.server_close()


def _certificate(tmp_path, name: str):
    """A self-signed certificate for ``name``: (server TLS context, CA file for the client)."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / f"{name}.pem", tmp_path / f"{name}.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    return context, str(cert_file)


def test_the_pinned_post_connects_to_the_vetted_address_with_the_original_host(local_server):
    port, seen = local_server()
    # Resolving the name would fail (tests/conftest.py blocks it): only the address is dialled.
    with webhook_transport.pinned_post(
        f"http://{HOST}:{port}/hook", addresses=("127.0.0.1",), data=b"{}", timeout=5
    ) as response:
        assert response.status_code == 204
    assert seen == [(f"{HOST}:{port}", b"{}")]


@pytest.mark.real_clock  # OpenSSL checks the certificate's dates on the machine's clock
def test_the_pinned_post_verifies_tls_against_the_host_name(local_server, tmp_path):
    context, ca_file = _certificate(tmp_path, HOST)
    port, seen = local_server(context)
    url = f"https://{HOST}:{port}/hook"
    with webhook_transport.pinned_post(
        url, addresses=("127.0.0.1",), data=b"{}", timeout=5, verify=ca_file
    ) as response:
        assert response.status_code == 204
    assert seen == [(f"{HOST}:{port}", b"{}")]

    other_context, other_ca = _certificate(tmp_path, "evil.example")
    other_port, other_seen = local_server(other_context)
    with (
        pytest.raises(requests.exceptions.SSLError),
        webhook_transport.pinned_post(
            f"https://{HOST}:{other_port}/hook",
            addresses=("127.0.0.1",),
            data=b"{}",
            timeout=5,
            verify=other_ca,
        ),
    ):
        pass
    assert other_seen == []


def test_the_pinned_post_tries_the_next_address_when_one_refuses(local_server):
    port, seen = local_server()  # listening on 127.0.0.1 only: 127.0.0.3 refuses the connect
    with webhook_transport.pinned_post(
        f"http://{HOST}:{port}/hook", addresses=("127.0.0.3", "127.0.0.1"), data=b"{}", timeout=5
    ) as response:
        assert response.status_code == 204
    assert len(seen) == 1
