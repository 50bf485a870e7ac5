"""What the JazzCash tests share: a customer's unpaid PKR order and reading a page's form."""

import html
import re

from orders.services.placing import place_purchase
from plans.models import PlanKind
from tests.orders.conftest import plan_of
from tests.worlds import build_customer

HIDDEN_INPUT = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')
POST_FORM = re.compile(r'<form method="post" action="([^"]+)"(.*?)</form>', re.DOTALL)


def unpaid_order():
    """The customer's purchase of a week's eSIM in rupees, not paid yet."""
    plan = plan_of(PlanKind.ESIM, provider_sku__contains="week")
    return place_purchase(plan=plan, customer=build_customer(), currency="PKR")


def posted_form(response) -> tuple[str, dict[str, str]]:
    """The action and hidden fields of the form a page posts (auto-submitted or a button)."""
    action, inside = POST_FORM.search(response.content.decode()).groups()
    fields = {html.unescape(k): html.unescape(v) for k, v in HIDDEN_INPUT.findall(inside)}
    return html.unescape(action), fields
