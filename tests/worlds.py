"""Worlds built with the factories: a sandbox catalog, a customer, a staff member, a partner.

Every amount the tests assert on is written here (not derived from the demo data), so a change
to the demo never changes a test's world. Tests that start real processes build theirs here too.
"""

from dataclasses import dataclass
from decimal import Decimal

from allauth.account.models import EmailAddress

from accounts.models import Language, Partner, PriceTier, User
from accounts.roles import ADMINISTRATORS, sync_staff_roles
from accounts.services import issue_api_key
from core.money import Currency
from plans.models import Period, PlanKind
from tests.factories import (
    CustomerFactory,
    OperatorFactory,
    OperatorPrefixFactory,
    PartnerFactory,
    PartnerPriceRuleFactory,
    PlanFactory,
    PlanPriceFactory,
    ProviderFactory,
    UserFactory,
    WalletEntryFactory,
)

CUSTOMER_EMAIL = "customer@paksim.example"
CUSTOMER_PASSWORD = "world-customer-2026"
CUSTOMER_PHONE = "+923001234567"
STAFF_EMAIL = "staff@paksim.example"
STAFF_PASSWORD = "world-staff-2026"
PARTNER_SLUG = "lahore-travel-desk"
PARTNER_KEY_PREFIX = "worldpartner"
PARTNER_KEY_SECRET = "world-partner-secret"
PARTNER_OPENING_BALANCE = Decimal("50000")
PARTNER_LOW_BALANCE = Decimal("5000")
PARTNER_OPENING_REASON = "Opening balance"

