"""Every admin list renders for a superuser, with rows in it."""

import pytest
from django.contrib import admin
from django.urls import reverse

from tests.portal.admin_rows import add_rows

MODELS = sorted(admin.site._registry, key=lambda model: model._meta.label)


@pytest.mark.django_db
@pytest.mark.parametrize("model", MODELS, ids=[m._meta.label for m in MODELS])
def test_changelist_renders(client, signed_in_superuser, model):
    add_rows(model, 2)
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    assert client.get(url).status_code == 200
