"""Demo data for the embedded mode: operators, a sandbox catalog, and three demo logins.

Idempotent: objects are created when missing and never changed afterwards, so a second run
changes nothing.
"""

import hashlib
import hmac
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, Decimal

from allauth.account.models import EmailAddress
from django.conf import settings
from django.db import transaction

from accounts.models import CustomerProfile, Language, Partner, PriceTier, User
from accounts.roles import ADMINISTRATORS, sync_staff_roles
from accounts.services import issue_api_key
from core.money import Currency
from orders.models import WalletEntry
from orders.services.wallet import record_entry
from plans.models import (
    Operator,
    OperatorPrefix,
    PartnerPriceRule,
    Period,
    Plan,
    PlanKind,
    PlanPrice,
    Provider,
)

CUSTOMER_EMAIL = "customer@paksim.example"
CUSTOMER_PASSWORD = "demo-customer-2026"
STAFF_EMAIL = "staff@paksim.example"
STAFF_PASSWORD = "demo-staff-2026"
PARTNER_SLUG = "lahore-travel-desk"
PARTNER_KEY_PREFIX = "demopartner"
PARTNER_OPENING_BALANCE = Decimal("50000")

# Pakistani mobile prefixes (after +92) by original operator; numbers may since have been ported.
OPERATORS = [
    # code, name, eSIM, recharge, APN, prefixes
    (
        "jazz",
        "Jazz",
        True,
        True,
        "jazzconnect.mobilinkworld.com",
        [f"30{d}" for d in range(10)] + [f"32{d}" for d in range(10)],
    ),
    ("zong", "Zong", True, True, "zonginternet", [f"31{d}" for d in range(10)] + ["370"]),
    ("telenor", "Telenor", True, True, "internet", [f"34{d}" for d in range(10)]),
    ("ufone", "Ufone", False, True, "ufone.internet", [f"33{d}" for d in range(10)]),
]

# eSIM data plans: (SKU suffix, name, Chinese name, period, days, data MB, minutes, cost PKR)
ESIM_PLANS = [
    ("day-2gb", "Daily 2 GB", "日包 2GB", Period.DAILY, 1, 2048, None, Decimal("120")),
    ("week-10gb", "Weekly 10 GB", "周包 10GB", Period.WEEKLY, 7, 10240, 100, Decimal("450")),
    ("month-30gb", "Monthly 30 GB", "月包 30GB", Period.MONTHLY, 30, 30720, 500, Decimal("1300")),
    ("month-60gb", "Monthly 60 GB", "月包 60GB", Period.MONTHLY, 30, 61440, 1000, Decimal("2200")),
]
RENEWAL_PLANS = [p for p in ESIM_PLANS if p[3] != Period.DAILY]
RECHARGE_AMOUNTS = [Decimal("100"), Decimal("300"), Decimal("500"), Decimal("1000")]

# What operators charge to move a line to a new eSIM (PKR); free where not listed.
REPLACEMENT_FEES = {"telenor": Decimal("200")}

RETAIL_MARKUP = Decimal("1.25")
PKR_PER_UNIT = {Currency.CNY: Decimal("39"), Currency.USD: Decimal("280")}


@dataclass
class DemoResult:
    created: int = 0
    logins: list[str] = field(default_factory=list)


def retail_prices(cost_pkr: Decimal, markup: Decimal = RETAIL_MARKUP) -> dict[str, Decimal]:
    """Retail price in each currency: PKR to the rupee, CNY and USD ending in .99."""
    pkr = (cost_pkr * markup).quantize(Decimal("1"), rounding=ROUND_CEILING)
    prices = {Currency.PKR: pkr}
    for currency, rate in PKR_PER_UNIT.items():
        whole = (pkr / rate).quantize(Decimal("1"), rounding=ROUND_CEILING)
        prices[currency] = max(whole - Decimal("0.01"), Decimal(0))
    return prices


def demo_partner_secret() -> str:
    """The demo partner's API secret, derived from SECRET_KEY so it can be printed every run."""
    return hmac.new(settings.SECRET_KEY.encode(), b"demo-partner-key", hashlib.sha256).hexdigest()


