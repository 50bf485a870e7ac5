"""Recharging a physical SIM (充值): detection, correction, confirmation of the number, payment."""

import re
from html import unescape

import pytest
from django.core import signing

from orders.models import Order
from orders.site.forms.recharge import TOKEN_SALT
from plans.models import Operator, Plan, PlanKind, PlanPrice

pytest_plugins = ["tests.site.conftest_sims"]
pytestmark = pytest.mark.django_db

START = "/recharge/"
CONFIRM = "/recharge/confirm/"


def operator(code: str) -> Operator:
    return Operator.objects.get(code=code)


def amounts(code: str) -> list[Plan]:
    return list(Plan.objects.filter(kind=PlanKind.RECHARGE, operator__code=code).order_by("pk"))


def offered(body: str) -> set[int]:
    return set(map(int, re.findall(r'type="radio" name="plan" value="(\d+)"', body)))


def selected_operator(body: str) -> str:
    select = re.search(r'<select name="operator".*?</select>', body, re.S).group(0)
    chosen = re.search(r'<option value="(\d*)" selected>', select)
    return Operator.objects.get(pk=chosen.group(1)).code if chosen and chosen.group(1) else ""


def token_of(body: str) -> str:
    return unescape(re.search(r'name="token" value="([^"]+)"', body).group(1))


def find(client, phone: str, **fields) -> str:
    response = client.post(START, {"phone": phone, "action": "find", **fields})
    assert response.status_code == 200
    return response.content.decode()


def to_confirmation(client, phone: str, code: str, plan: Plan, **fields) -> str:
    """Step 1 completed: returns the confirmation page."""
    msisdn = "+92" + re.sub(r"\D", "", phone)[-10:]
    response = client.post(
        START,
        {
            "phone": phone,
            "operator": operator(code).pk,
            "plan": plan.pk,
            "detected_for": msisdn,
            "action": "continue",
            **fields,
        },
    )
    assert response.status_code == 200
    return response.content.decode()


def test_anonymous_is_sent_to_log_in(client, db):
    for url in (START, CONFIRM):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize(
    ("phone", "code"),
    [
        ("0300 1234567", "jazz"),
        ("0321-7654321", "jazz"),
        ("+92 312 3456789", "zong"),
        ("0370 1234567", "zong"),
        ("0345 1234567", "telenor"),
        ("00923331234567", "ufone"),
    ],
)
def test_the_operator_is_detected_from_the_prefix(sims_client, phone, code):
    body = find(sims_client, phone)
    assert selected_operator(body) == code
    assert f"this is a {operator(code).name} number" in body
    assert offered(body) == {plan.pk for plan in amounts(code)}


def test_unknown_prefix_asks_for_the_operator(sims_client):
    body = find(sims_client, "0355 1234567")
    assert selected_operator(body) == "" and "could not tell the operator" in body
    assert offered(body) == set()


def test_a_wrongly_detected_operator_can_be_corrected(sims_client, sims_owner):
    find(sims_client, "0300 1234567")
    body = find(
        sims_client, "0300 1234567", operator=operator("zong").pk, detected_for="+923001234567"
    )
    assert selected_operator(body) == "zong"
    assert offered(body) == {plan.pk for plan in amounts("zong")}
    zong = amounts("zong")[1]
    confirmation = to_confirmation(sims_client, "0300 1234567", "zong", zong)
    assert "Zong" in confirmation
    response = sims_client.post(CONFIRM, {"token": token_of(confirmation), "confirmed": "on"})
    order = Order.objects.get()
    assert (order.recharge_operator.code, order.plan, order.recharge_msisdn) == (
        "zong",
        zong,
        "+923001234567",
    )
    assert response["Location"] == f"/orders/{order.number}/pay/"


def test_a_new_number_is_detected_again(sims_client):
    body = find(sims_client, "0312 3456789", operator=operator("jazz").pk, detected_for="+9230012")
    assert selected_operator(body) == "zong"


def test_confirmation_repeats_the_number_and_places_the_order(sims_client, sims_owner, sims_pay):
    plan = amounts("telenor")[0]
    body = to_confirmation(sims_client, "03451234567", "telenor", plan, currency="USD")
    assert '<p class="big-number">0345 1234567</p>' in body
    assert "Telenor" in body and plan.name in body
    price = PlanPrice.objects.get(plan=plan, currency="USD").amount
    assert f"USD {price:,.2f}" in body
    assert 'type="checkbox" name="confirmed"' in body and "required" in body
    assert not Order.objects.exists()

    response = sims_client.post(CONFIRM, {"token": token_of(body), "confirmed": "on"})
    order = Order.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/orders/{order.number}/pay/"
    assert order.kind == Order.Kind.RECHARGE and order.customer == sims_owner
    assert (order.recharge_msisdn, order.plan, order.currency) == ("+923451234567", plan, "USD")
    assert order.total == price
    assert sims_pay(order).status == Order.Status.FULFILLED


