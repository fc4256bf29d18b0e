"""Seeded generator of SYNTHETIC web-server access logs containing Smartcar Connect traffic.

**Everything this module writes is synthetic.** Client addresses come from the documentation
ranges (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32, plus 10.0.0.0/8 for probes),
the site is ``example.com``, crawler user agents point at ``example.org``, and every state,
user_id, code and VIN is drawn from a seeded ``random.Random``. Access logs cannot carry a
comment line, so the "synthetic" label lives here and in ``data/sample/README.md``.

What is in a file
    * Ordinary traffic: pages, static assets, API calls (GET/POST/PUT/PATCH/DELETE), health
      checks, HEAD requests, crawlers, vulnerability scanners (404s), logins.  These lines come
      from a precomputed pool, so they never touch the redirect or launch path and never carry
      ``code=``, ``error=``, ``user_id=`` or ``state=``.
    * Connect attempts: a launch ``GET {launch_path}?state=<10 hex>`` (the app's own endpoint
      that 302s to connect.smartcar.com), then seconds to minutes later, from the same client,
      the redirect ``GET {redirect_path}?...&state=<same>``.  Some launches are abandoned (no
      redirect), some errors are retried with a new state (and succeed), some redirects are
      reloaded (same line again seconds later), a few redirects carry no state at all (e.g. a
      Connect link shared from the Dashboard) and a few carry a state whose launch is not in
      the file ("orphans").
    * Look-alikes for an importer to reject: other OAuth callbacks of the same app
      (``/auth/google/callback?code=4/0AX4Xf...&state=...``) and ``code=`` / ``error=`` /
      ``user_id=`` query parameters on unrelated paths.

:func:`generate` returns the exact ground truth (see its docstring), so tests of an importer
can compare against it.

Adding a log format: write ``parts(req, host) -> (before_ts, after_ts)`` and register
``FORMATS["name"] = LineFormat(parts, clock)`` where *clock* names an entry of ``CLOCKS`` (how
the timestamp is spelt) or is ``None`` for formats without a timestamp.  A line is
``before_ts + timestamp + after_ts``; both halves are rendered once per pooled request, which is
what makes generation fast.

Speed: ordinary lines are pooled and pre-rendered; timestamps are an hour prefix plus a
precomputed ``MM:SS`` table (no ``strftime`` per line); output is written in large batches.
"""

from __future__ import annotations

import gzip
import os
import random
from array import array
from bisect import bisect_right
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from itertools import accumulate
from typing import BinaryIO, Callable, NamedTuple
from urllib.parse import quote, quote_plus

__all__ = [
    "generate",
    "generate_file",
    "Request",
    "LineFormat",
    "FORMATS",
    "CLOCKS",
    "OUTCOME_MIX",
    "ERROR_CODES",
    "DEFAULT_HOST",
]

DEFAULT_HOST = "example.com"
GOOGLE_CALLBACK_PATH = "/auth/google/callback"

# --------------------------------------------------------------------------------------------
# Assumptions (labelled).  No public source gives real Connect outcome rates; this mix is the
# synthetic default suggested in the domain notes, PURELY AN ASSUMPTION for realistic-looking
# test data (the 10% "exited" share is split 6% / 4%).
# --------------------------------------------------------------------------------------------
OUTCOME_MIX: tuple[tuple[str, float], ...] = (
    ("success", 0.70),
    ("access_denied", 0.08),
    ("user_manually_returned_to_application", 0.06),
    ("oem_cancelled_login", 0.04),
    ("vehicle_incompatible", 0.06),
    ("invalid_subscription", 0.02),
    ("no_vehicles", 0.02),
    ("configuration_error", 0.01),
    ("server_error", 0.01),
)
ERROR_CODES: tuple[str, ...] = tuple(code for code, _ in OUTCOME_MIX if code != "success")

# Also assumptions (synthetic knobs, not from any source).
P_ABANDON = 0.12  # launch never comes back
P_RELOAD = 0.04  # a redirect line is repeated seconds later (same state)
P_RETRY = 0.40  # a retryable error is followed by a new attempt that succeeds
RETRYABLE = frozenset(
    {
        "access_denied",
        "user_manually_returned_to_application",
        "oem_cancelled_login",
        "server_error",
        "no_vehicles",
        "invalid_subscription",
    }
)
P_NO_STATE = 0.015  # redirect without any state and without a launch (e.g. Dashboard link)
P_ORPHAN = 0.005  # redirect with a state whose launch is not in the file
SUCCESS_FLOWS = (("user_id", 0.80), ("code", 0.15), ("code+user_id", 0.05))
# Look-alike lines, as a share of all lines.
RATE_GOOGLE = 0.003
RATE_NOISE = {"code": 0.002, "error": 0.001, "user_id": 0.0005}

# error_description variants (texts as in the Smartcar docs and SDK tests; see the spec notes).
DESCRIPTIONS: dict[str, tuple[tuple[str, float], ...]] = {
    "access_denied": (
        ("User denied access to application.", 0.70),
        ("User denied access to application", 0.15),
        ("User denied access to the requested scope of permissions.", 0.15),
    ),
    "vehicle_incompatible": (
        ("The user\u2019s vehicle is not compatible.", 0.6),
        ("The user's vehicle is not compatible.", 0.4),
    ),
    "invalid_subscription": (
        ("User does not have an active connected vehicle subscription", 0.8),
        ("The user's subscription is invalid.", 0.2),
    ),
    "no_vehicles": (
        ("No vehicles found. Please add vehicles to your account and try again.", 0.8),
        ("User does not have any vehicles connected to this connected services account", 0.2),
    ),
    "configuration_error": (
        ("There has been an error in the configuration of your application.", 1.0),
    ),
    "server_error": (("Unexpected server error. Please try again.", 1.0),),
    "user_manually_returned_to_application": (
        ("The user exited Connect before granting your application access", 1.0),
    ),
    "oem_cancelled_login": (("The user did not complete authorization with the OEM", 1.0),),
}
CONFIG_ERROR_MESSAGES = (
    "You have entered a test mode VIN. Please enter a VIN that belongs to a real vehicle.",
    "The VIN provided is not valid.",  # synthetic wording
    "This VIN is not compatible with the requested permissions.",  # synthetic wording
)
P_OEM_MALFORMED = 0.25  # docs example puts the description in a bare key (no error_description=)

