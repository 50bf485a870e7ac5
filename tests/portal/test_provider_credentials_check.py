"""Production refuses to start an active real provider without its credentials."""

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from plans.models import Provider
from plans.providers import get_adapter
from plans.providers.base import PermanentProviderError

pytestmark = pytest.mark.django_db
NO_CREDENTIALS = {"airalo": {"client_id": "", "client_secret": ""}}


def test_production_check_fails_for_an_active_provider_without_credentials(settings):
    settings.PRODUCTION = True
    settings.PROVIDER_CREDENTIALS = NO_CREDENTIALS
    Provider.objects.create(name="Airalo", adapter=Provider.Adapter.AIRALO)
    with pytest.raises(SystemCheckError, match=r"portal.E010.*AIRALO|client_id"):
        call_command("check")


def test_an_inactive_provider_or_embedded_mode_passes(settings):
    settings.PROVIDER_CREDENTIALS = NO_CREDENTIALS
    provider = Provider.objects.create(name="Airalo", adapter=Provider.Adapter.AIRALO)
    call_command("check")  # embedded mode: no error
    settings.PRODUCTION = True
    provider.is_active = False
    provider.save()
    call_command("check")


def test_an_adapter_without_credentials_refuses_to_run(settings):
    settings.PROVIDER_CREDENTIALS = NO_CREDENTIALS
    provider = Provider.objects.create(name="Airalo", adapter=Provider.Adapter.AIRALO)
    with pytest.raises(PermanentProviderError, match="credentials missing"):
        get_adapter(provider)
