"""Removing a saved card: owner-only, auto-renew off where it was used, never charged again."""

import json
import re
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from core import audit
from core.models import AuditEntry
from orders.models import AutoRenewal, AutoRenewalCharge, SavedPaymentMethod, Sim
from orders.services.autorenew.cards import enable_auto_renew
from orders.services.card_removal import remove_saved_card
from orders.site.sims import sim_label
from orders.tasks import run_auto_renewals
from plans.models import PlanKind
from tests.factories import CustomerFactory, SimFactory
from tests.orders.conftest import plan_of
from tests.processes import ROOT

pytestmark = pytest.mark.django_db
URL = "/account/cards/"


def remove_url(card):
    return f"{URL}{card.pk}/remove/"


def make_card(customer, reference="pm_test_a", label="Visa •••• 4242", **fields):
    return SavedPaymentMethod.objects.create(
        customer=customer,
        gateway=fields.pop("gateway", "test"),
        customer_reference=f"cus_test_{customer.pk}",
        payment_method_reference=reference,
        label=label,
        saved_at=timezone.now(),
        **fields,
    )


def renew_with(sim, card) -> AutoRenewal:
    return enable_auto_renew(
        sim=sim, plan=plan_of(PlanKind.RENEWAL), payment_method=card, currency="PKR"
    )


def another_sim(like: Sim, **fields) -> Sim:
    fields.setdefault("owner", like.owner)
    return SimFactory(operator=like.operator, status=Sim.Status.ACTIVE, **fields)


@pytest.fixture
def card(customer):
    return make_card(customer)


def test_the_list_shows_only_my_usable_cards_and_the_sims_they_renew(
    client, customer, bought_sim, card
):
    renew_with(bought_sim, card)
    make_card(customer, "pm_test_old", "Amex •••• 1005", revoked_at=timezone.now())
    make_card(customer, "", "Card being saved")
    make_card(CustomerFactory(), "pm_test_x", "Mastercard •••• 5454")
    client.force_login(customer)

    html = client.get(URL).content.decode()
    assert "Visa •••• 4242" in html and sim_label(bought_sim) in html
    assert "Amex" not in html and "Mastercard" not in html and "Card being saved" not in html
    assert html.count('action="/account/cards/') == 1
    assert URL in client.get("/account/").content.decode()
    assert URL in client.get(f"/sims/{bought_sim.iccid}/auto-renew/").content.decode()


def test_visitors_are_sent_to_log_in(client, card):
    assert client.get(URL).status_code == 302
    assert client.post(remove_url(card)).status_code == 302
    assert SavedPaymentMethod.objects.get().revoked_at is None


def test_removing_revokes_the_card_and_stops_auto_renew_only_where_it_was_used(
    client, customer, bought_sim, card, django_capture_on_commit_callbacks
):
    second = another_sim(bought_sim)
    kept = another_sim(bought_sim)
    other_card = make_card(customer, "pm_test_b", "Visa •••• 1881")
    for sim, used in ((bought_sim, card), (second, card), (kept, other_card)):
        renew_with(sim, used)
    client.force_login(customer)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(remove_url(card), follow=True)
    assert response.redirect_chain == [(URL, 302)]
    assert "Auto-renew is now off on 2 of your SIMs." in response.content.decode()
    card.refresh_from_db()
    assert card.revoked_at is not None and not card.usable
    enabled = dict(AutoRenewal.objects.values_list("sim_id", "enabled"))
    assert enabled == {bought_sim.pk: False, second.pk: False, kept.pk: True}
    entry = audit.entries_for(card).get(action="card.removed")
    assert entry.actor == customer
    assert entry.after == {"label": "Visa •••• 4242", "auto_renew_turned_off": 2}
    disabled = AuditEntry.objects.filter(action="auto_renew.disabled")
    assert sorted(disabled.values_list("target_id", flat=True)) == sorted(
        [str(bought_sim.pk), str(second.pk)]
    )
    assert "Visa •••• 4242" not in response.content.decode()


def test_removing_twice_is_harmless(client, customer, card):
    client.force_login(customer)
    first = client.post(remove_url(card), follow=True)
    assert "Card removed. We will not charge it again." in first.content.decode()
    revoked_at = SavedPaymentMethod.objects.get().revoked_at

    again = client.post(remove_url(card), follow=True)
    assert "This card was already removed." in again.content.decode()
    assert remove_saved_card(customer=customer, method=card) == 0
    assert SavedPaymentMethod.objects.get().revoked_at == revoked_at
    assert AuditEntry.objects.filter(action="card.removed").count() == 1