# Section 5 per-make model lists (general knowledge, no compatibility implied), plus a few
# makes outside that list, to give vehicle_incompatible something plausibly unsupported.
MODELS: dict[str, tuple[str, ...]] = {
    "TESLA": ("Model 3", "Model Y", "Model S", "Model X", "Cybertruck"),
    "FORD": ("Mustang Mach-E", "F-150 Lightning", "F-150", "Escape", "Explorer"),
    "CHEVROLET": ("Bolt EV", "Bolt EUV", "Equinox", "Silverado", "Tahoe"),
    "CADILLAC": ("Lyriq", "Escalade", "XT5"),
    "GMC": ("Sierra", "Yukon", "Hummer EV"),
    "BUICK": ("Enclave", "Encore GX"),
    "TOYOTA": ("RAV4", "Camry", "Corolla", "bZ4X", "Highlander", "Tacoma"),
    "LEXUS": ("RX", "NX", "ES"),
    "HONDA": ("Civic", "Accord", "CR-V"),
    "ACURA": ("MDX", "RDX"),
    "HYUNDAI": ("Ioniq 5", "Kona Electric", "Tucson"),
    "KIA": ("EV6", "Niro EV", "Sportage"),
    "NISSAN": ("LEAF", "Ariya", "Rogue"),
    "BMW": ("i4", "iX", "3 Series", "X5"),
    "MINI": ("Cooper SE", "Countryman"),
    "MERCEDES-BENZ": ("EQS", "EQE", "C-Class", "GLC"),
    "AUDI": ("e-tron", "Q4 e-tron", "A4", "Q5"),
    "VOLKSWAGEN": ("ID.4", "Golf", "Tiguan"),
    "VOLVO": ("XC40 Recharge", "XC60", "XC90"),
    "POLESTAR": ("Polestar 2",),
    "JEEP": ("Grand Cherokee 4xe", "Wrangler 4xe"),
    "RAM": ("1500",),
    "RENAULT": ("Zoe", "Megane E-Tech"),
    "PEUGEOT": ("e-208", "3008"),
    "SKODA": ("Enyaq",),
    "RIVIAN": ("R1T", "R1S"),
    # not in the section 5 list; general knowledge, used only for vehicle_incompatible
    "SUBARU": ("Outback", "Forester", "Solterra"),
    "MAZDA": ("CX-5", "MX-30", "Mazda3"),
    "MITSUBISHI": ("Outlander PHEV",),
    "FIAT": ("500e",),
}
# How the make may be spelt on the redirect (case and aliases vary).
MAKE_SPELLINGS: dict[str, tuple[str, ...]] = {
    "TESLA": ("TESLA", "Tesla", "tesla"),
    "VOLKSWAGEN": ("VOLKSWAGEN", "Volkswagen", "VW", "vw"),
    "MERCEDES-BENZ": ("MERCEDES-BENZ", "Mercedes-Benz", "mercedes benz", "Mercedes Benz", "Mercedes"),
    "CHEVROLET": ("CHEVROLET", "Chevrolet", "Chevy"),
    "BMW": ("BMW", "bmw"),
    "MINI": ("MINI", "Mini"),
    "GMC": ("GMC",),
    "RAM": ("RAM", "Ram"),
    "KIA": ("KIA", "Kia"),
}
# Weights for vehicle_incompatible: skewed (assumption) towards makes that plausibly are not
# supported; any make may appear.
INCOMPATIBLE_MAKE_WEIGHTS: dict[str, float] = {
    "RIVIAN": 6, "SUBARU": 6, "MAZDA": 6, "MITSUBISHI": 4, "FIAT": 3, "SKODA": 4, "PEUGEOT": 4,
    "RENAULT": 3, "HONDA": 3, "POLESTAR": 2, "TESLA": 2, "FORD": 2, "TOYOTA": 2, "VOLKSWAGEN": 2,
    "MERCEDES-BENZ": 2,
}
# World manufacturer identifiers (general knowledge) for plausible synthetic VINs.
WMI: dict[str, tuple[str, ...]] = {
    "TESLA": ("5YJ", "7SA"), "FORD": ("1FA", "1FT", "1FM"), "CHEVROLET": ("1G1", "1GN"),
    "CADILLAC": ("1GY",), "GMC": ("1GT", "1GK"), "BUICK": ("5GA", "KL4"), "TOYOTA": ("JTD", "4T1", "2T3"),
    "LEXUS": ("JTH", "2T2"), "HONDA": ("1HG", "2HK"), "ACURA": ("5J8",), "HYUNDAI": ("KMH", "5NM"),
    "KIA": ("KNA", "KND"), "NISSAN": ("1N4", "JN1"), "BMW": ("WBA", "5UX"), "MINI": ("WMW",),
    "MERCEDES-BENZ": ("WDD", "W1K"), "AUDI": ("WAU", "WA1"), "VOLKSWAGEN": ("WVW", "1V2"),
    "VOLVO": ("YV1", "YV4"), "POLESTAR": ("LPS", "YSM"), "JEEP": ("1C4",), "RAM": ("1C6", "3C6"),
    "RENAULT": ("VF1",), "PEUGEOT": ("VF3",), "SKODA": ("TMB",), "RIVIAN": ("7FC", "7PD"),
    "SUBARU": ("JF1", "4S4"), "MAZDA": ("JM1", "JM3"), "MITSUBISHI": ("JA4",), "FIAT": ("3C3", "ZFA"),
}
# Test-mode VINs from the Smartcar docs start with 0SC; the two below are quoted there.
DOC_TEST_VINS = ("0SCAUDI012FE3B132", "0SCAUDI0155C49A95", "0SCAUDI037A5ADB1C")

_TEST_VIN_MAKES = {"AUDI": "AUDI", "TSLA": "TESLA", "FORD": "FORD", "BMW0": "BMW"}
_VIN_CHARS = "0123456789ABCDEFGHJKLMNPRSTUVWXYZ"  # no I, O, Q
_VIN_VALUES = dict(zip("0123456789", range(10))) | {
    c: v
    for c, v in zip(
        "ABCDEFGHJKLMNPRSTUVWXYZ", (1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 7, 9, 2, 3, 4, 5, 6, 7, 8, 9)
    )
}
_VIN_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)
_YEAR_CODES = "ABCDEFGHJKLMNPRSTVWXY123456789"  # 2010..2039; 2001..2009 are digits


def _year_code(year: int) -> str:
    if 2001 <= year <= 2009:
        return str(year - 2000)
    return _YEAR_CODES[(year - 2010) % 30]


