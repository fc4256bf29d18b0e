"""Synthetic clients (documentation address ranges) and the pool of ordinary requests."""

from __future__ import annotations

import random
from typing import NamedTuple

from .writers import Request

# A user agent is one string; the tuple splits the long ones (mind the commas).
BROWSER_UAS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64)"
    " AppleWebKit/537.36 (KHTML, like Gecko) Chrome/129.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7)"
    " AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X)"
    " AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8)"
    " AppleWebKit/537.36 (KHTML, like Gecko) Chrome/129.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:131.0) Gecko/20100101 Firefox/131.0",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/128.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64)"
    " AppleWebKit/537.36 (KHTML, like Gecko) Chrome/129.0.0.0 Safari/537.36 Edg/129.0.0.0",
    "Mozilla/5.0 (Linux; Android 13; SM-S911B)"
    " AppleWebKit/537.36 (KHTML, like Gecko) Chrome/128.0.0.0 Mobile Safari/537.36",
)
APP_UAS = (
    "ExampleApp/3.4.1 (iPhone; iOS 17.6; example.com)",
    "ExampleApp/3.4.0 (Android 14; example.com)",
    "okhttp/4.12.0",
)
BOT_UAS = (
    "Mozilla/5.0 (compatible; ExampleCrawler/2.1; +https://crawler.example.org/bot.html)",
    "Mozilla/5.0 (compatible; SearchBot/1.0; +https://search.example.org/bot)",
    "Mozilla/5.0 (compatible; SEOAuditBot/7.0; +https://seo.example.org/bot)",
)
MONITOR_UAS = ("kube-probe/1.30", "ELB-HealthChecker/2.0", "Uptime-Monitor/1.0 (+https://status.example.org)")
SCANNER_UAS = ("curl/8.5.0", "python-requests/2.32.3", "Go-http-client/1.1", "Mozilla/5.0 zgrab/0.x", "-")

# fmt: off
PAGES = (
    "/", "/", "/", "/pricing", "/about", "/features", "/blog", "/docs", "/docs/getting-started",
    "/docs/vehicles", "/docs/api", "/dashboard", "/dashboard", "/vehicles", "/vehicles", "/vehicles/connect",
    "/settings", "/settings/vehicles", "/account", "/login", "/signup", "/help", "/status", "/privacy",
    "/terms", "/contact", "/trips", "/charging", "/auth/google",
)
# fmt: on
# fmt: off
BLOG_SLUGS = (
    "ev-charging-tips", "winter-range", "fleet-telematics-101", "release-notes-3-4", "battery-health",
    "road-trip-planner", "home-charging-costs", "odometer-reports",
)
# fmt: on
ASSETS = (
    ("/static/app.3f9a1c.js", 245_812),
    ("/static/vendor.91be0d.js", 611_204),
    ("/static/app.7d2e44.css", 48_310),
    ("/favicon.ico", 15_086),
    ("/static/img/logo.svg", 3_412),
    ("/static/img/hero.jpg", 184_233),
    ("/static/img/car-placeholder.png", 22_871),
    ("/static/fonts/inter-var.woff2", 98_112),
    ("/apple-touch-icon.png", 7_920),
    ("/static/img/icons/battery.svg", 1_204),
    ("/manifest.json", 612),
)
SCAN_PATHS = (
    "/wp-login.php",
    "/.env",
    "/.git/config",
    "/phpmyadmin/",
    "/xmlrpc.php",
    "/admin.php",
    "/wp-admin/setup-config.php",
    "/vendor/phpunit/phpunit/src/Util/PHP/eval-stdin.php",
    "/cgi-bin/luci",
    "/.aws/credentials",
    "/server-status",
    "/actuator/env",
    "/boaform/admin/formLogin",
    "/config.json",
    "/backup.zip",
)


