"""The fake Easypay's pages: the hosted checkout and its confirmation, and the customer's phone
where mobile-account requests are approved. Found only while Easypaisa runs as the fake."""

from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.money import format_money, from_minor_units
from orders.models import FakeWalletTransaction
from orders.payments import easypaisa as contract
from orders.payments.fakes import easypaisa as fake
from orders.payments.local_wallet import is_fake

ACTIONS = {"pay": True, "approve": True, "decline": False}


def _require_fake() -> None:
    if not is_fake(contract.KEY):
        raise Http404


def _refused(request, exc: fake.Refused):
    context = {"code": exc.code, "message": exc.message}
    return render(request, "orders/fakes/easypaisa_refused.html", context, status=400)


def _transaction(transaction_id: str) -> FakeWalletTransaction:
    return get_object_or_404(
        FakeWalletTransaction, gateway=contract.KEY, transaction_id=transaction_id
    )


def _action(request) -> bool:
    action = request.POST.get("action", "")
    if action not in ACTIONS:
        raise Http404
    return ACTIONS[action]


@never_cache
@csrf_exempt  # posted from the merchant's site, as to the real Easypay
@require_POST
def checkout(request):
    """Index.jsf: the signed request checked, the order shown with Pay / Decline."""
    _require_fake()
    try:
        txn = fake.open_checkout(request.POST.dict())
    except fake.Refused as exc:
        return _refused(request, exc)
    context = {"txn": txn, "store_id": contract.merchant().store_id, "amount": _amount(txn)}
    return render(request, "orders/fakes/easypaisa_checkout.html", context)


@never_cache
@require_POST
def decide(request, transaction_id: str):
    """The customer paid or declined: record it, notify, send the browser back (auth_token)."""
    _require_fake()
    txn = _transaction(transaction_id)
    fake.record_outcome(txn, approved=_action(request))
    return redirect(fake.return_after_checkout(txn))


@never_cache
@csrf_exempt  # posted from the merchant's site, as to the real Easypay
@require_POST
def confirm(request):
    """Confirm.jsf: the auth_token checked, the browser sent back with the status."""
    _require_fake()
    try:
        return redirect(fake.confirm(request.POST.dict()))
    except fake.Refused as exc:
        return _refused(request, exc)


@never_cache
@require_http_methods(["GET", "POST"])
def phone(request):
    """The customer's phone: the number's pending requests, each to approve or decline."""
    _require_fake()
    number = request.GET.get("number", "")
    if request.method == "POST":
        txn = _transaction(request.POST.get("transaction", ""))
        if txn.mobile_number != number:
            raise Http404
        fake.record_outcome(txn, approved=_action(request))
        return redirect(request.get_full_path())
    requests = [
        {"txn": txn, "amount": _amount(txn)} for txn in (fake.pending_for(number) if number else [])
    ]
    context = {"number": number, "requests": requests, "store_id": contract.merchant().store_id}
    return render(request, "orders/fakes/easypaisa_phone.html", context)


@never_cache
@require_GET
def order_status(request, account: str, reference: str):
    """The order-status resource an IPN names, as JSON."""
    _require_fake()
    status = fake.order_status(account, reference)
    if status is None:
        raise Http404
    return JsonResponse(status)


def _amount(txn: FakeWalletTransaction) -> str:
    return format_money(from_minor_units(txn.amount_minor, txn.currency), txn.currency)
