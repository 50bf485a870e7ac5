"""The customer's saved cards: which SIMs each one renews, and removing one."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from orders.models import AutoRenewal, SavedPaymentMethod
from orders.services.autorenew.cards import usable_methods
from orders.services.card_removal import remove_saved_card
from orders.site.sims import sim_label


@login_required
@require_GET
def card_list(request):
    """The customer's usable saved cards, each with the SIMs it renews."""
    renewals = AutoRenewal.objects.filter(enabled=True).select_related("sim__operator")
    cards = usable_methods(request.user).prefetch_related(
        Prefetch("auto_renewals", queryset=renewals.order_by("sim__pk"), to_attr="renewing")
    )
    rows = [
        {"card": card, "sims": [(r.sim.operator.name, sim_label(r.sim)) for r in card.renewing]}
        for card in cards
    ]
    return render(request, "orders/site/saved_cards.html", {"rows": rows})


@login_required
@require_POST
def remove_card(request, pk: int):
    """Remove one of the customer's cards; auto-renew stops on the SIMs that used it."""
    method = get_object_or_404(SavedPaymentMethod, pk=pk, customer=request.user)
    if method.revoked_at is not None:
        messages.info(request, _("This card was already removed."))
        return redirect("cards:list")
    turned_off = remove_saved_card(customer=request.user, method=method)
    if turned_off:
        text = _("Card removed. Auto-renew is now off on %(count)s of your SIMs.")
        messages.success(request, text % {"count": turned_off})
    else:
        messages.success(request, _("Card removed. We will not charge it again."))
    return redirect("cards:list")
