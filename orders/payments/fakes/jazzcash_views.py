"""The fake JazzCash's pages: its hosted checkout (the signed form arrives, the customer pays
or declines and is posted back to the merchant) and a phone approving MWALLET charges."""

from urllib.parse import urlencode

from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from core.money import from_minor_units
from orders.models import FakeWalletTransaction
from orders.payments.fakes import jazzcash as fake
from orders.payments.jazzcash import KEY, credentials
from orders.payments.local_wallet import CheckoutForm, is_fake

CHECKOUT_ACTIONS = {"pay": True, "decline": False}
PHONE_ACTIONS = {"approve": True, "decline": False}


def _fake_only():
    if not is_fake(KEY):
        raise Http404


def _transaction(**filters) -> FakeWalletTransaction:
    return get_object_or_404(FakeWalletTransaction, gateway=KEY, **filters)


def _page(request, txn, *, bill_reference: str = "", status: int = 200):
    context = {
        "txn": fake.expire_if_due(txn),
        "merchant": credentials().merchant_id,
        "amount": from_minor_units(txn.amount_minor, txn.currency),
        "bill_reference": bill_reference,
    }
    return render(request, "orders/fakes/jazzcash_checkout.html", context, status=status)


@csrf_exempt
@never_cache
@require_POST
def checkout(request):
    """The merchant's signed Page Redirection form arrives: check it, show the payment."""
    _fake_only()
    fields = request.POST.dict()
    try:
        fake.check_request(fields, credentials())
        existing = FakeWalletTransaction.objects.filter(
            gateway=KEY, reference=fields.get("pp_TxnRefNo", "")
        ).first()
        if existing is not None and existing.status == FakeWalletTransaction.Status.PENDING:
            return _page(request, existing, bill_reference=fields.get("pp_BillReference", ""))
        txn = fake.open_transaction(fields, return_url=fields.get("pp_ReturnURL", ""))
    except fake.Refused as exc:
        context = {"code": exc.code, "message": exc.message}
        return render(request, "orders/fakes/jazzcash_refused.html", context, status=400)
    return _page(request, txn, bill_reference=fields.get("pp_BillReference", ""))


@never_cache
@require_POST
def checkout_decide(request, transaction_id: str):
    """The customer pays or declines; the browser is posted back to the return URL, signed."""
    _fake_only()
    txn = _transaction(transaction_id=transaction_id)
    paid = CHECKOUT_ACTIONS.get(request.POST.get("action", ""))
    if paid is None:
        return _page(request, txn, status=400)
    fields = fake.decide(txn, paid=paid)
    txn.refresh_from_db()
    if fields is None and txn.status in fake.CALLBACK_CODES:
        fields = fake.callback_fields(txn)  # already decided or expired: say so again
    if fields is None or not txn.return_url:
        return _page(request, txn, status=409)
    form = CheckoutForm(txn.return_url, fields)
    return render(request, "orders/fakes/jazzcash_return.html", {"form": form})


@never_cache
@require_http_methods(["GET", "POST"])
def phone(request):
    """A wallet owner's phone: the number's pending charges, to approve or decline."""
    _fake_only()
    number = (request.POST if request.method == "POST" else request.GET).get("number", "")
    if request.method == "POST":
        approve = PHONE_ACTIONS.get(request.POST.get("action", ""))
        txn = _transaction(transaction_id=request.POST.get("txn", ""), mobile_number=number)
        if approve is not None:
            fake.decide(txn, paid=approve)
        return redirect(reverse("fake_jazzcash_phone") + "?" + urlencode({"number": number}))
    pending = [
        txn
        for txn in FakeWalletTransaction.objects.filter(
            gateway=KEY, mobile_number=number, status=FakeWalletTransaction.Status.PENDING
        ).order_by("created_at")
        if fake.expire_if_due(txn).status == FakeWalletTransaction.Status.PENDING
    ]
    requests = [(txn, from_minor_units(txn.amount_minor, txn.currency)) for txn in pending]
    context = {"number": number, "requests": requests, "merchant": credentials().merchant_id}
    return render(request, "orders/fakes/jazzcash_phone.html", context)
