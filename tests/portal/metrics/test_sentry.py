"""Sentry: started only when SENTRY_DSN is set, without personal data, with secrets scrubbed."""

import json
import subprocess
import sys

from portal.metrics.sentry import SCRUBBED, scrub
from tests.processes import ROOT, clean_env

# Loads the settings, then reports the Sentry client they started. An event is captured by a
# transport that keeps it in memory: nothing is sent anywhere.
REPORT = """
import json, os, django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
django.setup()
import sentry_sdk
from sentry_sdk.transport import Transport
client = sentry_sdk.get_client()
report = {"active": client.is_active()}
if client.is_active():
    events = []
    class Keep(Transport):
        def capture_envelope(self, envelope):
            events.extend(item.payload.json for item in envelope.items if item.type == "event")
    client.transport = Keep()
    try:
        raise ValueError(
            "code LPA:1$smdp.example$K2-1A2B for ali@example.com "
            "key 0123456789ab.abcdefghijklmnopqrstuvwxyz_0123456789"
        )
    except ValueError:
        sentry_sdk.capture_exception()
    sentry_sdk.flush()
    options = client.options
    report.update(
        environment=options["environment"],
        release=options["release"],
        send_default_pii=options["send_default_pii"],
        traces_sample_rate=options["traces_sample_rate"],
        integrations=sorted(client.integrations),
        events=events,
    )
print(json.dumps(report))
"""


def report(tmp_path, **env) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", REPORT],
        cwd=ROOT,
        env=clean_env(tmp_path, **env),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_without_a_dsn_sentry_is_not_started(tmp_path):
    assert report(tmp_path) == {"active": False}


def test_with_a_dsn_sentry_starts_with_its_options_and_scrubs_events(tmp_path):
    started = report(
        tmp_path,
        SENTRY_DSN="https://public@sentry.invalid/1",
        SENTRY_ENVIRONMENT="staging",
        SENTRY_RELEASE="portal@1.2.3",
        SENTRY_TRACES_SAMPLE_RATE="0.25",
    )
    assert started["active"] is True
    assert started["environment"] == "staging"
    assert started["release"] == "portal@1.2.3"
    assert started["send_default_pii"] is False
    assert started["traces_sample_rate"] == 0.25
    assert {"django", "celery"} <= set(started["integrations"])
    [event] = started["events"]
    message = event["exception"]["values"][0]["value"]
    assert message == f"code {SCRUBBED} for {SCRUBBED} key {SCRUBBED}"
    sent = json.dumps(event)
    assert "ali@example.com" not in sent
    assert "LPA:1$" not in sent


def test_traces_are_off_unless_asked(tmp_path):
    assert report(tmp_path, SENTRY_DSN="https://public@sentry.invalid/1")["traces_sample_rate"] == 0


def test_scrub_replaces_secrets_under_secret_keys_and_inside_text():
    event = {
        "extra": {"activation_code": "anything", "note": "mail ali@example.com"},
        "request": {"headers": {"Authorization": "Bearer x", "Accept": "text/html"}},
        "breadcrumbs": [{"message": "issued LPA:1$smdp$abc"}],
        "level": "error",
    }
    assert scrub(event) == {
        "extra": {"activation_code": SCRUBBED, "note": f"mail {SCRUBBED}"},
        "request": {"headers": {"Authorization": SCRUBBED, "Accept": "text/html"}},
        "breadcrumbs": [{"message": f"issued {SCRUBBED}"}],
        "level": "error",
    }
