"""Outgoing webhooks follow Standard Webhooks: partners verify them with its ready-made libraries.

Deliveries go through the real delivery task to a server on this machine whose handler verifies
them as a partner would, with the ``standardwebhooks`` package (docs/partner-webhooks.md).
"""

import base64
import json
import secrets
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import responses
import time_machine
from django.utils import timezone
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from orders import tasks
from orders.models.partner_webhooks import (
    OrderWebhookSecret,
    WebhookDelivery,
    WebhookEndpoint,
    new_webhook_secret,
)
from orders.partner_webhooks import services as webhooks
from orders.partner_webhooks import signing as webhook_signing
from tests.factories import OrderFactory, PartnerFactory

pytestmark = pytest.mark.django_db
Status = WebhookDelivery.Status
URL = "https://hooks.partner.example/paksim"
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class _Receiver(BaseHTTPRequestHandler):
    """A partner's endpoint: verifies with the library, answers 204, or 400 when it refuses."""

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        headers = dict(self.headers.items())
        try:
            Webhook(self.server.secret).verify(body, headers)
            verdict = None
        except WebhookVerificationError as exc:
            verdict = str(exc)
        self.server.seen.append((headers, body, verdict))
        self.send_response(self.server.status if verdict is None else 400)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def receiver(settings):
    """A partner server on 127.0.0.1; ``start(secret)`` returns it (``.url``, ``.seen``)."""
    settings.WEBHOOKS_ALLOW_PRIVATE_DESTINATIONS = True  # 127.0.0.1 is this test's partner
    servers = []

    def start(secret, status=204):
        server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
        server.secret, server.status, server.seen = secret, status, []
        server.url = f"http://127.0.0.1:{server.server_address[1]}/hooks"
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture
def emit(django_capture_on_commit_callbacks):
    """Emit one event and run the delivery tasks queued after commit; returns the deliveries."""

    def _emit(partner, event_type="sim.low_data", data=None, order=None):
        with django_capture_on_commit_callbacks(execute=True):
            deliveries = webhooks.emit(
                partner=partner, event_type=event_type, data=data or {"sim": "8992"}, order=order
            )
        for delivery in deliveries:
            delivery.refresh_from_db()
        return deliveries

    return _emit


@pytest.fixture
def http():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def test_a_delivery_verifies_with_the_standardwebhooks_library(receiver, emit):
    partner = PartnerFactory()
    secret = new_webhook_secret()
    server = receiver(secret)
    WebhookEndpoint.objects.create(partner=partner, url=server.url, secret=secret)

    (delivery,) = emit(partner, data={"sim": "8992-1"})

    assert delivery.status == Status.SUCCEEDED and delivery.last_status_code == 204
    ((headers, body, verdict),) = server.seen
    assert verdict is None
    assert Webhook(secret).verify(body, headers) == delivery.payload
    assert headers["webhook-id"] == str(delivery.event_id) == json.loads(body)["id"]
    assert headers["webhook-signature"].startswith("v1,")
    assert abs(int(headers["webhook-timestamp"]) - timezone.now().timestamp()) < 60
    assert "Paksim-Signature" not in headers


def test_order_url_deliveries_verify_with_the_order_webhook_secret(receiver, emit):
    partner = PartnerFactory()
    secret = webhooks.order_webhook_secret(partner.pk)
    server = receiver(secret)
    order = OrderFactory(customer=None, partner=partner, webhook_url=server.url)

    (delivery,) = emit(partner, event_type="order.failed", data={"order": "PK-1"}, order=order)

    assert delivery.endpoint is None and delivery.status == Status.SUCCEEDED
    ((headers, body, verdict),) = server.seen
    assert verdict is None and Webhook(secret).verify(body, headers)["data"] == {"order": "PK-1"}


def test_the_library_refuses_another_secret_a_tampered_body_and_an_old_timestamp(receiver, emit):
    partner = PartnerFactory()
    secret = new_webhook_secret()
    wrong = receiver(new_webhook_secret())
    WebhookEndpoint.objects.create(partner=partner, url=wrong.url, secret=secret)

    (delivery,) = emit(partner)

    # A partner holding another secret refuses it (400), so the delivery is retried later.
    ((headers, body, verdict),) = wrong.seen
    assert verdict == "No matching signature found"
    assert delivery.status == Status.FAILED and delivery.last_status_code == 400
    hook = Webhook(secret)
    assert hook.verify(body, headers)
    tampered = body.replace(b'"8992"', b'"8993"')
    assert tampered != body
    with pytest.raises(WebhookVerificationError, match="No matching signature"):
        hook.verify(tampered, headers)
    later = time_machine.travel(timezone.now() + timedelta(minutes=6))
    with later, pytest.raises(WebhookVerificationError, match="too old"):
        hook.verify(body, headers)  # a captured request replayed later
    for name in ("webhook-id", "webhook-timestamp", "webhook-signature"):
        with pytest.raises(WebhookVerificationError, match="Missing required headers"):
            hook.verify(body, {k: v for k, v in headers.items() if k != name})


