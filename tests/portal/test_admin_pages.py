"""Every admin list renders for an administrator with the demo data."""

import pytest
from django.contrib import admin
from django.urls import reverse

from portal.demo import STAFF_EMAIL, load_demo_data
from tests.staff import login_staff

MODELS = sorted(admin.site._registry, key=lambda model: model._meta.label)


@pytest.mark.django_db
@pytest.mark.parametrize("model", MODELS, ids=[m._meta.label for m in MODELS])
def test_changelist_renders(client, django_user_model, model):
    load_demo_data()
    login_staff(client, django_user_model.objects.get(email=STAFF_EMAIL))
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    assert client.get(url).status_code == 200
