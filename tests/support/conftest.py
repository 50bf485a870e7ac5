"""Support conversations: a signed-in customer with an order and a SIM, and screenshots."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from tests.factories import CustomerFactory, OrderFactory, SimFactory


def screenshot_file(name="screen.png", size=(390, 844)) -> SimpleUploadedFile:
    """A phone screenshot as a PNG upload."""
    buffer = io.BytesIO()
    Image.new("RGB", size, (30, 120, 200)).save(buffer, "PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


@pytest.fixture
def customer(client, private_media):
    user = CustomerFactory()
    client.force_login(user)
    return user


@pytest.fixture
def order(customer):
    return OrderFactory(customer=customer)


@pytest.fixture
def sim(customer):
    return SimFactory(owner=customer)
