"""The site's icon, drawn once: an SVG and, from the same shapes, PNG and ICO renderings.

The shapes live on a 64-unit grid. ``svg()`` writes them as SVG; ``raster()`` draws them with
Pillow (four times larger, then scaled down, for smooth edges). ``manage.py draw_icons`` saves
the files under ``portal/static/portal/icons/``.
"""

from io import BytesIO
from pathlib import Path

from PIL import Image, ImageDraw

ICON_DIR = Path(__file__).resolve().parent / "static" / "portal" / "icons"
GRID = 64
GREEN = "#0b6e4f"
WHITE = "#ffffff"
SUPERSAMPLE = 4

# (kind, geometry, colour): rounded rectangles (x0, y0, x1, y1, radius) and polygons (points).
CARD = ("polygon", ((18, 12), (37, 12), (46, 21), (46, 52), (18, 52)), WHITE)
CHIP = (
    ("rect", (23, 29, 41, 46, 3), GREEN),
    ("rect", (23, 35, 41, 36.5, 0), WHITE),
    ("rect", (23, 39.5, 41, 41, 0), WHITE),
    ("rect", (31.25, 29, 32.75, 46, 0), WHITE),
)


def shapes(*, rounded: bool = True) -> tuple:
    """The icon's shapes, back to front; ``rounded=False`` fills the square (Apple rounds it)."""
    background = ("rect", (0, 0, GRID, GRID, 14 if rounded else 0), GREEN)
    return (background, CARD, *CHIP)


def svg() -> str:
    """The icon as an SVG document."""
    parts = []
    for kind, geometry, colour in shapes():
        if kind == "rect":
            x0, y0, x1, y1, radius = geometry
            parts.append(
                f'<rect x="{x0}" y="{y0}" width="{x1 - x0}" height="{y1 - y0}" rx="{radius}" '
                f'fill="{colour}"/>'
            )
        else:
            points = " ".join(f"{x},{y}" for x, y in geometry)
            parts.append(f'<polygon points="{points}" fill="{colour}"/>')
    body = "\n  ".join(parts)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {GRID} {GRID}">\n  {body}\n</svg>\n'
    )


def raster(size: int, *, rounded: bool = True) -> Image.Image:
    """The icon as a ``size``-pixel square RGBA image."""
    big = size * SUPERSAMPLE
    scale = big / GRID
    image = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    for kind, geometry, colour in shapes(rounded=rounded):
        if kind == "rect":
            x0, y0, x1, y1, radius = (value * scale for value in geometry)
            draw.rounded_rectangle((x0, y0, x1 - 1, y1 - 1), radius=radius, fill=colour)
        else:
            draw.polygon([(x * scale, y * scale) for x, y in geometry], fill=colour)
    return image.resize((size, size), Image.Resampling.LANCZOS)


def png(size: int, *, rounded: bool = True) -> bytes:
    """The icon as PNG bytes."""
    out = BytesIO()
    raster(size, rounded=rounded).save(out, format="PNG", optimize=True)
    return out.getvalue()


def ico() -> bytes:
    """The icon as a favicon.ico holding 16, 32 and 48 pixel images."""
    out = BytesIO()
    raster(48).save(out, format="ICO", sizes=[(16, 16), (32, 32), (48, 48)])
    return out.getvalue()


def files() -> dict[str, bytes]:
    """Every icon file the site serves, by name."""
    return {
        "favicon.svg": svg().encode(),
        "favicon.ico": ico(),
        "apple-touch-icon.png": png(180, rounded=False),
        "icon-192.png": png(192),
        "icon-512.png": png(512),
    }
