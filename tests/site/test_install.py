"""The eSIM install page: a QR code that scans to the activation code, copyable details, links."""

import re
from html import unescape

import pytest
import zxingcpp
from django.urls import reverse

from orders.models import Sim
from orders.services.notifications import install_links
from plans.models import Operator
from tests.clock import site_date

pytest_plugins = ["tests.site.conftest_sims"]
pytestmark = pytest.mark.django_db

PIXELS_PER_MODULE = 4


def decode_qr_svg(page: str) -> list[str]:
    """Draw the page's inline segno SVG (horizontal runs of modules) and scan it with zxing-cpp."""
    svg = re.search(r"<svg[^>]*>.*?</svg>", page, re.S).group(0)
    size = int(re.search(r'width="(\d+)"', svg).group(1))
    scale = int(re.search(r"scale\((\d+)\)", svg).group(1))
    modules = size // scale
    grid = [[255] * modules for _ in range(modules)]
    x = y = 0
    path = re.search(r' d="([^"]+)"', svg).group(1)
    for command, first, second in re.findall(r"([MmHh])\s*(-?[\d.]+)(?:\s+(-?[\d.]+))?", path):
        if command in "Mm":
            dx, dy = float(first), float(second)
            x, y = (dx, dy) if command == "M" else (x + dx, y + dy)
            continue
        end = x + float(first) if command == "h" else float(first)
        for column in range(int(x), int(end)):
            grid[int(y)][column] = 0
        x = end
    pixels = bytes(
        value
        for row in grid
        for _ in range(PIXELS_PER_MODULE)
        for value in row
        for _ in range(PIXELS_PER_MODULE)
    )
    side = modules * PIXELS_PER_MODULE
    image = memoryview(pixels).cast("B", (side, side))
    return [barcode.text for barcode in zxingcpp.read_barcodes(image)]


def install_page(client, sim: Sim, **headers):
    return client.get(reverse("sims:install", args=[sim.iccid]), headers=headers)


def test_qr_code_scans_to_the_activation_code(sims_client, sims_bought_esim):
    response = install_page(sims_client, sims_bought_esim)
    assert response.status_code == 200
    assert sims_bought_esim.activation_code.startswith("LPA:1$")
    assert decode_qr_svg(response.content.decode()) == [sims_bought_esim.activation_code]


def test_codes_with_copy_buttons_and_one_tap_links(sims_client, sims_bought_esim):
    body = unescape(install_page(sims_client, sims_bought_esim).content.decode())
    sim = sims_bought_esim
    for value in (sim.activation_code, sim.smdp_address, sim.matching_id):
        assert value and f'data-copy="{value}"' in body
    links = install_links(sim.activation_code)
    assert links["ios"].startswith("https://esimsetup.apple.com/esim_qrcode_provisioning?carddata=")
    assert "LPA%3A1%24" in links["ios"]
    assert f'href="{links["ios"]}"' in body and f'href="{links["android"]}"' in body
    assert "Mobile Service" in body and "Network & internet" in body
    assert "Do not delete this eSIM" in body and "installed only once" in body
    assert "jazzconnect.mobilinkworld.com" in body
    assert site_date(sim.expires_at, "%Y-%m-%d %H:%M") in body


def test_no_inline_script_or_style(sims_client, sims_bought_esim):
    response = install_page(sims_client, sims_bought_esim)
    body = response.content.decode()
    assert re.findall(r"<script(?![^>]*\bsrc=)", body) == []
    assert " style=" not in body and "<style" not in body
    assert "no-store" in response["Cache-Control"]


def test_confirmation_code_and_apn_only_when_present(sims_client, sims_make):
    operator = Operator.objects.get(code="zong")
    Operator.objects.filter(pk=operator.pk).update(apn="")
    sim = sims_make(operator=operator, confirmation_code="4821")
    body = install_page(sims_client, sim).content.decode()
    assert "Confirmation code" in body and 'data-copy="4821"' in body
    assert "APN" not in body
    plain = install_page(sims_client, sims_make()).content.decode()
    assert "Confirmation code" not in plain and "APN" in plain


def test_install_page_in_chinese(sims_client, sims_bought_esim):
    body = install_page(sims_client, sims_bought_esim, **{"accept-language": "zh-hans"}).content
    body = body.decode()
    assert "安装" in body and "设置" in body and "请勿从手机中删除" in body
    assert decode_qr_svg(body) == [sims_bought_esim.activation_code]


def test_only_the_owner_sees_the_install_page(sims_client, sims_make, sims_other, client):
    theirs = sims_make(owner=sims_other)
    assert install_page(sims_client, theirs).status_code == 404
    client.logout()
    response = install_page(client, theirs)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize(
    "fields",
    [
        {"status": Sim.Status.REPLACED},
        {"status": Sim.Status.CANCELLED},
        {"form": Sim.Form.PHYSICAL, "activation_code": ""},
    ],
)
def test_nothing_to_install(sims_client, sims_make, fields):
    assert install_page(sims_client, sims_make(**fields)).status_code == 404


def test_unknown_iccid(sims_client):
    response = sims_client.get(reverse("sims:install", args=["8992000000000000000"]))
    assert response.status_code == 404