def _doc_ip(rnd: random.Random) -> str:
    if rnd.random() < 0.1:
        return f"2001:db8:{rnd.randrange(1, 0xFFFF):x}::{rnd.randrange(1, 0xFFFF):x}"
    return f"{rnd.choice(('192.0.2', '198.51.100', '203.0.113'))}.{rnd.randrange(1, 255)}"


class Client(NamedTuple):
    ip: str
    ua: str
    proto: str


def clients(
    rnd: random.Random, n: int, uas: tuple[str, ...], protos: tuple[str, ...], ip=_doc_ip
) -> list[Client]:
    return [Client(ip(rnd), rnd.choice(uas), rnd.choice(protos)) for _ in range(n)]


def _short_id(rnd: random.Random) -> str:
    return f"{rnd.getrandbits(32):08x}"


def build_pool(rnd: random.Random, site: str, exclude_paths: set[str], size: int) -> list[Request]:
    """Ordinary requests, weighted by repetition so a uniform pick gives the intended mix."""
    browsers = clients(rnd, 400, BROWSER_UAS, ("HTTP/1.1", "HTTP/2.0", "HTTP/2.0"))
    apps = clients(rnd, 60, APP_UAS, ("HTTP/1.1", "HTTP/2.0"))
    bots = clients(rnd, 20, BOT_UAS, ("HTTP/1.1",))
    monitors = clients(
        rnd, 6, MONITOR_UAS, ("HTTP/1.1",), ip=lambda r: f"10.0.{r.randrange(0, 4)}.{r.randrange(2, 250)}"
    )
    scanners = clients(rnd, 30, SCANNER_UAS, ("HTTP/1.1", "HTTP/1.0"))
    home = f"https://{site}"
    ext_refs = (
        "-",
        "https://search.example.org/",
        "https://news.example.net/item?id=4411",
        "https://www.example.org/links",
    )

    def page(r: random.Random) -> str:
        x = r.random()
        if x < 0.12:
            return f"/blog/{r.choice(BLOG_SLUGS)}"
        if x < 0.17:
            return f"/vehicles/{_short_id(r)}" + r.choice(("", "", "/trips", "/charging"))
        if x < 0.20:
            return r.choice(
                (
                    "/?utm_source=newsletter&utm_medium=email",
                    "/blog?page=2",
                    "/pricing?plan=fleet",
                    f"/search?q={r.choice(('range', 'charging', 'tesla+model+3', 'odometer'))}",
                )
            )
        return r.choice(PAGES)

    def internal_ref(r: random.Random) -> str:
        return home + page(r).split("?")[0]

    def make_one(r: random.Random) -> Request:
        x = r.random()
        if x < 0.26:  # pages
            c = r.choice(browsers)
            p = page(r)
            status, size = 200, r.randrange(4_000, 60_000)
            y = r.random()
            if p.startswith("/blog/") and y < 0.08:
                status, size = 404, r.randrange(3_000, 5_000)
            elif p in ("/login", "/signup", "/auth/google") and y < 0.3:
                status, size = 302, 154
            elif p == "/auth/google":
                status, size = 302, 154
            elif y < 0.04:
                status, size = 304, 0
            ref = r.choice((internal_ref(r), internal_ref(r), r.choice(ext_refs)))
            return Request(c.ip, "GET", p, c.proto, status, size, ref, c.ua)
        if x < 0.54:  # static assets
            c = r.choice(browsers)
            p, full = r.choice(ASSETS)
            status, size = (304, 0) if r.random() < 0.3 else (200, full)
            return Request(c.ip, "GET", p, c.proto, status, size, internal_ref(r), c.ua)
        if x < 0.75:  # API (about half from the mobile app)
            c = r.choice(apps) if r.random() < 0.5 else r.choice(browsers)
            vid = _short_id(r)
            method, path = r.choice(
                (
                    ("GET", "/api/v1/me"),
                    ("GET", "/api/v1/vehicles"),
                    ("GET", f"/api/v1/vehicles/{vid}"),
                    ("GET", f"/api/v1/vehicles/{vid}/battery"),
                    ("GET", f"/api/v1/vehicles/{vid}/location"),
                    ("GET", f"/api/v1/vehicles/{vid}/odometer"),
                    ("GET", "/api/v1/trips?limit=20"),
                    ("GET", f"/api/v1/trips?limit=20&cursor={_short_id(r)}"),
                    ("POST", "/api/v1/events"),
                    ("POST", f"/api/v1/vehicles/{vid}/lock"),
                    ("POST", f"/api/v1/vehicles/{vid}/charge/start"),
                    ("PUT", "/api/v1/me/preferences"),
                    ("PATCH", f"/api/v1/vehicles/{vid}"),
                    ("DELETE", f"/api/v1/vehicles/{vid}"),
                    ("GET", "/api/v1/notifications?unread=true"),
                )
            )
            y = r.random()
            if y < 0.80:
                status = (
                    204
                    if method == "DELETE" or path.endswith("/events")
                    else (201 if method == "POST" else 200)
                )
            elif y < 0.88:
                status = 401
            elif y < 0.92:
                status = 403
            elif y < 0.96:
                status = 404
            elif y < 0.985:
                status = 429
            else:
                status = r.choice((500, 502, 503, 504))
            size = 0 if status == 204 else r.randrange(40, 4_000)
            ref = internal_ref(r) if c.ua in BROWSER_UAS else "-"
            return Request(c.ip, method, path, c.proto, status, size, ref, c.ua)
        if x < 0.85:  # health checks
            c = r.choice(monitors)
            if c.ua.startswith("Uptime"):
                return Request(c.ip, "HEAD", "/", c.proto, 200, 0, "-", c.ua)
            return Request(
                c.ip,
                "GET",
                r.choice(("/healthz", "/readyz", "/health")),
                c.proto,
                200,
                r.choice((2, 15)),
                "-",
                c.ua,
            )
        if x < 0.90:  # crawlers
            c = r.choice(bots)
            p = r.choice(("/robots.txt", "/sitemap.xml", page(r), page(r), f"/blog/{r.choice(BLOG_SLUGS)}"))
            status = 404 if r.random() < 0.05 else (301 if p == "/blog" and r.random() < 0.3 else 200)
            return Request(c.ip, "GET", p, c.proto, status, r.randrange(200, 40_000), "-", c.ua)
        if x < 0.93:  # scanners: 404s and friends
            c = r.choice(scanners)
            method = "POST" if r.random() < 0.15 else "GET"
            status = r.choice((404, 404, 404, 404, 403, 400))
            return Request(
                c.ip, method, r.choice(SCAN_PATHS), c.proto, status, r.randrange(150, 600), "-", c.ua
            )
        if x < 0.95:  # HEAD
            c = r.choice(scanners + monitors)
            return Request(
                c.ip,
                "HEAD",
                r.choice(("/", "/pricing", "/static/app.3f9a1c.js", "/favicon.ico")),
                c.proto,
                200,
                0,
                "-",
                c.ua,
            )
        # form posts
        c = r.choice(browsers)
        method, path, status = r.choice(
            (
                ("POST", "/login", 302),
                ("POST", "/login", 200),
                ("POST", "/signup", 302),
                ("POST", "/contact", 303),
                ("POST", "/logout", 302),
                ("POST", "/settings", 302),
            )
        )
        size = 154 if status in (302, 303) else r.randrange(4_000, 9_000)
        return Request(c.ip, method, path, c.proto, status, size, home + path, c.ua)

    pool: list[Request] = []
    banned = ("code=", "error=", "user_id=", "state=")
    while len(pool) < size:
        req = make_one(rnd)
        path, _, query = req.target.partition("?")
        if path in exclude_paths or any(b in query for b in banned):
            continue
        pool.append(req)
    return pool
