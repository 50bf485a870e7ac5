"""One word per concept: the ready email and the install page name the LPA string 激活码, the
matching ID 匹配 ID and the address SM-DP+ 地址, each label beside its own value."""

import re
from html import unescape

import pytest
from django.core import mail
from django.urls import reverse
from django.utils.html import strip_tags

pytestmark = pytest.mark.django_db


def labelled(text: str) -> dict[str, list[str]]:
    """``{label: [values]}`` of the ``label: value`` lines of a plain-text part."""
    pairs: dict[str, list[str]] = {}
    for label, value in re.findall(r"^([^:\n]+): (\S+)$", text, re.M):
        pairs.setdefault(label.strip(), []).append(value)
    return pairs


def table_rows(html: str) -> dict[str, list[str]]:
    """``{header: [cells]}`` of the ``<tr><th>…</th><td>…</td></tr>`` rows of an HTML part."""
    rows: dict[str, list[str]] = {}
    for header, cell in re.findall(r"<tr><th>(.*?)</th><td>(.*?)</td></tr>", html, re.S):
        rows.setdefault(unescape(header), []).append(unescape(strip_tags(cell)))
    return rows


def chinese_part(text: str) -> str:
    return text.split("----------")[0]


def test_ready_email_names_each_value_once(ready_order):
    sim = ready_order.issued_sims.get()
    message = mail.outbox[0]
    expected = {
        "激活码": [sim.activation_code],
        "匹配 ID（Matching ID）": [sim.matching_id],
        "SM-DP+ 地址": [sim.smdp_address],
    }
    text = labelled(chinese_part(message.body))
    html_zh = table_rows(message.alternatives[0].content.split("<hr>")[0])
    for rows in (text, html_zh):
        assert {label: rows.get(label) for label in expected} == expected
        assert [label for label in rows if "激活码" in label] == ["激活码"]
    english = labelled(message.body.split("----------")[1])
    assert english["Matching ID"] == [sim.matching_id]
    assert english["Activation code"] == [sim.activation_code]
    assert sim.matching_id != sim.activation_code


def test_install_page_uses_the_same_words(shopper, ready_order):
    sim = ready_order.issued_sims.get()
    page = shopper.get(
        reverse("sims:install", args=[sim.iccid]), headers={"accept-language": "zh-CN"}
    ).content.decode()
    terms = dict(re.findall(r"<dt>(.*?)</dt>\s*<dd><p class=\"code\">(.*?)</p>", page))
    assert terms["激活码"] == sim.activation_code
    assert terms["匹配 ID（Matching ID）"] == sim.matching_id
    assert terms["SM-DP+ 地址"] == sim.smdp_address
    assert "在“激活码”一栏填写匹配 ID" in page