def test_retries_keep_the_id_and_are_signed_at_their_own_time(http, emit):
    partner = PartnerFactory()
    secret = new_webhook_secret()
    WebhookEndpoint.objects.create(partner=partner, url=URL, secret=secret)
    http.post(URL, status=503)
    seen = []
    with time_machine.travel(START, tick=False) as clock:
        (delivery,) = emit(partner)
        seen.append(http.calls[-1].request)
        assert delivery.status == Status.FAILED
        clock.move_to(delivery.next_attempt_at)
        tasks.deliver_webhook(delivery.pk)
        seen.append(http.calls[-1].request)
        assert Webhook(secret).verify(seen[1].body, seen[1].headers)
        clock.move_to(delivery.next_attempt_at + timedelta(hours=1))
        http.replace(responses.POST, URL, status=200)
        webhooks.redeliver(delivery=delivery)  # a partner asks for it again: the same message
        tasks.deliver_webhook(delivery.pk)
        seen.append(http.calls[-1].request)
        # The last attempt verifies now; the first one's signature is too old to replay by now.
        assert Webhook(secret).verify(seen[2].body, seen[2].headers)
        with pytest.raises(WebhookVerificationError, match="too old"):
            Webhook(secret).verify(seen[0].body, seen[0].headers)
    delivery.refresh_from_db()
    assert delivery.status == Status.SUCCEEDED and delivery.attempts == 3
    assert {r.headers["webhook-id"] for r in seen} == {str(delivery.event_id)}
    stamps = [int(r.headers["webhook-timestamp"]) for r in seen]
    assert stamps[0] == int(START.timestamp()) and stamps[0] < stamps[1] < stamps[2]
    assert len({r.body for r in seen}) == 1


def test_new_secrets_are_standard_whsec_base64_keys():
    made = {new_webhook_secret() for _ in range(20)}
    assert len(made) == 20
    for secret in made:
        assert secret.startswith("whsec_") and len(secret) == 50
        key = base64.b64decode(secret.removeprefix("whsec_"), validate=True)
        assert len(key) == 32 and webhook_signing.key_of(secret) == key
    partner = PartnerFactory()
    endpoint = WebhookEndpoint.objects.create(partner=partner, url=URL)
    order_secret = OrderWebhookSecret.objects.create(partner=partner)
    for secret in (endpoint.secret, order_secret.secret):
        assert len(base64.b64decode(secret.removeprefix("whsec_"), validate=True)) == 32


def test_secrets_of_the_earlier_format_keep_their_key(receiver, emit):
    """A stored ``whsec_`` + URL-safe secret signs with its whole text, as it always did."""
    legacy = "whsec_" + secrets.token_urlsafe(32)
    assert webhook_signing.key_of(legacy) == legacy.encode()
    converted = "whsec_" + base64.b64encode(legacy.encode()).decode()  # the documented step
    assert webhook_signing.standard_form(legacy) == converted
    server = receiver(converted)
    partner = PartnerFactory()
    WebhookEndpoint.objects.create(partner=partner, url=server.url, secret=legacy)

    (delivery,) = emit(partner)

    assert delivery.status == Status.SUCCEEDED
    ((headers, body, verdict),) = server.seen
    assert verdict is None
    assert Webhook(legacy.encode()).verify(body, headers)  # the raw key bytes work as well


def test_several_valid_secrets_each_sign():
    old, new = new_webhook_secret(), new_webhook_secret()
    body = b'{"id":"e1"}'
    headers = webhook_signing.sign_headers("e1", body, [old, new, old])
    assert len(headers["webhook-signature"].split(" ")) == 2
    for secret in (old, new):
        assert Webhook(secret).verify(body, headers) == {"id": "e1"}
    with pytest.raises(WebhookVerificationError):
        Webhook(new_webhook_secret()).verify(body, headers)


def test_signing_refuses_what_would_not_verify():
    with pytest.raises(ValueError):
        webhook_signing.sign_headers("e1", b"{}", [])
    with pytest.raises(ValueError):
        webhook_signing.sign_headers("e1\r\nx-injected: 1", b"{}", [new_webhook_secret()])
    with pytest.raises(ValueError):
        webhook_signing.key_of("")