def _make_vin(rnd: random.Random, make: str, year: int) -> str:
    """A 17-char VIN with a plausible WMI, the model-year code and a valid check digit."""
    body = (
        rnd.choice(WMI[make])
        + "".join(rnd.choice(_VIN_CHARS) for _ in range(5))
        + "0"
        + _year_code(year)
        + rnd.choice("ABCDEFGHJKLMNPRSTUVWXYZ0123456789")
        + "".join(rnd.choice("0123456789") for _ in range(6))
    )
    total = sum(_VIN_VALUES[c] * w for c, w in zip(body, _VIN_WEIGHTS))
    check = "X" if total % 11 == 10 else str(total % 11)
    return body[:8] + check + body[9:]


# --------------------------------------------------------------------------------------------
# Requests and line formats
# --------------------------------------------------------------------------------------------


class Request(NamedTuple):
    """One access-log record before formatting."""

    ip: str
    method: str
    target: str  # path?query, already percent/form-encoded as sent
    proto: str  # "HTTP/1.1", "HTTP/2.0", "HTTP/1.0"
    status: int
    size: int
    referer: str  # "-" when absent
    ua: str  # "-" when absent


class LineFormat(NamedTuple):
    """``parts(req, host) -> (before_ts, after_ts)``; *clock* is a ``CLOCKS`` key or None."""

    parts: Callable[[Request, str | None], tuple[str, str]]
    clock: str | None


_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _tz_compact(minutes: int) -> str:
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}{abs(minutes) % 60:02d}"


def _tz_colon(minutes: int) -> str:
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


class Clock(NamedTuple):
    """How a format spells a timestamp: ``hour_prefix(local hour) + seconds[second of hour]``."""

    hour_prefix: Callable[[datetime], str]
    seconds: Callable[[int], list[str]]  # tz offset minutes -> 3600 "MM:SS..." strings


CLOCKS: dict[str, Clock] = {
    # 01/Oct/2026:07:00:01 +0200
    "clf": Clock(
        lambda h: f"{h.day:02d}/{_MONTHS[h.month - 1]}/{h.year:04d}:{h.hour:02d}:",
        lambda off: [f"{m:02d}:{s:02d} {_tz_compact(off)}" for m in range(60) for s in range(60)],
    ),
    # 2026-10-01T07:00:01+02:00 (for JSON-style formats)
    "iso": Clock(
        lambda h: f"{h.year:04d}-{h.month:02d}-{h.day:02d}T{h.hour:02d}:",
        lambda off: [f"{m:02d}:{s:02d}{_tz_colon(off)}" for m in range(60) for s in range(60)],
    ),
}


def _combined(r: Request, host: str | None) -> tuple[str, str]:
    return (
        f"{r.ip} - - [",
        f'] "{r.method} {r.target} {r.proto}" {r.status} {r.size} "{r.referer}" "{r.ua}"\n',
    )


def _common(r: Request, host: str | None) -> tuple[str, str]:
    return f"{r.ip} - - [", f'] "{r.method} {r.target} {r.proto}" {r.status} {r.size or "-"}\n'


def _vhost_combined(r: Request, host: str | None) -> tuple[str, str]:
    before, after = _combined(r, host)
    return f"{host or DEFAULT_HOST}:443 {before}", after


def _urls(r: Request, host: str | None) -> tuple[str, str]:
    return (f"https://{host}{r.target}\n" if host else f"{r.target}\n"), ""


FORMATS: dict[str, LineFormat] = {
    "combined": LineFormat(_combined, "clf"),
    "common": LineFormat(_common, "clf"),
    "vhost_combined": LineFormat(_vhost_combined, "clf"),
    "urls": LineFormat(_urls, None),
}

# --------------------------------------------------------------------------------------------
# Clients and the ordinary-traffic pool
# --------------------------------------------------------------------------------------------

BROWSER_UAS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/129.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/129.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:131.0) Gecko/20100101 Firefox/131.0",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/128.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/129.0.0.0 Safari/537.36 Edg/129.0.0.0",
    "Mozilla/5.0 (Linux; Android 13; SM-S911B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/128.0.0.0 Mobile Safari/537.36",
)
APP_UAS = ("ExampleApp/3.4.1 (iPhone; iOS 17.6; example.com)", "ExampleApp/3.4.0 (Android 14; example.com)", "okhttp/4.12.0")
BOT_UAS = (
    "Mozilla/5.0 (compatible; ExampleCrawler/2.1; +https://crawler.example.org/bot.html)",
    "Mozilla/5.0 (compatible; SearchBot/1.0; +https://search.example.org/bot)",
    "Mozilla/5.0 (compatible; SEOAuditBot/7.0; +https://seo.example.org/bot)",
)
MONITOR_UAS = ("kube-probe/1.30", "ELB-HealthChecker/2.0", "Uptime-Monitor/1.0 (+https://status.example.org)")
SCANNER_UAS = ("curl/8.5.0", "python-requests/2.32.3", "Go-http-client/1.1", "Mozilla/5.0 zgrab/0.x", "-")

PAGES = (
    "/", "/", "/", "/pricing", "/about", "/features", "/blog", "/docs", "/docs/getting-started",
    "/docs/vehicles", "/docs/api", "/dashboard", "/dashboard", "/vehicles", "/vehicles", "/vehicles/connect",
    "/settings", "/settings/vehicles", "/account", "/login", "/signup", "/help", "/status", "/privacy",
    "/terms", "/contact", "/trips", "/charging", "/auth/google",
)
BLOG_SLUGS = (
    "ev-charging-tips", "winter-range", "fleet-telematics-101", "release-notes-3-4", "battery-health",
    "road-trip-planner", "home-charging-costs", "odometer-reports",
)
ASSETS = (
    ("/static/app.3f9a1c.js", 245_812), ("/static/vendor.91be0d.js", 611_204), ("/static/app.7d2e44.css", 48_310),
    ("/favicon.ico", 15_086), ("/static/img/logo.svg", 3_412), ("/static/img/hero.jpg", 184_233),
    ("/static/img/car-placeholder.png", 22_871), ("/static/fonts/inter-var.woff2", 98_112),
    ("/apple-touch-icon.png", 7_920), ("/static/img/icons/battery.svg", 1_204), ("/manifest.json", 612),
)
SCAN_PATHS = (
    "/wp-login.php", "/.env", "/.git/config", "/phpmyadmin/", "/xmlrpc.php", "/admin.php", "/wp-admin/setup-config.php",
    "/vendor/phpunit/phpunit/src/Util/PHP/eval-stdin.php", "/cgi-bin/luci", "/.aws/credentials", "/server-status",
    "/actuator/env", "/boaform/admin/formLogin", "/config.json", "/backup.zip",
)


