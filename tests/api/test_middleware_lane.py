"""The partner API's lane through the middleware: the same answers and headers as through the
whole chain, without sessions, CSRF, authentication, messages, allauth or staff two-factor."""

import pytest
from django.conf import settings as django_settings
from django.contrib.sessions.middleware import SessionMiddleware
from django.middleware.csrf import CsrfViewMiddleware

from portal import lanes
from tests.api.conftest import client_for

pytestmark = pytest.mark.django_db
PLANS = "/api/v1/plans/"
WALLET = "/api/v1/wallet/"
SECURITY_HEADERS = [
    "Strict-Transport-Security",
    "Content-Security-Policy",
    "X-Frame-Options",
    "X-Content-Type-Options",
    "Referrer-Policy",
    "Cross-Origin-Opener-Policy",
    "X-Request-ID",
    "Content-Language",
]


@pytest.fixture
def https(settings):
    settings.SECURE_HSTS_SECONDS = 3600
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")


def answers(plaintext: str) -> list:
    client = client_for(plaintext)
    client.defaults["HTTP_X_FORWARDED_PROTO"] = "https"
    return [
        client.get(PLANS, {"page_size": 5}),
        client.get(WALLET),
        client.get("/api/v1/no-such-thing/"),
        client_for("nobody.wrong").get(WALLET, HTTP_X_FORWARDED_PROTO="https"),
        client.post("/api/v1/orders/", {}, format="json"),
        client.post("/api/v1/orders/", {}, format="json", HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9"),
    ]


def test_the_lane_answers_as_the_whole_chain_does(api_key, settings, https):
    lane = answers(api_key.plaintext)
    settings.MIDDLEWARE = [
        path for path in django_settings.MIDDLEWARE if path not in (lanes.LANE, lanes.LANE_END)
    ]
    whole = answers(api_key.plaintext)
    assert [r.status_code for r in lane] == [200, 200, 404, 401, 400, 400]
    for through_lane, through_all in zip(lane, whole, strict=True):
        assert through_lane.status_code == through_all.status_code
        assert through_lane.content == through_all.content
        without_id = {name for name in through_all.headers if name != "X-Request-ID"}
        assert without_id <= set(through_lane.headers)
        for name in SECURITY_HEADERS:
            assert name in through_lane.headers, name
            if name != "X-Request-ID":
                assert through_lane[name] == through_all[name]
        assert not through_lane.cookies and "Cookie" not in through_lane.get("Vary", "")


def test_partner_api_calls_skip_the_site_only_middleware(api_key, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("site middleware ran for a partner API call")

    monkeypatch.setattr(SessionMiddleware, "process_request", refuse)
    monkeypatch.setattr(CsrfViewMiddleware, "process_request", refuse)
    client = client_for(api_key.plaintext)
    assert client.get(WALLET).status_code == 200
    assert client.get(PLANS).status_code == 200


def test_the_site_and_the_api_docs_keep_the_whole_chain(client, monkeypatch):
    seen = []
    original = SessionMiddleware.process_request

    def counting(self, request):
        seen.append(request.path)
        return original(self, request)

    monkeypatch.setattr(SessionMiddleware, "process_request", counting)
    for path in ("/", "/api/v1/docs/", "/api/v1/schema/", "/api/"):
        client.get(path)
    assert seen == ["/", "/api/v1/docs/", "/api/v1/schema/", "/api/"]


def test_partner_api_calls_are_answered_in_the_language_they_ask_for(api_key):
    client = client_for(api_key.plaintext)
    english = client.post("/api/v1/orders/", {}, format="json")
    chinese = client.post("/api/v1/orders/", {}, format="json", HTTP_ACCEPT_LANGUAGE="zh-CN")
    by_cookie = client_for(api_key.plaintext)
    by_cookie.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "zh-hans"  # as the site's
    assert english["Content-Language"] == "en"
    assert english.json()["error"]["message"] == "The request is not valid."
    assert chinese["Content-Language"] == "zh-hans" and "Accept-Language" in chinese["Vary"]
    assert chinese.json()["error"]["message"] == "请求无效。"
    assert by_cookie.post("/api/v1/orders/", {}, format="json").json() == chinese.json()
    assert client.get("/api/v1/no-such-thing/", HTTP_ACCEPT_LANGUAGE="zh-CN").json() == {
        "error": {"code": "not_found", "message": "未找到。", "details": {}}
    }


def test_the_lane_keeps_the_order_of_the_rest():
    assert lanes.lane_middleware() == [
        "core.api.language.AcceptLanguageMiddleware",
        "django.middleware.common.CommonMiddleware",
        "django.middleware.clickjacking.XFrameOptionsMiddleware",
        "portal.middleware.ContentSecurityPolicyMiddleware",
        "portal.api.idempotency.IdempotencyMiddleware",
    ]
