"""Staff credit or debit a partner's wallet with a reason (a ledger entry, audited).

The partner admin of accounts gets its wallet column, link and form here: the ledger is orders'.
"""

from decimal import Decimal
from functools import partial

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from accounts.admin import PartnerAdmin
from accounts.models import Partner
from core.money import show_money
from orders.models import WalletEntry
from orders.services.errors import OrderError
from orders.services.wallet import adjust_wallet


class WalletAdjustmentForm(forms.Form):
    amount = forms.DecimalField(
        label=_("Amount"),
        max_digits=14,
        decimal_places=2,
        help_text=_("Positive to credit the wallet (a top-up), negative to debit it."),
    )
    reason = forms.CharField(label=_("Reason"), max_length=200)

    def clean_amount(self):
        amount = self.cleaned_data["amount"]
        if amount == 0:
            raise forms.ValidationError(_("The amount cannot be zero."))
        return amount


def wallet_view(model_admin, request, pk):
    """Show the balance and recent entries; post a credit or debit."""
    if not request.user.has_perm("orders.add_walletentry"):
        raise PermissionDenied
    partner = get_object_or_404(Partner, pk=pk)
    form = WalletAdjustmentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        amount = form.cleaned_data["amount"]
        kind = WalletEntry.Kind.TOP_UP if amount > 0 else WalletEntry.Kind.ADJUSTMENT
        try:
            adjust_wallet(
                partner=partner,
                amount=amount,
                reason=form.cleaned_data["reason"],
                actor=request.user,
                kind=kind,
            )
        except OrderError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("Wallet updated."))
            return redirect("admin:accounts_partner_wallet", pk=partner.pk)
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": Partner._meta,
        "title": _("Wallet of %(partner)s") % {"partner": partner},
        "partner": partner,
        "balance": WalletEntry.balance_of(partner) or Decimal(0),
        "entries": WalletEntry.objects.filter(partner=partner).select_related(
            "order", "created_by"
        )[:50],
        "form": form,
    }
    return TemplateResponse(request, "admin/accounts/partner/wallet.html", context)


class PartnerWalletAdmin(PartnerAdmin):
    """The partner admin with the wallet's balance and its credit or debit form."""

    list_display = [
        "name",
        "tier",
        "currency",
        "balance",
        "credit_limit",
        "wallet_link",
        "is_active",
    ]

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        return queryset.annotate(ledger_balance=WalletEntry.balance_expression())

    @admin.display(description=_("Balance"), ordering="ledger_balance")
    def balance(self, partner):
        return show_money(partner.ledger_balance or Decimal(0), partner.currency)

    @admin.display(description=_("Wallet"))
    def wallet_link(self, partner):
        url = reverse("admin:accounts_partner_wallet", args=[partner.pk])
        return format_html('<a href="{}">{}</a>', url, _("Credit or debit"))

    def get_urls(self):
        view = self.admin_site.admin_view(partial(wallet_view, self))
        return [path("<int:pk>/wallet/", view, name="accounts_partner_wallet"), *super().get_urls()]


admin.site.unregister(Partner)
admin.site.register(Partner, PartnerWalletAdmin)