def _doc_ip(rnd: random.Random) -> str:
    if rnd.random() < 0.1:
        return f"2001:db8:{rnd.randrange(1, 0xFFFF):x}::{rnd.randrange(1, 0xFFFF):x}"
    return f"{rnd.choice(('192.0.2', '198.51.100', '203.0.113'))}.{rnd.randrange(1, 255)}"


class _Client(NamedTuple):
    ip: str
    ua: str
    proto: str


def _clients(rnd: random.Random, n: int, uas: tuple[str, ...], protos: tuple[str, ...], ip=_doc_ip) -> list[_Client]:
    return [_Client(ip(rnd), rnd.choice(uas), rnd.choice(protos)) for _ in range(n)]


def _short_id(rnd: random.Random) -> str:
    return f"{rnd.getrandbits(32):08x}"


def _build_pool(rnd: random.Random, site: str, exclude_paths: set[str], size: int) -> list[Request]:
    """Ordinary requests, weighted by repetition so a uniform pick gives the intended mix."""
    browsers = _clients(rnd, 400, BROWSER_UAS, ("HTTP/1.1", "HTTP/2.0", "HTTP/2.0"))
    apps = _clients(rnd, 60, APP_UAS, ("HTTP/1.1", "HTTP/2.0"))
    bots = _clients(rnd, 20, BOT_UAS, ("HTTP/1.1",))
    monitors = _clients(rnd, 6, MONITOR_UAS, ("HTTP/1.1",), ip=lambda r: f"10.0.{r.randrange(0, 4)}.{r.randrange(2, 250)}")
    scanners = _clients(rnd, 30, SCANNER_UAS, ("HTTP/1.1", "HTTP/1.0"))
    home = f"https://{site}"
    ext_refs = ("-", "https://search.example.org/", "https://news.example.net/item?id=4411", "https://www.example.org/links")

    def page(r: random.Random) -> str:
        x = r.random()
        if x < 0.12:
            return f"/blog/{r.choice(BLOG_SLUGS)}"
        if x < 0.17:
            return f"/vehicles/{_short_id(r)}" + r.choice(("", "", "/trips", "/charging"))
        if x < 0.20:
            return r.choice(("/?utm_source=newsletter&utm_medium=email", "/blog?page=2", "/pricing?plan=fleet",
                             f"/search?q={r.choice(('range', 'charging', 'tesla+model+3', 'odometer'))}"))
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
            method, path = r.choice((
                ("GET", "/api/v1/me"), ("GET", "/api/v1/vehicles"), ("GET", f"/api/v1/vehicles/{vid}"),
                ("GET", f"/api/v1/vehicles/{vid}/battery"), ("GET", f"/api/v1/vehicles/{vid}/location"),
                ("GET", f"/api/v1/vehicles/{vid}/odometer"), ("GET", "/api/v1/trips?limit=20"),
                ("GET", f"/api/v1/trips?limit=20&cursor={_short_id(r)}"), ("POST", "/api/v1/events"),
                ("POST", f"/api/v1/vehicles/{vid}/lock"), ("POST", f"/api/v1/vehicles/{vid}/charge/start"),
                ("PUT", "/api/v1/me/preferences"), ("PATCH", f"/api/v1/vehicles/{vid}"),
                ("DELETE", f"/api/v1/vehicles/{vid}"), ("GET", "/api/v1/notifications?unread=true"),
            ))
            y = r.random()
            if y < 0.80:
                status = 204 if method == "DELETE" or path.endswith("/events") else (201 if method == "POST" else 200)
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
            return Request(c.ip, "GET", r.choice(("/healthz", "/readyz", "/health")), c.proto, 200, r.choice((2, 15)), "-", c.ua)
        if x < 0.90:  # crawlers
            c = r.choice(bots)
            p = r.choice(("/robots.txt", "/sitemap.xml", page(r), page(r), f"/blog/{r.choice(BLOG_SLUGS)}"))
            status = 404 if r.random() < 0.05 else (301 if p == "/blog" and r.random() < 0.3 else 200)
            return Request(c.ip, "GET", p, c.proto, status, r.randrange(200, 40_000), "-", c.ua)
        if x < 0.93:  # scanners: 404s and friends
            c = r.choice(scanners)
            method = "POST" if r.random() < 0.15 else "GET"
            status = r.choice((404, 404, 404, 404, 403, 400))
            return Request(c.ip, method, r.choice(SCAN_PATHS), c.proto, status, r.randrange(150, 600), "-", c.ua)
        if x < 0.95:  # HEAD
            c = r.choice(scanners + monitors)
            return Request(c.ip, "HEAD", r.choice(("/", "/pricing", "/static/app.3f9a1c.js", "/favicon.ico")), c.proto, 200, 0, "-", c.ua)
        # form posts
        c = r.choice(browsers)
        method, path, status = r.choice((
            ("POST", "/login", 302), ("POST", "/login", 200), ("POST", "/signup", 302),
            ("POST", "/contact", 303), ("POST", "/logout", 302), ("POST", "/settings", 302),
        ))
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


# --------------------------------------------------------------------------------------------
# Connect attempts and look-alikes
#
# Two phases keep memory small for 10M-line files: *planning* decides every special line's
# time and role as one packed int per line (``T << 35 | id << 3 | role``), so the exact number
# of special lines is known before any ordinary line is placed; *rendering* builds each
# special line's text only when its hour is written.
# --------------------------------------------------------------------------------------------

_LAUNCH, _REDIRECT, _RELOAD, _GOOGLE, _NOISE_CODE, _NOISE_ERROR, _NOISE_USER_ID = range(7)
_NOISE_KEYS = {_NOISE_CODE: "code", _NOISE_ERROR: "error", _NOISE_USER_ID: "user_id"}
_MODE_LAUNCHED, _MODE_NO_STATE, _MODE_ORPHAN = range(3)
_ID_BITS = 32
_T_SHIFT = _ID_BITS + 3
_ID_MASK = (1 << _ID_BITS) - 1
_OUTCOMES = tuple(code for code, _ in OUTCOME_MIX)
_OUTCOME_INDEX = {code: i for i, code in enumerate(_OUTCOMES)}
_RETRYABLE_IDX = frozenset(_OUTCOME_INDEX[c] for c in RETRYABLE)


