"""Partner API: the wallet's balance and its statement (JSON pages and a streamed CSV export).

The balance is the sum of the ledger (``WalletEntry``). Each statement line carries the balance
right after it, whatever filters the caller used, so it is the same on every page and in the CSV
export: the entry's stored running balance, or for an entry written before running balances, the
sum of the partner's entries up to and including it in the order ``(created_at, id)``.
"""

import csv
from decimal import Decimal

import django_filters
from django.db.models import DecimalField, Exists, F, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce
from django.http import StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, serializers
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.response import Response

from core.api.filters import UtcIsoDateTimeFilter
from core.api.views import PartnerAPIView
from core.money import MONEY_DECIMAL_PLACES, MONEY_MAX_DIGITS
from orders.models import WalletEntry

CSV_COLUMNS = [
    "id",
    "created_at",
    "kind",
    "amount",
    "currency",
    "order",
    "reason",
    "balance_after",
]
CSV_CHUNK = 2000
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def money(**kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(
        max_digits=MONEY_MAX_DIGITS, decimal_places=MONEY_DECIMAL_PLACES, **kwargs
    )


class WalletSerializer(serializers.Serializer):
    currency = serializers.CharField(help_text=_("ISO 4217 code of the wallet."))
    balance = money(help_text=_("Sum of all statement entries; negative when using credit."))
    credit_limit = money(help_text=_("How far below zero the balance may go."))
    available = money(help_text=_("Balance plus credit limit: what orders can spend now."))
    low_balance_threshold = money(
        help_text=_("A wallet.low_balance webhook is sent when the balance falls below this.")
    )


class StatementEntrySerializer(serializers.ModelSerializer):
    order = serializers.CharField(
        source="order.number",
        allow_null=True,
        default=None,
        help_text=_("Number of the order this entry belongs to, if any."),
    )
    amount = money(help_text=_("Positive credits the wallet, negative debits it."))
    balance_after = money(
        source="statement_balance", help_text=_("The wallet balance right after this entry.")
    )

    class Meta:
        model = WalletEntry
        fields = ["id", "created_at", "kind", "amount", "currency", "order", "reason"]
        fields += ["balance_after"]


class StatementFilter(django_filters.FilterSet):
    created_after = UtcIsoDateTimeFilter(
        field_name="created_at",
        lookup_expr="gte",
        label=_("Only entries created at or after this time (ISO 8601)."),
    )
    created_before = UtcIsoDateTimeFilter(
        field_name="created_at",
        lookup_expr="lt",
        label=_("Only entries created before this time (ISO 8601)."),
    )
    kind = django_filters.ChoiceFilter(choices=WalletEntry.Kind.choices, label=_("Entry kind."))

    class Meta:
        model = WalletEntry
        fields = ["created_after", "created_before", "kind"]


def up_to_and_including(created_at, pk) -> Q:
    """Entries at or before ``(created_at, pk)`` in statement order."""
    return Q(created_at__lt=created_at) | Q(created_at=created_at, pk__lte=pk)


def with_balance_after(queryset):
    """Annotate each entry with the partner's balance right after it (one query per page).

    The stored running balance; the ledger's sum only for entries that have none (PostgreSQL
    and SQLite evaluate ``COALESCE`` lazily, so stored rows never run the sum).
    """
    older = (
        WalletEntry.objects.filter(partner=OuterRef("partner"))
        .filter(up_to_and_including(OuterRef("created_at"), OuterRef("pk")))
        .order_by()
        .values("partner")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    field = DecimalField(max_digits=MONEY_MAX_DIGITS, decimal_places=MONEY_DECIMAL_PLACES)
    return queryset.annotate(
        statement_balance=Coalesce(F("balance_after"), Subquery(older, output_field=field))
    )


class WalletView(PartnerAPIView):
    @extend_schema(
        operation_id="wallet_retrieve",
        summary=_("Wallet balance and credit limit"),
        responses=WalletSerializer,
        tags=["wallet"],
    )
    def get(self, request):
        partner = self.partner
        balance = WalletEntry.balance_of(partner)
        data = {
            "currency": partner.currency,
            "balance": balance,
            "credit_limit": partner.credit_limit,
            "available": balance + partner.credit_limit,
            "low_balance_threshold": partner.low_balance_threshold,
        }
        return Response(WalletSerializer(data).data)


class PartnerEntriesMixin(PartnerAPIView):
    queryset = WalletEntry.objects.all()
    filterset_class = StatementFilter


@extend_schema(summary=_("Wallet statement, newest first"), tags=["wallet"])
class StatementView(PartnerEntriesMixin, generics.ListAPIView):
    serializer_class = StatementEntrySerializer

    def base_queryset(self):
        return with_balance_after(super().base_queryset().select_related("order"))


class JsonErrorsOnly(BaseContentNegotiation):
    """The CSV export answers errors in JSON whatever the client accepts (its 200 is CSV)."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class _Echo:
    def write(self, value):
        return value


def _cell(text: str) -> str:
    """Keep spreadsheet programs from running a text cell as a formula."""
    return "'" + text if text.startswith(_FORMULA_START) else text


def csv_rows(partner, filtered):
    """The header and one row per entry of ``filtered``, newest first, with the balance after.

    Walks the partner's ledger backwards from the newest to the oldest matching entry (all
    kinds, so the balance stays right), taking each entry's stored running balance where it has
    one and subtracting as it goes where it has none: at most four queries for any size. The
    first queries run now, so a database error is an error response rather than a cut-off file.
    """
    ordered = filtered.order_by("-created_at", "-pk").values_list("created_at", "pk")
    newest, oldest = (
        ordered.values_list("created_at", "pk", "balance_after").first(),
        ordered.last(),
    )
    if newest is None:
        return iter([CSV_COLUMNS])
    ledger = WalletEntry.objects.filter(partner=partner).filter(up_to_and_including(*newest[:2]))
    balance = newest[2]
    if balance is None:
        balance = ledger.aggregate(total=Sum("amount"))["total"] or Decimal(0)
    walk = (
        ledger.exclude(up_to_and_including(*oldest) & ~Q(pk=oldest[1]))
        .order_by("-created_at", "-pk")
        .annotate(wanted=Exists(filtered.filter(pk=OuterRef("pk"))))
        .values_list(
            "pk",
            "created_at",
            "kind",
            "amount",
            "currency",
            "order__number",
            "reason",
            "balance_after",
            "wanted",
        )
    )
    return _walk_rows(balance, walk)


def _walk_rows(balance, walk):
    yield CSV_COLUMNS
    when, amount_text = serializers.DateTimeField(), money()
    for pk, created_at, kind, amount, currency, number, reason, stored, wanted in walk.iterator(
        chunk_size=CSV_CHUNK
    ):
        balance = balance if stored is None else stored
        if wanted:
            yield [
                pk,
                when.to_representation(created_at),
                kind,
                amount_text.to_representation(amount),
                currency,
                number or "",
                _cell(reason),
                amount_text.to_representation(balance),
            ]
        balance -= amount


class StatementCsvView(PartnerEntriesMixin):
    content_negotiation_class = JsonErrorsOnly
    pagination_class = None

    @extend_schema(
        operation_id="wallet_statement_csv",
        summary=_("Wallet statement as CSV"),
        description=_(
            "The same entries and filters as the statement, all of them, newest first, as a CSV "
            "file with a header row."
        ),
        parameters=[
            OpenApiParameter("created_after", OpenApiTypes.DATETIME),
            OpenApiParameter("created_before", OpenApiTypes.DATETIME),
            OpenApiParameter("kind", enum=WalletEntry.Kind.values),
        ],
        responses={(200, "text/csv"): OpenApiResponse(OpenApiTypes.STR)},
        tags=["wallet"],
    )
    def get(self, request):
        partner = self.partner
        filtered = self.filter_queryset(self.get_queryset())
        writer, rows = csv.writer(_Echo()), csv_rows(partner, filtered)
        stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
        response = StreamingHttpResponse(
            (writer.writerow(row) for row in rows),
            content_type="text/csv; charset=utf-8",
        )
        response["Content-Disposition"] = (
            f'attachment; filename="wallet-statement-{partner.slug}-{stamp}.csv"'
        )
        return response