def test_another_customers_card_is_not_found_and_nothing_changes(client, bought_sim, card):
    renewal = renew_with(bought_sim, card)
    client.force_login(CustomerFactory())
    assert client.post(remove_url(card)).status_code == 404
    assert client.post(f"{URL}999999/remove/").status_code == 404
    with pytest.raises(SavedPaymentMethod.DoesNotExist):
        remove_saved_card(customer=CustomerFactory(), method=card)
    card.refresh_from_db()
    renewal.refresh_from_db()
    assert card.revoked_at is None and renewal.enabled
    assert not AuditEntry.objects.filter(action__in=["card.removed", "auto_renew.disabled"])


def test_get_on_the_remove_url_is_not_allowed(client, customer, card):
    client.force_login(customer)
    assert client.get(remove_url(card)).status_code == 405
    assert SavedPaymentMethod.objects.get().revoked_at is None


def test_the_test_gateway_has_nothing_to_detach(client, customer, card, monkeypatch):
    def refuse(method):
        raise AssertionError("a test card is not sent to Stripe")

    monkeypatch.setattr("orders.payments.saved_cards.stripe_detach", refuse)
    client.force_login(customer)
    assert client.post(remove_url(card)).status_code == 302


def sweep_at(when, capture):
    with time_machine.travel(when, tick=False), capture(execute=True):
        return run_auto_renewals()


def test_the_sweep_never_charges_a_removed_card(
    client, customer, bought_sim, django_capture_on_commit_callbacks
):
    """Removed before its period, removed after a decline, or left enabled by a race."""
    expiry = timezone.now() + timedelta(days=10)
    early, late = bought_sim, another_sim(bought_sim, expires_at=expiry)
    Sim.objects.filter(pk=early.pk).update(expires_at=expiry)
    early_card = make_card(customer, "pm_test_a")
    late_card = make_card(customer, "pm_test_decline_b", "Visa •••• 0002")
    early_renewal, _late_renewal = renew_with(early, early_card), renew_with(late, late_card)
    client.force_login(customer)
    assert client.post(remove_url(early_card)).status_code == 302

    sweep_at(expiry - timedelta(hours=23), django_capture_on_commit_callbacks)
    declined = AutoRenewalCharge.objects.get()
    assert declined.auto_renewal.sim == late
    assert (declined.status, declined.attempts) == ("failed", 1)  # retried in 6 hours, unless…

    assert client.post(remove_url(late_card)).status_code == 302
    AutoRenewal.objects.filter(pk=early_renewal.pk).update(enabled=True)  # as if a race undid it
    for hours in (16, 10, 1):
        sweep_at(expiry - timedelta(hours=hours), django_capture_on_commit_callbacks)
    declined.refresh_from_db()
    assert (declined.status, declined.attempts) == ("failed", 2)
    assert declined.last_error == "no longer due"
    assert declined.order.payments.count() == 1
    assert AutoRenewalCharge.objects.count() == 1


def test_the_cards_page_query_count_does_not_grow_with_the_cards(
    client, customer, bought_sim, django_assert_max_num_queries
):
    def add_cards(count):
        for _ in range(count):
            card = make_card(customer, f"pm_test_{SavedPaymentMethod.objects.count()}")
            renew_with(another_sim(bought_sim), card)
            renew_with(another_sim(bought_sim), card)

    client.force_login(customer)
    add_cards(1)
    with django_assert_max_num_queries(6) as few:
        assert client.get(URL).status_code == 200
    add_cards(5)
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = client.get(URL)
    assert page.content.decode().count("Remove this card") == 6


def english_fragments() -> list[str]:
    glossary = json.loads((ROOT / "locale/glossary/saved_cards.json").read_text("utf-8"))
    parts = (re.split(r"%\(\w+\)s", english) for english in glossary)
    return [part.strip(" .:") for split in parts for part in split if len(part.strip()) > 3]


def test_a_chinese_page_has_no_english_left(client, customer, bought_sim, card):
    renew_with(bought_sim, card)
    client.force_login(customer)
    client.cookies["django_language"] = "zh-hans"
    page = client.get(URL).content.decode()
    removed = client.post(remove_url(card), follow=True).content.decode()
    again = client.post(remove_url(card), follow=True).content.decode()
    for html in (page, removed, again):
        assert [text for text in english_fragments() if text in html] == []
    assert "已保存的银行卡" in page and "移除这张卡" in page
    assert "银行卡已移除。您有 1 张 SIM 卡的自动续费已关闭。" in removed
    assert "这张银行卡已被移除。" in again