class _Picker:
    """Weighted choice by bisection over cumulative weights."""

    __slots__ = ("values", "cum", "total")

    def __init__(self, weighted) -> None:
        self.values = [v for v, _ in weighted]
        self.cum = list(accumulate(w for _, w in weighted))
        self.total = self.cum[-1]

    def __call__(self, rnd: Callable[[], float]):
        return self.values[min(bisect_right(self.cum, rnd() * self.total), len(self.values) - 1)]


_OUTCOME_PICK = _Picker([(i, w) for i, (_, w) in enumerate(OUTCOME_MIX)])
_FLOW_PICK = _Picker(SUCCESS_FLOWS)
_DESC_PICK = {code: _Picker(variants) for code, variants in DESCRIPTIONS.items()}


@lru_cache(maxsize=None)
def _enc(text: str, plus: bool) -> str:
    """Form encoding (``+`` for space, like the docs) or percent encoding (``%20``, like the SDKs)."""
    return quote_plus(text, safe="") if plus else quote(text, safe="")


def _uuid4(rnd: random.Random) -> str:
    h = f"{rnd.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-{h[20:]}"


_TOKEN_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def _token(rnd: random.Random, n: int) -> str:
    bits = rnd.getrandbits(6 * n)
    return "".join(_TOKEN_ALPHABET[(bits >> (6 * i)) & 63] for i in range(n))


def _state_of(attempt_id: int, key: int) -> str:
    """10 hex chars, unique per attempt: a keyed bijection on 40 bits (no collision set needed)."""
    x = (attempt_id * 0x9E3779B97F + key) & 0xFFFFFFFFFF
    x ^= x >> 17
    x = (x * 0xD6E8FEB86B) & 0xFFFFFFFFFF  # odd multiplier: bijective mod 2**40
    x ^= x >> 19
    return f"{x:010x}"


class _Vehicle(NamedTuple):
    make: str
    model: str
    year: int
    vin: str


def _vehicle_pool(rnd: random.Random, n: int = 240) -> list[_Vehicle]:
    makes = list(MODELS)
    weights = [INCOMPATIBLE_MAKE_WEIGHTS.get(m, 1.0) for m in makes]
    out = []
    for _ in range(n):
        make = rnd.choices(makes, weights)[0]
        # older cars are more plausibly incompatible (assumption): skewed towards 2008-2018
        year = 2008 + int(18.999 * rnd.random() ** 1.6)
        out.append(_Vehicle(make, rnd.choice(MODELS[make]), year, _make_vin(rnd, make, year)))
    return out


def _spelling(rnd: random.Random, make: str) -> str:
    if make in MAKE_SPELLINGS:
        return rnd.choice(MAKE_SPELLINGS[make])
    return rnd.choice((make, make, make.title()))


def _expected_redirects_per_attempt() -> float:
    p_retry = sum(w for c, w in OUTCOME_MIX if c in RETRYABLE) * P_RETRY
    standalone = (P_NO_STATE + P_ORPHAN) * (1 + P_RELOAD)
    launched = (1 - P_NO_STATE - P_ORPHAN) * (1 - P_ABANDON) * (1 + P_RELOAD) * (1 + p_retry)
    return standalone + launched


def _expected_lines_per_attempt() -> float:
    p_retry = sum(w for c, w in OUTCOME_MIX if c in RETRYABLE) * P_RETRY
    launches = (1 - P_NO_STATE - P_ORPHAN) * (1 + (1 - P_ABANDON) * p_retry)
    return launches + _expected_redirects_per_attempt()