# code, name, eSIM, recharge, APN, prefixes (after +92)
OPERATORS = [
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

# eSIM plans: SKU suffix, name, period, days, data MB, minutes, cost PKR, prices (PKR, CNY, USD)
ESIM_PLANS = [
    ("day-2gb", "Daily 2 GB", Period.DAILY, 1, 2048, None, "120", ("150", "3.99", "0.99")),
    ("week-10gb", "Weekly 10 GB", Period.WEEKLY, 7, 10240, 100, "450", ("563", "14.99", "2.99")),
    (
        "month-30gb",
        "Monthly 30 GB",
        Period.MONTHLY,
        30,
        30720,
        500,
        "1300",
        ("1625", "41.99", "5.99"),
    ),
    (
        "month-60gb",
        "Monthly 60 GB",
        Period.MONTHLY,
        30,
        61440,
        1000,
        "2200",
        ("2750", "70.99", "9.99"),
    ),
]
RENEWAL_PLANS = [row for row in ESIM_PLANS if row[2] != Period.DAILY]
# Recharges: airtime PKR, cost PKR, prices (PKR, CNY, USD)
RECHARGES = [
    ("100", "97", ("103", "2.99", "0.99")),
    ("300", "291", ("309", "7.99", "1.99")),
    ("500", "485", ("515", "13.99", "1.99")),
    ("1000", "970", ("1030", "26.99", "3.99")),
]
# Replacement fee by operator: cost PKR, prices (PKR, CNY, USD); free where not listed.
REPLACEMENT_FEES = {"telenor": ("200", ("200", "5.99", "0.99"))}
FREE = ("0", ("0", "0", "0"))
TIER_DISCOUNTS = {PriceTier.STANDARD: "5", PriceTier.SILVER: "8", PriceTier.GOLD: "12"}
CURRENCIES = (Currency.PKR, Currency.CNY, Currency.USD)
CHINESE_TITLES = {
    "day-2gb": "日包 2GB",
    "week-10gb": "周包 10GB",
    "month-30gb": "月包 30GB",
    "month-60gb": "月包 60GB",
}


def _plan(prices, **fields):
    plan = PlanFactory(cost_currency=Currency.PKR, **fields)
    for currency, amount in zip(CURRENCIES, prices, strict=True):
        PlanPriceFactory(plan=plan, currency=currency, amount=Decimal(amount))
    return plan


def build_catalog() -> None:
    """Four operators with their prefixes, the sandbox's plans and prices, the tier discounts."""
    sandbox = ProviderFactory(name="Sandbox")
    for index, (code, name, esim, recharge, apn, prefixes) in enumerate(OPERATORS):
        operator = OperatorFactory(
            code=code,
            name=name,
            supports_esim=esim,
            supports_recharge=recharge,
            apn=apn,
            ordering=index,
        )
        for prefix in prefixes:
            OperatorPrefixFactory(operator=operator, prefix=prefix)
        rows = []
        if esim:
            rows += [(PlanKind.ESIM, "", "", row) for row in ESIM_PLANS]
            rows += [(PlanKind.RENEWAL, " renewal", " 续费", row) for row in RENEWAL_PLANS]
        order = 0
        for kind, label, label_zh, (
            sku,
            title,
            period,
            days,
            data_mb,
            minutes,
            cost,
            prices,
        ) in rows:
            order += 1
            _plan(
                prices,
                provider=sandbox,
                operator=operator,
                provider_sku=f"{code}-{kind}-{sku}",
                kind=kind,
                name=f"{name} {title}{label}",
                name_zh=f"{name} {CHINESE_TITLES[sku]}{label_zh}",
                period=period,
                validity_days=days,
                data_mb=data_mb,
                minutes=minutes,
                cost=Decimal(cost),
                ordering=order,
            )
        for airtime, cost, prices in RECHARGES if recharge else []:
            order += 1
            _plan(
                prices,
                provider=sandbox,
                operator=operator,
                provider_sku=f"{code}-recharge-{airtime}",
                kind=PlanKind.RECHARGE,
                name=f"{name} Rs {airtime} recharge",
                name_zh=f"{name} {airtime} 卢比话费充值",
                period=Period.NONE,
                validity_days=0,
                data_mb=None,
                airtime_amount=Decimal(airtime),
                cost=Decimal(cost),
                ordering=order,
            )
        if esim:
            cost, prices = REPLACEMENT_FEES.get(code, FREE)
            _plan(
                prices,
                provider=sandbox,
                operator=operator,
                provider_sku=f"{code}-replacement",
                kind=PlanKind.REPLACEMENT,
                name=f"{name} eSIM replacement",
                name_zh=f"{name} eSIM 补卡",
                period=Period.NONE,
                validity_days=0,
                data_mb=None,
                cost=Decimal(cost),
                ordering=order + 1,
            )
    for tier, discount in TIER_DISCOUNTS.items():
        PartnerPriceRuleFactory(tier=tier, discount_percent=Decimal(discount))


def _verified(user: User) -> User:
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    return user


def build_customer() -> User:
    """The customer (Chinese-speaking, verified address) who buys in the tests."""
    return _verified(
        CustomerFactory(
            email=CUSTOMER_EMAIL,
            password=CUSTOMER_PASSWORD,
            phone=CUSTOMER_PHONE,
            profile__preferred_language=Language.CHINESE,
        )
    )


def build_staff() -> User:
    """A superuser in the administrators' group."""
    user = _verified(
        UserFactory(email=STAFF_EMAIL, password=STAFF_PASSWORD, is_staff=True, is_superuser=True)
    )
    user.groups.add(sync_staff_roles()[ADMINISTRATORS])
    return user


def build_partner() -> Partner:
    """The silver-tier PKR partner with a key and a funded wallet."""
    partner = PartnerFactory(
        slug=PARTNER_SLUG,
        name="Lahore Travel Desk",
        contact_email="api@lahore-travel.example",
        tier=PriceTier.SILVER,
        low_balance_threshold=PARTNER_LOW_BALANCE,
    )
    issue_api_key(partner=partner, name="Key", prefix=PARTNER_KEY_PREFIX, secret=PARTNER_KEY_SECRET)
    WalletEntryFactory(
        partner=partner, amount=PARTNER_OPENING_BALANCE, reason=PARTNER_OPENING_REASON
    )
    return partner


@dataclass
class World:
    customer: User
    staff: User
    partner: Partner


def build_world() -> World:
    """The catalog, the customer, the staff member and the partner."""
    build_catalog()
    return World(customer=build_customer(), staff=build_staff(), partner=build_partner())
