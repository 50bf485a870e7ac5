"""Every model of the project has a factory in tests/factories.py, and each one saves a row."""

import factory
import pytest
from django.apps import apps

from tests import factories
from tests.apps import PROJECT_APPS

pytestmark = pytest.mark.django_db

FACTORIES = [
    f
    for f in vars(factories).values()
    if isinstance(f, type) and issubclass(f, factory.django.DjangoModelFactory)
]


def test_every_model_has_a_factory():
    models = {m for m in apps.get_models() if m._meta.app_label in PROJECT_APPS}
    missing = sorted(m.__name__ for m in models - {f._meta.model for f in FACTORIES})
    assert not missing, f"add a factory to tests/factories.py for: {', '.join(missing)}"


@pytest.mark.parametrize("model_factory", FACTORIES, ids=lambda f: f.__name__)
def test_each_factory_saves_a_row(model_factory, private_media):
    row = model_factory()
    assert type(row).objects.filter(pk=row.pk).exists()