class _Specials:
    """Plans, then renders, every non-pooled line; keeps the ground-truth counters."""

    def __init__(self, rng, site, redirect_path, launch_path, t_hi, sample_time) -> None:
        self.rng = rng
        self.rnd = rng.random
        self.site = site
        self.redirect_path = redirect_path
        self.launch_path = launch_path
        self.t_hi = t_hi
        self.sample_time = sample_time
        self.users = _clients(rng, 300, BROWSER_UAS, ("HTTP/1.1", "HTTP/2.0", "HTTP/2.0"))
        self.vehicles = _vehicle_pool(rng)
        self.state_key = rng.getrandbits(40)
        # per attempt: user index, mode, outcome index (255 = none yet), retry flag
        self.a_user = array("H")
        self.a_mode = bytearray()
        self.a_outcome = bytearray()
        self.a_retry = bytearray()
        self.a_reload = bytearray()
        self.events = array("Q")  # packed: T << _T_SHIFT | id << 3 | role
        self.n_look = 0
        self.pending_reload: dict[int, tuple[Request, tuple]] = {}  # only attempts with a reload
        self.c = {
            "redirects": 0, "reloads": 0, "launches": 0, "retries": 0, "matched": 0, "orphans": 0,
            "no_state": 0, "vehicle_info": 0, "test_vins": 0, "google_callbacks": 0, "google_errors": 0,
        }
        self.by_outcome = dict.fromkeys(_OUTCOMES, 0)
        self.by_outcome_unique = dict.fromkeys(_OUTCOMES, 0)
        self.by_flow = {"user_id": 0, "code": 0, "code+user_id": 0}
        self.by_status: dict[int, int] = {}
        self.noise = {"code": 0, "error": 0, "user_id": 0}

    # -- planning -----------------------------------------------------------------------------
    def _event(self, t: int, ident: int, role: int) -> None:
        self.events.append((t << _T_SHIFT) | (ident << 3) | role)

    def _new_attempt(self, mode: int, outcome: int, retry: bool, user: int) -> int:
        self.a_user.append(user)
        self.a_mode.append(mode)
        self.a_outcome.append(outcome)
        self.a_retry.append(retry)
        self.a_reload.append(0)
        return len(self.a_mode) - 1

    def _plan_redirect(self, t: int, aid: int) -> bool:
        if t >= self.t_hi:
            return False
        self._event(t, aid, _REDIRECT)
        if self.rnd() < P_RELOAD:
            t2 = t + 1 + int(self.rnd() * 25)
            if t2 < self.t_hi:
                self._event(t2, aid, _RELOAD)
                self.a_reload[aid] = 1
        return True

    def _delay(self) -> int:
        # time spent in Connect: median ~70 s, clamped to 8 s .. 30 min (assumption)
        return int(min(1800, max(8, self.rng.lognormvariate(4.25, 0.8))))

    def plan_attempt(self) -> None:
        rnd = self.rnd
        t = self.sample_time()
        user = int(rnd() * len(self.users))
        x = rnd()
        if x < P_NO_STATE + P_ORPHAN:
            mode = _MODE_NO_STATE if x < P_NO_STATE else _MODE_ORPHAN
            self._plan_redirect(t, self._new_attempt(mode, _OUTCOME_PICK(rnd), False, user))
            return
        aid = self._new_attempt(_MODE_LAUNCHED, 255, False, user)
        self._event(t, aid, _LAUNCH)
        if rnd() < P_ABANDON:
            return
        outcome = _OUTCOME_PICK(rnd)
        self.a_outcome[aid] = outcome
        t_back = t + self._delay()
        if not self._plan_redirect(t_back, aid):
            self.a_outcome[aid] = 255  # came back after the end of the file: abandoned here
            return
        if outcome in _RETRYABLE_IDX and rnd() < P_RETRY:
            t_retry = t_back + 10 + int(rnd() * 290)
            if t_retry < self.t_hi:
                aid2 = self._new_attempt(_MODE_LAUNCHED, _OUTCOME_INDEX["success"], True, user)
                self._event(t_retry, aid2, _LAUNCH)
                if not self._plan_redirect(t_retry + self._delay(), aid2):
                    self.a_outcome[aid2] = 255

    def plan_lookalike(self, role: int) -> None:
        self._event(self.sample_time(), self.n_look, role)
        self.n_look += 1

    # -- rendering ----------------------------------------------------------------------------
    def render(self, ev: int) -> Request:
        role = ev & 7
        ident = (ev >> 3) & _ID_MASK
        if role == _LAUNCH:
            return self._launch(ident)
        if role == _REDIRECT:
            return self._redirect(ident)
        if role == _RELOAD:
            req, meta = self.pending_reload.pop(ident)
            self._count_redirect(ident, req, meta, reload=True)
            return req
        if role == _GOOGLE:
            return self._google()
        return self._noise(_NOISE_KEYS[role])

    def _launch(self, aid: int) -> Request:
        user = self.users[self.a_user[aid]]
        state = _state_of(aid, self.state_key)
        ref = f"https://{self.site}" + ("/vehicles/connect", "/settings/vehicles", "/dashboard")[int(self.rnd() * 3)]
        self.c["launches"] += 1
        self.c["retries"] += self.a_retry[aid]
        return Request(user.ip, "GET", f"{self.launch_path}?state={state}", user.proto, 302, 154, ref, user.ua)

    def _redirect(self, aid: int) -> Request:
        rnd = self.rnd
        user = self.users[self.a_user[aid]]
        mode = self.a_mode[aid]
        state = None if mode == _MODE_NO_STATE else _state_of(aid, self.state_key)
        query, meta = self._redirect_query(_OUTCOMES[self.a_outcome[aid]], state)
        status, size = (302, 154) if rnd() < 0.8 else (200, 2_000 + int(rnd() * 7_000))
        ref = "https://connect.smartcar.com/" if rnd() < 0.6 else "-"
        req = Request(user.ip, "GET", f"{self.redirect_path}?{query}", user.proto, status, size, ref, user.ua)
        if self.a_reload[aid]:
            self.pending_reload[aid] = (req, meta)
        self._count_redirect(aid, req, meta, reload=False)
        return req

    def _count_redirect(self, aid: int, req: Request, meta: tuple, reload: bool) -> None:
        c = self.c
        outcome = _OUTCOMES[self.a_outcome[aid]]
        c["redirects"] += 1
        self.by_outcome[outcome] += 1
        self.by_status[req.status] = self.by_status.get(req.status, 0) + 1
        flow, vehicle_info, test_vin = meta
        if flow:
            self.by_flow[flow] += 1
        c["vehicle_info"] += vehicle_info
        c["test_vins"] += test_vin
        if reload:
            c["reloads"] += 1
            return
        self.by_outcome_unique[outcome] += 1
        mode = self.a_mode[aid]
        if mode == _MODE_LAUNCHED:
            c["matched"] += 1
        elif mode == _MODE_ORPHAN:
            c["orphans"] += 1
        else:
            c["no_state"] += 1

    def _redirect_query(self, outcome: str, state: str | None) -> tuple[str, tuple]:
        """The query string, and (flow, has vehicle info, has a test VIN) for the counters."""
        r = self.rng
        rnd = self.rnd
        plus = rnd() < 0.6  # form encoding (+) like the docs, else %20 like the SDK tests
        params: list[str] = []
        flow = None
        vehicle_info = test_vin = False
        if outcome == "success":
            flow = _FLOW_PICK(rnd)
            if flow == "user_id":
                params.append(f"user_id={_uuid4(r)}")
            elif flow == "code":
                params.append(f"code={_uuid4(r)}")
            else:
                params += [f"code={_uuid4(r)}", f"user_id={_uuid4(r)}"]
            if flow != "user_id" and rnd() < 0.08:  # Tesla virtual key link, sent with the code
                params.append("virtual_key_url=" + _enc("https://www.tesla.com/_ak/smartcar.com", False))
        else:
            params.append(f"error={outcome}")
            if outcome == "oem_cancelled_login" and rnd() < P_OEM_MALFORMED:
                # as in the docs example: the description in a bare key, no error_description=
                params.append(_enc("the user did not complete authorization with the OEM", False))
            else:
                params.append("error_description=" + _enc(_DESC_PICK[outcome](rnd), plus))
            if outcome == "vehicle_incompatible":
                y = rnd()
                if y >= 0.45:  # the user chose to share vehicle details
                    vehicle_info = True
                    v = self.vehicles[int(rnd() * len(self.vehicles))]
                    vin = v.vin
                    if rnd() < 0.12:
                        test_vin = True
                        vin = r.choice(DOC_TEST_VINS) if rnd() < 0.5 else (
                            "0SC" + r.choice(("AUDI", "TSLA", "FORD", "BMW0")) + f"{r.getrandbits(40):010X}")
                    make = _enc(_spelling(r, _TEST_VIN_MAKES.get(vin[3:7], v.make) if test_vin else v.make), plus)
                    model = _enc(v.model, plus)
                    if y < 0.70:  # vin + make (iOS/Android style)
                        params += [f"vin={vin}", f"make={make}"]
                    elif y < 0.90:  # all four
                        params += [f"vin={vin}", f"make={make}", f"model={model}", f"year={v.year}"]
                    else:  # make/model/year without a VIN (JS SDK test style)
                        params += [f"make={make}", f"model={model}", f"year={v.year}"]
                        test_vin = False
            elif outcome == "configuration_error":
                msg = CONFIG_ERROR_MESSAGES[int(rnd() * len(CONFIG_ERROR_MESSAGES))]
                params += ["status_code=400", "error_message=" + _enc(msg, plus)]
        if state is not None:
            params.append(f"state={state}")
        return "&".join(params), (flow, vehicle_info, test_vin)

    def _google(self) -> Request:
        r = self.rng
        user = self.users[int(self.rnd() * len(self.users))]
        state = _token(r, 30)
        self.c["google_callbacks"] += 1
        if self.rnd() < 0.08:
            query = f"error=access_denied&state={state}"
            self.c["google_errors"] += 1
        else:
            scope = (
                "email%20profile"
                if self.rnd() < 0.7
                else "email+profile+openid+https://www.googleapis.com/auth/userinfo.email"
                "+https://www.googleapis.com/auth/userinfo.profile"
            )
            query = f"code=4/0AX4Xf{_token(r, 64)}&state={state}&scope={scope}"
            if self.rnd() < 0.5:
                query += "&authuser=0&prompt=none"
        return Request(user.ip, "GET", f"{GOOGLE_CALLBACK_PATH}?{query}", user.proto, 302, 154,
                       "https://accounts.google.com/", user.ua)

    def _noise(self, key: str) -> Request:
        r = self.rng
        user = self.users[int(self.rnd() * len(self.users))]
        if key == "code":
            target = r.choice((
                f"/promo?code=FALL{r.randrange(10, 99)}",
                f"/invite?code={_token(r, 8)}",
                f"/verify-email?code={r.randrange(100000, 999999)}&email=user{r.randrange(1000)}%40example.com",
                f"/api/v1/coupons/apply?code=SAVE{r.randrange(5, 30)}",
                f"/oauth/github/callback?code={r.getrandbits(80):020x}",
            ))
        elif key == "error":
            target = r.choice(("/login?error=invalid_credentials", "/checkout?error=card_declined",
                               "/signup?error=email_taken", "/settings?error=session_expired"))
        else:
            target = r.choice((f"/admin/users?user_id={_uuid4(r)}", f"/api/v1/profile?user_id={_uuid4(r)}"))
        self.noise[key] += 1
        status = 302 if target.startswith("/oauth") else 200
        return Request(user.ip, "GET", target, user.proto, status, 500 + int(self.rnd() * 19_500),
                       f"https://{self.site}/", user.ua)


