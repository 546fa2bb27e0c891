"""Branding: the product name, logo, favicon, accent colour and footer links from the settings, read
once at start. The logo and favicon are served by the provider itself (/branding/…), so the CSP stays
`img-src 'self'`; the accent colour becomes a small generated stylesheet (/branding/theme.css) beside
the one in static/, since the CSP allows no inline styles."""

from __future__ import annotations

import hashlib
import mimetypes
import re
from dataclasses import dataclass, field
from pathlib import Path

from flask import Blueprint, Flask, Response, abort, has_request_context, url_for

from . import http

bp = Blueprint("branding", __name__, url_prefix="/branding")
HEX = re.compile(r"#[0-9a-fA-F]{6}")
TYPES = {".svg": "image/svg+xml", ".png": "image/png", ".webp": "image/webp", ".jpg": "image/jpeg",
         ".jpeg": "image/jpeg", ".ico": "image/x-icon"}
CACHE = "public, max-age=86400"


def _luminance(color: str) -> float:
    """WCAG 2.x relative luminance of #rrggbb."""
    def channel(c: int) -> float:
        c = c / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (int(color[i:i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast(a: str, b: str) -> float:
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def accent_problem(color: str) -> str | None:
    if not color:
        return None
    if not HEX.fullmatch(color):
        return "must be a colour written #rrggbb"
    if contrast(color, "#ffffff") < 4.5:
        return f"{color} has a contrast of {contrast(color, '#ffffff'):.1f}:1 with white; it needs at least 4.5:1"
    return None


def asset_problem(path: str, kinds: tuple[str, ...], limit: int) -> str | None:
    if not path:
        return None
    file = Path(path)
    if file.suffix.lower() not in kinds:
        return f"must be a {', '.join(kinds)} file"
    if not file.is_file():
        return f"{path} is not a readable file"
    if file.stat().st_size > limit:
        return f"{path} is larger than {limit // 1024} KiB"
    return None


def lighter(color: str, against: str = "#161b22", target: float = 4.5) -> str:
    """The accent mixed with white until it reaches `target` contrast on the dark theme's card."""
    r, g, b = (int(color[i:i + 2], 16) for i in (1, 3, 5))
    for step in range(0, 101, 5):
        t = step / 100
        mixed = "#" + "".join(f"{round(c + (255 - c) * t):02x}" for c in (r, g, b))
        if contrast(mixed, against) >= target:
            return mixed
    return "#ffffff"


@dataclass(frozen=True)
class Asset:
    body: bytes = field(repr=False)
    mimetype: str
    version: str


@dataclass(frozen=True)
class Brand:
    """What the page layout shows (the templates' `brand`)."""

    name: str
    footer_links: tuple[tuple[str, str], ...]
    logo: Asset | None = None
    favicon: Asset | None = None
    theme: Asset | None = None


def _asset(path: str) -> Asset | None:
    if not path:
        return None
    body = Path(path).read_bytes()
    return Asset(body=body, mimetype=TYPES.get(Path(path).suffix.lower()) or mimetypes.guess_type(path)[0] or "",
                 version=hashlib.sha256(body).hexdigest()[:12])


def _theme(accent: str) -> Asset | None:
    if not accent:
        return None
    dark = lighter(accent)
    css = (f":root {{ --accent: {accent}; --link: {accent}; --focus: {accent}; }}\n"
           f"@media (prefers-color-scheme: dark) {{ :root {{ --link: {dark}; --focus: {dark}; }} }}\n").encode()
    return Asset(body=css, mimetype="text/css", version=hashlib.sha256(css).hexdigest()[:12])


def load(settings) -> Brand:
    links = tuple((label, url) for label, url in (("Privacy", settings.privacy_url), ("Terms", settings.terms_url),
                                                  ("Support", settings.support_url)) if url)
    return Brand(name=settings.product_name.strip(), footer_links=links, logo=_asset(settings.brand_logo),
                 favicon=_asset(settings.brand_favicon), theme=_theme(settings.brand_accent_color))


def _serve(asset: Asset | None) -> Response:
    if asset is None:
        abort(404)
    response = Response(asset.body, mimetype=asset.mimetype)
    response.headers["Cache-Control"] = CACHE
    if asset.mimetype == "image/svg+xml":  # an SVG opened on its own runs no script
        response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    return response


def _brand() -> Brand:
    from flask import current_app

    return current_app.extensions["idp.brand"]


@bp.get("/logo")
def logo():
    return _serve(_brand().logo)


@bp.get("/favicon")
def favicon():
    return _serve(_brand().favicon)


@bp.get("/theme.css")
def theme():
    return _serve(_brand().theme)


def init_app(app: Flask, settings) -> None:
    brand = load(settings)
    app.extensions["idp.brand"] = brand
    app.register_blueprint(bp)

    @app.context_processor
    def _branding() -> dict:
        # Pages link their own origin's paths; mails render outside any request and need absolute URLs,
        # which come from the issuer (never the Host header).
        link = url_for if has_request_context() else http.issuer_url

        def asset_url(endpoint: str, asset: Asset | None) -> str | None:
            return link(endpoint, v=asset.version) if asset else None

        return {
            "brand": brand, "product_name": brand.name,
            "logo_url": asset_url("branding.logo", brand.logo),
            "favicon_url": asset_url("branding.favicon", brand.favicon)
            or link("static", filename="favicon.svg"),
            "theme_url": asset_url("branding.theme", brand.theme),
        }
