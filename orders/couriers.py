"""Pakistan's couriers that carry a replacement SIM, and where a customer tracks a parcel."""

from dataclasses import dataclass
from urllib.parse import quote

from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Courier:
    """A courier: its code (stored on the ticket), its name and its tracking page."""

    code: str
    name: str
    tracking_url: str  # ``{number}`` is replaced by the tracking number, URL-quoted


COURIERS = {
    courier.code: courier
    for courier in (
        Courier("tcs", _("TCS"), "https://www.tcsexpress.com/track/{number}"),
        Courier(
            "leopards",
            _("Leopards Courier"),
            "https://www.leopardscourier.com/tracking?cn_number={number}",
        ),
        Courier("mnp", _("M&P"), "https://www.mulphilog.com/tracking/{number}"),
        Courier(
            "pakistan_post",
            _("Pakistan Post"),
            "https://ep.gov.pk/emtts/EPTrack_Live.aspx?ArticleIDz={number}",
        ),
        Courier("trax", _("Trax"), "https://sonic.pk/tracking?tracking_number={number}"),
        Courier("postex", _("PostEx"), "https://postex.pk/tracking?cn={number}"),
    )
}
CHOICES = [(courier.code, courier.name) for courier in COURIERS.values()]


def tracking_url(code: str, number: str) -> str:
    """The courier's page for this parcel ("" for an unknown courier or no number)."""
    courier = COURIERS.get(code)
    if courier is None or not number:
        return ""
    return courier.tracking_url.format(number=quote(number, safe=""))


def courier_name(code: str) -> str:
    """The courier's name as shown to people ("" when unknown)."""
    courier = COURIERS.get(code)
    return str(courier.name) if courier else ""