# --------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------

# Daily rhythm (local hour -> relative traffic), synthetic.
HOURLY = (0.30, 0.22, 0.18, 0.16, 0.17, 0.25, 0.45, 0.75, 1.00, 1.15, 1.20, 1.20,
          1.15, 1.15, 1.20, 1.20, 1.15, 1.10, 1.10, 1.15, 1.10, 0.90, 0.65, 0.45)
WEEKEND_FACTOR = 0.8
POOL_BITS = 13  # up to 8192 distinct ordinary requests
_POOL = 1 << POOL_BITS  # key ids >= _POOL are the hour's special lines
_SHIFT = 32
_MASK = (1 << _SHIFT) - 1
_BATCH = 1 << 17


def _parse_start(start: datetime | str, tz: timezone) -> datetime:
    dt = datetime.fromisoformat(start) if isinstance(start, str) else start
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=tz)  # naive means local time at the given offset
    return dt.astimezone(tz).replace(microsecond=0)


def generate(
    out: BinaryIO,
    *,
    lines: int,
    redirect_share: float = 0.03,
    seed: int = 0,
    start: datetime | str = "2026-10-01T00:00:00+00:00",
    days: int = 28,
    fmt: str = "combined",
    redirect_path: str = "/smartcar/callback",
    launch_path: str = "/connect/smartcar",
    tz_offset_minutes: int = 0,
    host: str | None = None,
) -> dict:
    """Write exactly *lines* SYNTHETIC access-log lines (bytes, each ending in ``\\n``) to *out*.

    Deterministic for a given seed and arguments.  Timestamps never go backwards; they run from
    *start* (naive means local time) over *days* days with a daily rhythm, written at UTC offset
    *tz_offset_minutes*.  *redirect_share* is the approximate share of lines that are Connect
    redirects.  *host* is the site name: the ``vhost_combined`` prefix (default ``example.com``),
    internal referers, and in the ``urls`` format it turns targets into ``https://{host}/...``.

    Returns the ground truth (every count is of lines actually written):

    ``lines``; ``ordinary`` (pooled lines); ``redirects`` (lines whose path is *redirect_path*,
    reloads included); ``reloads``; ``redirects_unique`` (= redirects - reloads); ``launches``
    (lines whose path is *launch_path*); ``retries`` (launches that retry after an error);
    ``matched`` (non-reload redirects whose launch is in the file; each launch has at most one);
    ``abandoned`` (= launches - matched: no redirect came back); ``orphans`` (state but no
    launch); ``no_state``; ``by_outcome`` / ``by_outcome_unique`` ({"success": n, <each error
    code>: n}, over redirect lines / without reloads); ``by_flow`` (success lines: user_id / code
    / code+user_id); ``by_status`` (redirect lines by HTTP status); ``vehicle_info`` and
    ``test_vins`` (vehicle_incompatible lines with vehicle params / a 0SC test VIN);
    ``google_callbacks`` (``google_errors`` of them carry ``error=``); ``noise`` ({"code",
    "error", "user_id"}: look-alike query keys on other paths); ``first_ts`` / ``last_ts``
    (ISO 8601 at the given offset, None without lines); and the arguments used.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; choose from {', '.join(sorted(FORMATS))}")
    if lines < 0:
        raise ValueError("lines must be >= 0")
    if not 0.0 <= redirect_share <= 1.0:
        raise ValueError("redirect_share must be between 0 and 1")
    if days <= 0:
        raise ValueError("days must be > 0")
    if redirect_path == launch_path:
        raise ValueError("redirect_path and launch_path must differ")
    line_format = FORMATS[fmt]
    tz = timezone(timedelta(minutes=tz_offset_minutes))
    t0 = _parse_start(start, tz)
    site = host or DEFAULT_HOST
    rng = random.Random(seed)
    rnd = rng.random

    # Time axis: "aligned" seconds T counted from the local hour containing start; bucket b is
    # local hour b, valid seconds [lo, hi) within it.
    off0 = t0.minute * 60 + t0.second
    hour0 = t0.replace(minute=0, second=0)
    span = max(1, int(round(days * 86400)))
    t_lo, t_hi = off0, off0 + span
    n_buckets = (t_hi + 3599) // 3600
    bounds = [(max(t_lo - b * 3600, 0), min(t_hi - b * 3600, 3600)) for b in range(n_buckets)]
    weights = []
    for b, (lo, hi) in enumerate(bounds):
        h = hour0 + timedelta(hours=b)
        w = HOURLY[h.hour] * (WEEKEND_FACTOR if h.weekday() >= 5 else 1.0) * rng.uniform(0.85, 1.15)
        weights.append(w * (hi - lo) / 3600)
    cum = list(accumulate(weights))
    total_w = cum[-1]

    def sample_time() -> int:
        b = min(bisect_right(cum, rnd() * total_w), n_buckets - 1)
        lo, hi = bounds[b]
        return b * 3600 + lo + int(rnd() * (hi - lo))

    # Phase 1: plan the special lines.
    sp = _Specials(rng, site, redirect_path, launch_path, t_hi, sample_time)
    n_google = round(lines * RATE_GOOGLE) if GOOGLE_CALLBACK_PATH not in (redirect_path, launch_path) else 0
    n_noise = {role: round(lines * RATE_NOISE[key]) for role, key in _NOISE_KEYS.items()}
    budget = max(0, lines - n_google - sum(n_noise.values()))
    n_attempts = round(lines * redirect_share / _expected_redirects_per_attempt())
    n_attempts = min(n_attempts, int(budget / _expected_lines_per_attempt()))
    for _ in range(n_attempts):
        sp.plan_attempt()
    for _ in range(n_google):
        sp.plan_lookalike(_GOOGLE)
    for role, n in n_noise.items():
        for _ in range(n):
            sp.plan_lookalike(role)
    events = sorted(sp.events)
    del sp.events
    if len(events) > lines:
        del events[lines:]
    n_ordinary = lines - len(events)

    # Ordinary lines per hour: largest-remainder allocation proportional to the weights.
    raw = [n_ordinary * w / total_w for w in weights]
    alloc = [int(x) for x in raw]
    short = n_ordinary - sum(alloc)
    for b in sorted(range(n_buckets), key=lambda b: raw[b] - alloc[b], reverse=True)[:short]:
        alloc[b] += 1

    parts_fn = line_format.parts

    def encoded_parts(req: Request) -> tuple[bytes, bytes]:
        a, c = parts_fn(req, host)
        return a.encode(), c.encode()

    # a smaller pool for small files (tests): it is a power of two so getrandbits picks uniformly
    pool_bits = min(POOL_BITS, max(6, n_ordinary.bit_length()))
    pool = _build_pool(rng, site, {redirect_path, launch_path}, 1 << pool_bits) if n_ordinary else []
    pool_parts = [encoded_parts(req) for req in pool]
    clock = CLOCKS[line_format.clock] if line_format.clock else None
    sec_table = [s.encode() for s in clock.seconds(tz_offset_minutes)] if clock else None

    # Phase 2: write hour by hour, merging pooled lines with the rendered special lines.
    write = out.write
    buf: list[bytes] = []
    extend = buf.extend
    append = buf.append
    getbits = rng.getrandbits
    ev_i, n_ev = 0, len(events)
    first_T = last_T = None
    for b in range(n_buckets):
        lo, hi = bounds[b]
        width = hi - lo
        keys = [((lo + int(rnd() * width)) << _SHIFT) | getbits(pool_bits) for _ in range(alloc[b])]
        hour_sp: list[tuple[bytes, bytes]] = []
        base = b * 3600
        end_t = base + 3600
        while ev_i < n_ev and (events[ev_i] >> _T_SHIFT) < end_t:
            ev = events[ev_i]
            ev_i += 1
            keys.append((((ev >> _T_SHIFT) - base) << _SHIFT) | (_POOL + len(hour_sp)))
            hour_sp.append(encoded_parts(sp.render(ev)))
        if not keys:
            continue
        keys.sort()
        if first_T is None:
            first_T = base + (keys[0] >> _SHIFT)
        last_T = base + (keys[-1] >> _SHIFT)
        if clock is not None:
            hp = clock.hour_prefix(hour0 + timedelta(hours=b)).encode()
            for key in keys:
                i = key & _MASK
                a, c = pool_parts[i] if i < _POOL else hour_sp[i - _POOL]
                extend((a, hp, sec_table[key >> _SHIFT], c))
        else:
            for key in keys:
                i = key & _MASK
                append(pool_parts[i][0] if i < _POOL else hour_sp[i - _POOL][0])
        if len(buf) >= _BATCH:
            write(b"".join(buf))
            buf.clear()
    if buf:
        write(b"".join(buf))

    def iso(T: int | None) -> str | None:
        return None if T is None else (hour0 + timedelta(seconds=T)).isoformat()

    c = sp.c
    return {
        "lines": lines,
        "ordinary": n_ordinary,
        "redirects": c["redirects"],
        "reloads": c["reloads"],
        "redirects_unique": c["redirects"] - c["reloads"],
        "launches": c["launches"],
        "retries": c["retries"],
        "matched": c["matched"],
        "abandoned": c["launches"] - c["matched"],
        "orphans": c["orphans"],
        "no_state": c["no_state"],
        "by_outcome": sp.by_outcome,
        "by_outcome_unique": sp.by_outcome_unique,
        "by_flow": sp.by_flow,
        "by_status": dict(sorted(sp.by_status.items())),
        "vehicle_info": c["vehicle_info"],
        "test_vins": c["test_vins"],
        "google_callbacks": c["google_callbacks"],
        "google_errors": c["google_errors"],
        "noise": sp.noise,
        "first_ts": iso(first_T),
        "last_ts": iso(last_T),
        "seed": seed,
        "fmt": fmt,
        "start": t0.isoformat(),
        "days": days,
        "redirect_share": redirect_share,
        "redirect_path": redirect_path,
        "launch_path": launch_path,
        "tz_offset_minutes": tz_offset_minutes,
        "host": host,
    }


def generate_file(path: str | os.PathLike, **kwargs) -> dict:
    """:func:`generate` into *path*; gzip when it ends in ``.gz`` (reproducible bytes: mtime 0)."""
    path = os.fspath(path)
    with open(path, "wb") as raw:
        if path.endswith(".gz"):
            name = os.path.basename(path)[:-3]
            with gzip.GzipFile(filename=name, mode="wb", fileobj=raw, mtime=0, compresslevel=6) as gz:
                return generate(gz, **kwargs)
        return generate(raw, **kwargs)
