"""A physical SIM's replacement on its way by post, for the tests of shipping and activation."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from accounts.roles import SUPPORT, sync_staff_roles
from orders.models import ReplacementTicket, Sim
from orders.services.replacement import approve_replacement, request_replacement
from orders.services.shipping import ship_replacement
from tests.factories import UserFactory

ADDRESS = "House 12, Street 4, F-7/2, Islamabad"


def photo() -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (640, 400), (200, 180, 150)).save(buffer, "JPEG")
    return SimpleUploadedFile("photo.jpg", buffer.getvalue(), content_type="image/jpeg")


@pytest.fixture
def support(db):
    """A staff member of the support role (who ships SIM cards)."""
    user = UserFactory(is_staff=True)
    user.groups.add(sync_staff_roles()[SUPPORT])
    return user


@pytest.fixture
def card(bought_sim) -> Sim:
    """The customer's physical SIM, live."""
    Sim.objects.filter(pk=bought_sim.pk).update(form=Sim.Form.PHYSICAL, activation_code="")
    bought_sim.refresh_from_db()
    return bought_sim


def request_card_replacement(card: Sim, customer) -> ReplacementTicket:
    """The customer asks for a new card for their damaged ``card``, delivered to ADDRESS."""
    return request_replacement(
        sim=card,
        customer=customer,
        reason="damaged",
        full_name="Li Wei",
        document_type="passport",
        document_number="EA1234567",
        front=photo(),
        back=photo(),
        selfie=photo(),
        currency="PKR",
        delivery_address=ADDRESS,
    )


@pytest.fixture
def requested_card(card, customer, private_media, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return request_card_replacement(card, customer)


@pytest.fixture
def issued_card(requested_card, identity_reviewer, django_capture_on_commit_callbacks):
    """Approved, its fee (none) paid and the new card issued: ready to ship."""
    with django_capture_on_commit_callbacks(execute=True):
        approve_replacement(ticket=requested_card, reviewer=identity_reviewer)
    requested_card.refresh_from_db()
    assert requested_card.status == ReplacementTicket.Status.ISSUED
    return requested_card


@pytest.fixture
def shipped_card(issued_card, support, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        ship_replacement(
            ticket=issued_card, courier="tcs", tracking_number="7701 2345 6789", actor=support
        )
    return issued_card
