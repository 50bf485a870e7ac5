"""The SMS adapter: console outbox, Twilio request shape and error handling."""

import base64
from urllib.parse import parse_qs

import pytest
import requests
import responses

from accounts import sms

URL = "https://api.twilio.com/2010-04-01/Accounts/AC123/Messages.json"


@pytest.fixture
def twilio():
    return sms.TwilioSmsSender(account_sid="AC123", auth_token="secret", from_number="+15005550006")


def test_console_sender_keeps_messages_in_the_outbox():
    sms.outbox.clear()
    message_id = sms.ConsoleSmsSender().send("+923001234567", "你好")
    assert sms.outbox == [{"id": message_id, "to": "+923001234567", "body": "你好"}]


def test_backend_is_chosen_by_settings(settings):
    assert isinstance(sms.get_sender(), sms.ConsoleSmsSender)
    settings.SMS_BACKEND = "twilio"
    settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN = "AC9", "tok"
    settings.TWILIO_FROM = "+15005550006"
    sender = sms.get_sender()
    assert isinstance(sender, sms.TwilioSmsSender) and sender.account_sid == "AC9"
    settings.SMS_BACKEND = "pigeon"
    with pytest.raises(ValueError):
        sms.get_sender()


@responses.activate
def test_request_shape_and_message_id(twilio):
    responses.post(URL, json={"sid": "SM0123", "status": "queued"}, status=201)
    assert twilio.send("+923001234567", "您的 SIM 卡明天到期") == "SM0123"
    [call] = responses.calls
    expected = base64.b64encode(b"AC123:secret").decode()
    assert call.request.headers["Authorization"] == f"Basic {expected}"
    assert call.request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert parse_qs(call.request.body) == {
        "To": ["+923001234567"],
        "From": ["+15005550006"],
        "Body": ["您的 SIM 卡明天到期"],
    }
    assert call.request.req_kwargs["timeout"] == 10


@responses.activate
def test_a_rejected_message_is_a_permanent_error_with_twilios_message(twilio):
    responses.post(
        URL,
        json={
            "code": 21211,
            "message": "The 'To' number +92 is not a valid phone number.",
            "status": 400,
        },
        status=400,
    )
    with pytest.raises(sms.SmsError) as caught:
        twilio.send("+92", "hi")
    assert caught.value.transient is False and caught.value.code == 21211
    assert "is not a valid phone number" in caught.value.message


@pytest.mark.parametrize("status", [429, 500, 503])
@responses.activate
def test_server_errors_and_throttling_are_transient(twilio, status):
    responses.post(URL, body="Service Unavailable", status=status)
    with pytest.raises(sms.SmsError) as caught:
        twilio.send("+923001234567", "hi")
    assert caught.value.transient is True and str(status) in caught.value.message


@responses.activate
def test_a_timeout_is_transient(twilio):
    responses.post(URL, body=requests.Timeout("read timed out"))
    with pytest.raises(sms.SmsError) as caught:
        twilio.send("+923001234567", "hi")
    assert caught.value.transient is True and "timed out" in caught.value.message
