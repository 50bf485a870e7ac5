"""The favicon, the app icons and the web app manifest, as browsers fetch them."""

import re
from io import BytesIO, StringIO
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.core.management import call_command
from PIL import Image

from portal.icons import ICON_DIR

pytestmark = pytest.mark.django_db


def static_file(url: str):
    path = finders.find(url.removeprefix("/static/"))
    assert path, url
    return path


def test_favicon_ico_answers_at_the_root(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/x-icon"
    assert "max-age=86400" in response["Cache-Control"]
    icon = Image.open(BytesIO(response.content))
    assert icon.format == "ICO"
    assert {(16, 16), (32, 32), (48, 48)} <= icon.info["sizes"]


def test_the_site_links_its_icons_and_manifest(client):
    page = client.get("/").text
    links = dict(re.findall(r'<link rel="(icon|apple-touch-icon|manifest)" href="([^"]+)"', page))
    assert set(links) == {"icon", "apple-touch-icon", "manifest"}
    assert client.get(links["manifest"]).status_code == 200
    touch = Image.open(static_file(links["apple-touch-icon"]))
    assert (touch.format, touch.size) == ("PNG", (180, 180))
    assert '<link rel="icon" href="/favicon.ico"' in page
    assert 'type="image/svg+xml"' in page


@pytest.mark.parametrize(
    ("language", "name"), [("zh-hans", "巴基斯坦 eSIM"), ("en", "Pakistan eSIM")]
)
def test_the_manifest_names_the_brand_and_its_icons(client, language, name):
    response = client.get("/site.webmanifest", headers={"accept-language": language})
    assert response["Content-Type"] == "application/manifest+json"
    manifest = response.json()
    assert (manifest["name"], manifest["start_url"]) == (name, "/")
    sizes = {icon["sizes"] for icon in manifest["icons"]}
    assert {"192x192", "512x512", "any"} == sizes
    for icon in manifest["icons"]:
        path = static_file(icon["src"])
        if icon["type"] == "image/png":
            width = int(icon["sizes"].split("x")[0])
            assert Image.open(path).size == (width, width)
        else:
            assert Path(path).read_text().startswith("<svg")


def test_the_committed_icons_are_what_draw_icons_draws(tmp_path):
    call_command("draw_icons", into=tmp_path, stdout=StringIO())
    drawn = {path.name: path.read_bytes() for path in tmp_path.iterdir()}
    assert drawn == {name: (ICON_DIR / name).read_bytes() for name in drawn}
    assert set(drawn) >= {"favicon.svg", "favicon.ico", "apple-touch-icon.png"}