@transaction.atomic
def load_demo_data() -> DemoResult:
    """Create whatever demo data is missing; return how many objects were created and logins."""
    if settings.PRODUCTION:
        raise RuntimeError("Demo data has fixed passwords and is refused in production mode.")
    result = DemoResult()

    def get_or_create(model, defaults=None, **lookup):
        obj, created = model.objects.get_or_create(defaults=defaults or {}, **lookup)
        result.created += created
        return obj

    roles = sync_staff_roles()
    sandbox = get_or_create(Provider, name="Sandbox", defaults={"adapter": "sandbox"})
    for index, (code, name, esim, recharge, apn, prefixes) in enumerate(OPERATORS):
        operator = get_or_create(
            Operator,
            code=code,
            defaults={
                "name": name,
                "supports_esim": esim,
                "supports_recharge": recharge,
                "apn": apn,
                "ordering": index,
            },
        )
        for prefix in prefixes:
            get_or_create(OperatorPrefix, prefix=prefix, defaults={"operator": operator})
        order = 0
        plan_rows = []
        if esim:
            plan_rows += [(PlanKind.ESIM, row) for row in ESIM_PLANS]
            plan_rows += [(PlanKind.RENEWAL, row) for row in RENEWAL_PLANS]
        for kind, (sku, title, title_zh, period, days, data_mb, minutes, cost) in plan_rows:
            label = "" if kind == PlanKind.ESIM else " renewal"
            label_zh = "" if kind == PlanKind.ESIM else " 续费"
            order += 1
            plan = get_or_create(
                Plan,
                provider=sandbox,
                provider_sku=f"{code}-{kind}-{sku}",
                defaults={
                    "operator": operator,
                    "kind": kind,
                    "name": f"{name} {title}{label}",
                    "name_zh": f"{name} {title_zh}{label_zh}",
                    "period": period,
                    "validity_days": days,
                    "data_mb": data_mb,
                    "minutes": minutes,
                    "cost": cost,
                    "cost_currency": Currency.PKR,
                    "ordering": order,
                },
            )
            _prices(get_or_create, plan, cost)
        for amount in RECHARGE_AMOUNTS if recharge else []:
            order += 1
            plan = get_or_create(
                Plan,
                provider=sandbox,
                provider_sku=f"{code}-recharge-{amount}",
                defaults={
                    "operator": operator,
                    "kind": PlanKind.RECHARGE,
                    "name": f"{name} Rs {amount} recharge",
                    "name_zh": f"{name} {amount} 卢比话费充值",
                    "period": Period.NONE,
                    "validity_days": 0,
                    "airtime_amount": amount,
                    "cost": amount * Decimal("0.97"),
                    "cost_currency": Currency.PKR,
                    "ordering": order,
                },
            )
            _prices(get_or_create, plan, amount, markup=Decimal("1.03"))
        if esim:
            fee = REPLACEMENT_FEES.get(code, Decimal(0))
            plan = get_or_create(
                Plan,
                provider=sandbox,
                provider_sku=f"{code}-replacement",
                defaults={
                    "operator": operator,
                    "kind": PlanKind.REPLACEMENT,
                    "name": f"{name} eSIM replacement",
                    "name_zh": f"{name} eSIM 补卡",
                    "period": Period.NONE,
                    "validity_days": 0,
                    "cost": fee,
                    "cost_currency": Currency.PKR,
                    "ordering": order + 1,
                },
            )
            _prices(get_or_create, plan, fee, markup=Decimal(1))

    for tier, discount in [
        (PriceTier.STANDARD, "5"),
        (PriceTier.SILVER, "8"),
        (PriceTier.GOLD, "12"),
    ]:
        get_or_create(
            PartnerPriceRule,
            tier=tier,
            operator=None,
            plan=None,
            defaults={"discount_percent": Decimal(discount)},
        )

    customer = _user(result, CUSTOMER_EMAIL, CUSTOMER_PASSWORD, phone="+923001234567")
    if not CustomerProfile.objects.filter(user=customer).exists():
        CustomerProfile.objects.create(user=customer, preferred_language=Language.CHINESE)
        result.created += 1
    staff = _user(result, STAFF_EMAIL, STAFF_PASSWORD, is_staff=True, is_superuser=True)
    staff.groups.add(roles[ADMINISTRATORS])
    partner = get_or_create(
        Partner,
        slug=PARTNER_SLUG,
        defaults={
            "name": "Lahore Travel Desk",
            "contact_email": "api@lahore-travel.example",
            "tier": PriceTier.SILVER,
            "currency": Currency.PKR,
            "low_balance_threshold": Decimal("5000"),
        },
    )
    secret = demo_partner_secret()
    if not partner.api_keys.filter(prefix=PARTNER_KEY_PREFIX).exists():
        issue_api_key(partner=partner, name="Demo key", prefix=PARTNER_KEY_PREFIX, secret=secret)
        result.created += 1
    if not WalletEntry.objects.filter(partner=partner).exists():
        record_entry(
            partner=partner,
            kind=WalletEntry.Kind.TOP_UP,
            amount=PARTNER_OPENING_BALANCE,
            currency=partner.currency,
            reason="Demo opening balance",
        )
        result.created += 1

    result.logins = [
        f"Customer site   {CUSTOMER_EMAIL} / {CUSTOMER_PASSWORD}",
        f"Staff (admin)   {STAFF_EMAIL} / {STAFF_PASSWORD}",
        f"Partner API     Authorization: Bearer {PARTNER_KEY_PREFIX}.{secret}",
    ]
    return result


def _prices(get_or_create, plan: Plan, cost_pkr: Decimal, markup: Decimal = RETAIL_MARKUP):
    for currency, amount in retail_prices(cost_pkr, markup).items():
        get_or_create(PlanPrice, plan=plan, currency=currency, defaults={"amount": amount})


def _user(result: DemoResult, email: str, password: str, **fields) -> User:
    user = User.objects.filter(email=email).first()
    if user is None:
        user = User.objects.create_user(email=email, password=password, **fields)
        result.created += 1
    EmailAddress.objects.get_or_create(
        user=user, email=email, defaults={"verified": True, "primary": True}
    )  # demo logins work at once; real sign-ups verify their address
    return user