def test_unticked_box_is_refused(sims_client):
    body = to_confirmation(sims_client, "0300 1234567", "jazz", amounts("jazz")[0])
    response = sims_client.post(CONFIRM, {"token": token_of(body)})
    page = response.content.decode()
    assert response.status_code == 200 and "Tick the box" in page
    assert '<p class="big-number">0300 1234567</p>' in page
    assert not Order.objects.exists()


def test_tampered_token_is_refused(sims_client):
    body = to_confirmation(sims_client, "0300 1234567", "jazz", amounts("jazz")[0])
    token = token_of(body)
    payload = signing.loads(token, salt=TOKEN_SALT)
    forged = signing.dumps({**payload, "m": "+923009999999"}, salt="guessed", key="not-the-key")
    flipped = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    for bad in (forged, flipped, "not-a-token"):
        response = sims_client.post(CONFIRM, {"token": bad, "confirmed": "on"})
        assert response.status_code == 200 and "no longer valid" in response.content.decode()
    response = sims_client.post(CONFIRM, {"token": "", "confirmed": "on"})
    assert "This field is required" in response.content.decode()
    assert not Order.objects.exists()


def test_someone_elses_token_is_refused(sims_client, sims_other, client):
    body = to_confirmation(sims_client, "0300 1234567", "jazz", amounts("jazz")[0])
    client.force_login(sims_other)
    response = client.post(CONFIRM, {"token": token_of(body), "confirmed": "on"})
    assert "no longer valid" in response.content.decode()
    assert not Order.objects.exists()


@pytest.mark.parametrize(
    ("phone", "message"),
    [
        ("042 35761234", "This is a landline"),
        ("+86 138 0013 8000", "This is not a Pakistani number"),
        ("0300 12", "Enter a complete mobile number"),
        ("hello", "Enter a complete mobile number"),
        ("", "This field is required"),
    ],
)
def test_bad_numbers_get_a_clear_error(sims_client, phone, message):
    plan = amounts("jazz")[0]
    response = sims_client.post(
        START,
        {"phone": phone, "operator": operator("jazz").pk, "plan": plan.pk, "action": "continue"},
    )
    body = response.content.decode()
    assert response.status_code == 200 and message in body
    assert "big-number" not in body and offered(body) == set()
    assert not Order.objects.exists()


def test_continue_needs_an_amount_of_the_chosen_operator(sims_client):
    zong_amount = amounts("zong")[0]
    body = to_confirmation(sims_client, "0300 1234567", "jazz", zong_amount)
    assert "Choose an amount." in body and "big-number" not in body
    esim = Plan.objects.filter(kind=PlanKind.ESIM).first()
    body = to_confirmation(sims_client, "0300 1234567", "jazz", esim)
    assert "Choose one of the amounts shown." in body and "big-number" not in body


def test_going_back_to_change_the_number(sims_client):
    plan = amounts("zong")[2]
    body = to_confirmation(sims_client, "0300 1234567", "zong", plan)
    response = sims_client.post(START, {"token": token_of(body), "action": "edit"})
    page = response.content.decode()
    assert 'value="0300 1234567"' in page and "autofocus" in page
    assert selected_operator(page) == "zong"
    assert re.search(rf'value="{plan.pk}" checked', page)
    confirm_get = sims_client.get(CONFIRM)
    assert confirm_get.status_code == 302 and confirm_get["Location"] == START


def test_amounts_in_the_chosen_currency(sims_client):
    body = find(sims_client, "0300 1234567", currency="CNY")
    plan = amounts("jazz")[0]
    price = PlanPrice.objects.get(plan=plan, currency="CNY").amount
    assert f"CNY {price:,.2f}" in body and '<strong aria-current="true">CNY</strong>' in body
    PlanPrice.objects.filter(plan=plan, currency="CNY").delete()
    assert plan.pk not in offered(find(sims_client, "0300 1234567"))


def test_recharge_pages_in_chinese(sims_client):
    headers = {"accept-language": "zh-hans"}
    body = sims_client.get(START, headers=headers).content.decode()
    assert "充值" in body and "手机号" in body
    plan = amounts("jazz")[0]
    response = sims_client.post(
        START,
        {
            "phone": "0300 1234567",
            "operator": operator("jazz").pk,
            "plan": plan.pk,
            "detected_for": "+923001234567",
            "action": "continue",
        },
        headers=headers,
    )
    assert "号码正确" in response.content.decode()
