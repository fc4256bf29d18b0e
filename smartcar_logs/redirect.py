"""Turn one Smartcar Connect redirect URL into a flat, analysable record.

Connect sends the user back to the app's ``REDIRECT_URI`` with the outcome in the query
string (``user_id``/``code`` on success, ``error``/``error_description`` on failure, and
optionally ``vin``/``make``/``model``/``year`` on ``vehicle_incompatible``).  Web-server logs
keep that query verbatim, so this module is the single place that knows how to read it.
It is pure (no I/O, no globals that change) so the importer, the generator's round-trip tests
and notebooks all agree on one interpretation.

Design choices, and why:

* **Never raise.** Log lines are hostile input: truncated escapes, raw high bytes, ``%ZZ``.
  Anything odd becomes a *flag* on the record instead of an exception, because one bad line
  must not abort a multi-gigabyte import.
* **Bytes first.** The query is split and percent-decoded as bytes and only then decoded as
  UTF-8 with ``errors="replace"``; decoding text first would mangle multi-byte ``%XX`` runs.
* **Form encoding.** Smartcar's own examples mix ``+`` and ``%20``, so values are decoded as
  ``application/x-www-form-urlencoded`` (``+`` -> space, then ``%XX``).  ``%2520`` is flagged
  ``double_encoded`` but decoded only once: decoding twice would change legitimate values.
* **The authorization code is a credential.** Its value is never copied into the record; only
  ``has_code`` says whether one was present.
* **Blank means absent.** A string field is ``None`` when its key is missing *or* its value is
  blank after stripping, so SQL ``IS NULL`` answers "was anything usable sent?".  Non-blank
  values are kept verbatim (apart from the normalisations documented per field).
* **Classification mirrors the SDKs.** ``error`` wins over ``code``/``user_id`` (the iOS and JS
  SDKs do the same); error codes are matched case-insensitively.

Makes and VINs are read by :mod:`smartcar_logs.vehicle`, the form encoding of the query by
:mod:`smartcar_logs.query`.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from urllib.parse import unquote

from .query import as_bytes, is_uuid, parse_query
from .vehicle import canonical_make, vin_check_digit, vin_details

__all__ = [
    "parse_query",
    "normalize",
    "state_of",
    "js_sdk_state",
    "normalize_row",
    "row_values",
    "canonical_make",
    "vin_details",
    "vin_check_digit",
    "is_uuid",
    "ERROR_CODES",
    "GENERIC_OAUTH_ERRORS",
    "CATEGORIES",
    "FIELDS",
    "FLAGS",
    "UNKNOWN",
    "NO_MAKE",
    "NO_MODEL",
    "vehicle_label",
]

#: Every Connect error code we know -> chart category.  Order is the docs' order.
ERROR_CODES: dict[str, str] = {
    "access_denied": "denied",
    "vehicle_incompatible": "incompatible",
    "invalid_subscription": "account",
    "no_vehicles": "account",
    "configuration_error": "system",
    "server_error": "system",
    "user_manually_returned_to_application": "exited",
    "oem_cancelled_login": "exited",
    "user_cancelled": "exited",
}

#: Codes that any OAuth 2.0 provider may send (RFC 6749 4.1.2.1), so they do not identify Smartcar.
GENERIC_OAUTH_ERRORS = frozenset({"access_denied", "server_error"})

#: Chart order: the happy path first, then failures from "user said no" to "something broke".
CATEGORIES = ("success", "denied", "exited", "incompatible", "account", "system", "other", "empty")

#: How a missing make or model is labelled wherever vehicles are counted (CLI summary, analysis).
UNKNOWN = "(unknown)"

#: What a reader sees for a missing make or model: one wording in the CLI, the report, the
#: charts and the notebooks (the data itself carries :data:`UNKNOWN`).
NO_MAKE = "(no make sent)"
NO_MODEL = "(no model sent)"


def vehicle_label(make: str | None, model: str | None = None, *, with_model: bool = False) -> str:
    """A make (and model) for people: ``HONDA Accord``, ``HONDA (no model sent)``.

    Examples
    --------
    >>> vehicle_label(UNKNOWN), vehicle_label("HONDA", UNKNOWN, with_model=True)
    ('(no make sent)', 'HONDA (no model sent)')
    """
    make_text = NO_MAKE if make in (None, "", UNKNOWN) else str(make)
    if not with_model:
        return make_text
    return f"{make_text} {NO_MODEL if model in (None, '', UNKNOWN) else model}"


#: Keys of the dict returned by :func:`normalize`, in the order of docs/design.md.
FIELDS = (
    "path",
    "outcome",
    "flow",
    "category",
    "error_code",
    "error_known",
    "error_description",
    "state",
    "user_id",
    "has_code",
    "vehicle_id",
    "external_id",
    "virtual_key_url",
    "vin",
    "vin_valid",
    "is_test",
    "vin_make",
    "vin_year",
    "make",
    "make_raw",
    "model",
    "year",
    "year_raw",
    "status_code",
    "error_message",
    "flags",
    "extras",
    "evidence",
)

#: Every flag :func:`normalize` can emit.
FLAGS = (
    "bare_keys",
    "duplicate_keys",
    "bad_escape",
    "invalid_utf8",
    "double_encoded",
    "description_in_bare_key",
    "unparseable",
    "js_sdk_state",
)

# Keys mapped to dedicated fields; everything else goes to ``extras``.
_MAPPED_KEYS = frozenset(
    {
        "code",
        "error",
        "error_description",
        "state",
        "user_id",
        "vehicle_id",
        "external_id",
        "virtual_key_url",
        "vin",
        "make",
        "model",
        "year",
        "status_code",
        "error_message",
    }
)

_SPACES_RE = re.compile(r"\s+")
_YEAR_RE = re.compile(r"[0-9]{4}")
# Nine digits keeps the value inside SQLite's INTEGER range whatever arrives.
_STATUS_RE = re.compile(r"[0-9]{1,9}")
_SCHEME_RE = re.compile(rb"[A-Za-z][A-Za-z0-9+.\-]*://")


# --- the record --------------------------------------------------------------------------


def _split_target(raw: bytes) -> tuple[bytes, bytes]:
    """Return (path, query) of a URL or path+query, fragment removed."""
    hash_at = raw.find(b"#")
    if hash_at >= 0:
        raw = raw[:hash_at]
    q_at = raw.find(b"?")
    if q_at >= 0:
        path, query = raw[:q_at], raw[q_at + 1 :]
    else:
        path, query = raw, b""
    if path[:1] != b"/":
        m = _SCHEME_RE.match(path)
        if m is not None:
            scheme = path[: m.end() - 3].lower()
            if scheme in (b"http", b"https"):
                slash = path.find(b"/", m.end())
                path = path[slash:] if slash >= 0 else b"/"
            # Custom schemes (sc<client-id>://exchange) keep scheme and host: they *are* the
            # redirect URI's identity.
    return path, query


def _text(v: str | None) -> str | None:
    # "" and whitespace-only both count as absent (see "Blank means absent").
    return v if v and not v.isspace() else None


def _empty_record() -> dict:
    return {
        "path": None,
        "outcome": "empty",
        "flow": None,
        "category": "empty",
        "error_code": None,
        "error_known": None,
        "error_description": None,
        "state": None,
        "user_id": None,
        "has_code": False,
        "vehicle_id": None,
        "external_id": None,
        "virtual_key_url": None,
        "vin": None,
        "vin_valid": None,
        "is_test": False,
        "vin_make": None,
        "vin_year": None,
        "make": None,
        "make_raw": None,
        "model": None,
        "year": None,
        "year_raw": None,
        "status_code": None,
        "error_message": None,
        "flags": [],
        "extras": {},
        "evidence": False,
    }


def normalize(target: bytes | str) -> dict:
    """Normalise one redirect target into a record with exactly the keys in :data:`FIELDS`.

    Parameters
    ----------
    target
        An absolute URL (``https://example.com/home?...``), a custom-scheme URL
        (``sc<client-id>://exchange?...``) or a path with query (``/callback?...``), after the
        log format's own escaping has been undone.  May contain arbitrary bytes.

    Returns
    -------
    dict
        See docs/design.md.  Never raises; malformed input yields flags, not exceptions.

    Examples
    --------
    >>> r = normalize("/cb?error=ACCESS_DENIED&error_description=User+denied&state=s1")
    >>> r["outcome"], r["error_code"], r["category"], r["error_description"]
    ('error', 'access_denied', 'denied', 'User denied')
    """
    try:
        return _normalize(as_bytes(target))
    except Exception:  # pragma: no cover - defensive: the contract is "never raise"
        rec = _empty_record()
        rec["flags"] = ["unparseable"]
        return rec


# --- the fast path ---------------------------------------------------------------------------
#
# Nearly every candidate line has one of a few shapes: a success (``?user_id=<uuid>&state=``,
# ``?code=&state=``, ``?code=&user_id=&state=``) or an error with its description
# (``?error=<code>&error_description=<text>&state=``). For those, one regex match replaces
# the general split/decode/classify walk, which costs several times more per line. The
# pattern only admits what needs no interpretation: a plain ``/path``, unreserved
# characters in the values (nothing to decode, nothing to flag), and in the description
# ``+`` and well-formed ``%XX`` escapes only. Anything else, and a description whose escapes
# are double encoded or not UTF-8, goes to :func:`_normalize_general`; a property test holds
# the two paths equal on generated, real and random targets.
_TOKEN = rb"[A-Za-z0-9._~\-]+"
_UUID = rb"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_FAST_RE = re.compile(
    rb"(?P<path>/[A-Za-z0-9._~/\-]*)\?(?:"
    rb"(?:code=(?P<code>" + _TOKEN + rb")&)?user_id=(?P<user_id>" + _UUID + rb")"
    rb"|code=(?P<code_only>" + _TOKEN + rb")"
    rb"|error=(?P<error>[A-Za-z_]+)&error_description=(?P<desc>(?:[A-Za-z0-9._~!*'(),;:@/?=+\-]|%[0-9A-Fa-f]{2})*)"
    rb")&state=(?P<state>" + _TOKEN + rb")"
)


# What the fast shapes never have, in store.REDIRECT_COLUMNS order from ``vehicle_id`` on.
_FAST_TAIL = (None, None, None, None, None, 0) + (None,) * 11


def _fast_row(raw: bytes) -> tuple[str, bool, tuple] | None:
    """(path, evidence, stored values) of a common-shape target, or None for the general path.

    The values are those of :func:`row_values`, built directly: no record dict in between.
    """
    m = _FAST_RE.fullmatch(raw)
    if m is None:
        return None
    path, code, user_id, code_only, error, desc, state = m.groups()
    if state.startswith(_JS_SDK_PREFIX):
        return None  # maybe the JS SDK's base64 JSON: the general path decodes it
    if error is None:
        # A token is never blank, so a present code is a code; a UUID user_id with a state
        # is Smartcar evidence (see _normalize_general).
        del code_only  # a credential: never copied further
        if user_id is None:
            return (
                path.decode("ascii"),
                False,
                (
                    "success",
                    "code",
                    "success",
                    None,
                    None,
                    None,
                    state.decode("ascii"),
                    None,
                    1,
                )
                + _FAST_TAIL,
            )
        return (
            path.decode("ascii"),
            True,
            (
                "success",
                "user_id" if code is None else "code+user_id",
                "success",
                None,
                None,
                None,
                state.decode("ascii"),
                user_id.decode("ascii"),
                0 if code is None else 1,
            )
            + _FAST_TAIL,
        )
    if desc:
        if b"+" in desc:
            desc = desc.replace(b"+", b" ")
        text = desc.decode("ascii")
        if b"%" in desc:
            if b"%25" in desc:
                return None  # maybe double encoded: the general path flags it
            try:
                text = unquote(text, "utf-8", "strict")
            except UnicodeDecodeError:
                return None  # invalid_utf8: flagged by the general path
        description = text if text and not text.isspace() else None
    else:
        description = None
    error = error.decode("ascii")
    lowered = error.lower()
    category = ERROR_CODES.get(lowered)
    if category is None:
        error_code, error_known, category, evidence = error, 0, "other", False
    else:
        error_code, error_known, evidence = lowered, 1, lowered not in GENERIC_OAUTH_ERRORS
    return (
        path.decode("ascii"),
        evidence,
        (
            "error",
            None,
            category,
            error_code,
            error_known,
            description,
            state.decode("ascii"),
            None,
            0,
        )
        + _FAST_TAIL,
    )


def _fast(raw: bytes) -> dict | None:
    """The record of a common-shape target (as :func:`normalize` returns it), or None."""
    r = _fast_row(raw)
    if r is None:
        return None
    path, evidence, v = r
    ek = v[4]
    # The shape's own fields over the empty record, so the record's keys have one spelling.
    rec = _empty_record()
    rec.update(
        path=path,
        outcome=v[0],
        flow=v[1],
        category=v[2],
        error_code=v[3],
        error_known=None if ek is None else bool(ek),
        error_description=v[5],
        state=v[6],
        user_id=v[7],
        has_code=bool(v[8]),
        evidence=evidence,
    )
    return rec


def row_values(rec: dict) -> tuple:
    """A record as the ``redirects`` table stores it: its columns from ``outcome`` on.

    In ``store.REDIRECT_COLUMNS`` order (the record's own order, without ``path`` and
    ``evidence``), booleans as 0/1, ``flags`` and ``extras`` as JSON or NULL when empty.
    """
    # Spelled out: this runs once per redirect, and a generic loop over the fields cost
    # more than the SQLite insert.
    flags, extras = rec["flags"], rec["extras"]
    ek, vv = rec["error_known"], rec["vin_valid"]
    return (
        rec["outcome"],
        rec["flow"],
        rec["category"],
        rec["error_code"],
        None if ek is None else int(ek),
        rec["error_description"],
        rec["state"],
        rec["user_id"],
        int(rec["has_code"]),
        rec["vehicle_id"],
        rec["external_id"],
        rec["virtual_key_url"],
        rec["vin"],
        None if vv is None else int(vv),
        int(rec["is_test"]),
        rec["vin_make"],
        rec["vin_year"],
        rec["make"],
        rec["make_raw"],
        rec["model"],
        rec["year"],
        rec["year_raw"],
        rec["status_code"],
        rec["error_message"],
        json.dumps(flags) if flags else None,
        json.dumps(extras, ensure_ascii=False) if extras else None,
    )


def normalize_row(target: bytes | str) -> tuple[tuple, bool, bool]:
    """``(row_values(rec), empty, evidence)`` of ``rec = normalize(target)``, without the dict
    when the target has one of the common shapes (the importer's per-redirect call)."""
    if type(target) is bytes:
        fast = _fast_row(target)
        if fast is not None:
            return fast[2], False, fast[1]
    rec = normalize(target)
    return row_values(rec), rec["outcome"] == "empty", rec["evidence"]


_STATE_ONLY_RE = re.compile(rb"state=(" + _TOKEN + rb")")


def state_of(query: bytes) -> str | None:
    """The ``state`` in a launch's query (after ``?``), None when absent or empty.

    Exactly ``parse_query(query)[0].get("state") or None``; a launch is nearly always
    ``?state=<token>``, which one regex match answers without the general parse.
    """
    m = _STATE_ONLY_RE.fullmatch(query)
    if m is not None:
        return m.group(1).decode("ascii")
    return parse_query(query)[0].get("state") or None


# --- the JavaScript SDK's state ---------------------------------------------------------------
#
# smartcar/javascript-sdk src/sdk.js getAuthUrl sends ``state`` as
# ``window.btoa(JSON.stringify({instanceId, originalState}))`` (standard base64 with ``=``
# padding; ``originalState`` only when the app passed one), and its redirect page posts it back
# unchanged. Base64 of ``{"`` is ``eyJ``: only such states are tried.
_JS_SDK_PREFIX = b"eyJ"
_JS_SDK_TEXT_PREFIX = "eyJ"
#: The ``state`` given to a JS SDK redirect that carried no ``originalState``: its page's
#: instance, so one page's attempts stay one attempt.
JS_SDK_INSTANCE_PREFIX = "js-sdk-instance:"


def js_sdk_state(state: str) -> tuple[str, str | None] | None:
    """``(instanceId, originalState)`` of a JavaScript SDK ``state``, None for any other state.

    The form decoding of the query turned a ``+`` of the base64 into a space: it is put back.
    ``originalState`` is None when the app gave the SDK none (or a blank one).

    Examples
    --------
    >>> js_sdk_state("eyJpbnN0YW5jZUlkIjoiYWJjIiwib3JpZ2luYWxTdGF0ZSI6InMxIn0=")
    ('abc', 's1')
    >>> js_sdk_state("s1") is None
    True
    """
    if not state.startswith(_JS_SDK_TEXT_PREFIX):
        return None
    text = state.replace(" ", "+").strip()
    try:
        decoded = json.loads(base64.b64decode(text + "=" * (-len(text) % 4), validate=True))
    except (binascii.Error, ValueError):  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        return None
    if not isinstance(decoded, dict):
        return None
    instance_id, original = decoded.get("instanceId"), decoded.get("originalState")
    if not isinstance(instance_id, str) or not instance_id.strip():
        return None
    if not isinstance(original, str) or not original.strip():
        original = None
    return instance_id, original


def _normalize(raw: bytes) -> dict:
    rec = _fast(raw)
    return rec if rec is not None else _normalize_general(raw)


def _normalize_general(raw: bytes) -> dict:
    path_b, query = _split_target(raw)
    values, bare, flags = parse_query(query)
    try:
        path = path_b.decode("utf-8")
    except UnicodeDecodeError:
        path = path_b.decode("utf-8", "replace")
        if "invalid_utf8" not in flags:
            flags.append("invalid_utf8")

    get = values.get
    code = get("code")
    has_code = bool(code and code.strip())
    del code  # the value is a credential: drop it before anything else can copy it
    user_id = _text(get("user_id"))
    vehicle_id = _text(get("vehicle_id"))
    description = _text(get("error_description"))
    error = get("error")
    error = error.strip() if error else None

    evidence = False
    extras_skip_bare = None
    if error:
        outcome = "error"
        flow = None
        lowered = error.lower()
        category = ERROR_CODES.get(lowered)
        if category is None:
            error_code, error_known, category = error, False, "other"
        else:
            error_code, error_known = lowered, True
            if lowered not in GENERIC_OAUTH_ERRORS:
                evidence = True
        if description is None and len(bare) == 1 and " " in bare[0]:
            # The oem_cancelled_login docs example sends the text as a bare key.
            description = bare[0]
            extras_skip_bare = bare[0]
            flags.append("description_in_bare_key")
    else:
        error_code = error_known = None
        if has_code or user_id is not None or vehicle_id is not None:
            outcome = category = "success"
            if has_code:
                flow = "code+user_id" if user_id is not None else "code"
            elif user_id is not None:
                flow = "user_id"
            else:
                flow = "reauth"
        else:
            outcome = category = "empty"
            flow = None

    # An app's own pages can take ?user_id=<uuid> too; a Connect redirect also echoes state.
    if user_id is not None and not evidence and is_uuid(user_id) and "state" in values:
        evidence = True

    # Vehicle info: rare (vehicle_incompatible only), so the common path skips it cheaply.
    vin = vin_valid = vin_make = vin_year = make = make_raw = model = year = year_raw = None
    is_test = False
    if "vin" in values or "make" in values or "model" in values or "year" in values:
        vin, vin_valid, vin_make, vin_year = vin_details(_text(get("vin")))
        make_raw = _text(get("make"))
        make = canonical_make(make_raw)
        model_raw = _text(get("model"))
        model = _SPACES_RE.sub(" ", model_raw).strip() if model_raw is not None else None
        year_raw = _text(get("year"))
        if year_raw is not None:
            y = year_raw.strip()
            if _YEAR_RE.fullmatch(y) is not None and 1900 <= int(y) <= 2100:
                year = int(y)
        is_test = (vin is not None and vin.startswith("0SC")) or make == "SIMULATED"
        # Search pages take make/model/year too; on an error redirect they are Connect's.
        if outcome == "error" and (
            vin is not None or make is not None or model is not None or year_raw is not None
        ):
            evidence = True

    virtual_key_url = _text(get("virtual_key_url"))
    if vehicle_id is not None or virtual_key_url is not None:
        evidence = True

    status_code = None
    status_raw = get("status_code")
    if status_raw:
        s = status_raw.strip()
        if _STATUS_RE.fullmatch(s) is not None:
            status_code = int(s)

    extras: dict[str, str] = {}
    for k, v in values.items():
        if k not in _MAPPED_KEYS:
            extras[k] = v
    for k in bare:
        if k != "code" and k != extras_skip_bare and k not in extras:
            extras[k] = ""

    state = _text(get("state"))
    if state is not None and state.startswith(_JS_SDK_TEXT_PREFIX):
        sdk = js_sdk_state(state)
        if sdk is not None:
            # The raw state is kept in extras; ``state`` becomes what pairs with the launch.
            instance_id, original = sdk
            flags.append("js_sdk_state")
            extras["state_raw"] = state
            extras["js_sdk_instance"] = instance_id
            state = original if original is not None else f"{JS_SDK_INSTANCE_PREFIX}{instance_id}"

    return {
        "path": path,
        "outcome": outcome,
        "flow": flow,
        "category": category,
        "error_code": error_code,
        "error_known": error_known,
        "error_description": description,
        "state": state,
        "user_id": user_id,
        "has_code": has_code,
        "vehicle_id": vehicle_id,
        "external_id": _text(get("external_id")),
        "virtual_key_url": virtual_key_url,
        "vin": vin,
        "vin_valid": vin_valid,
        "is_test": is_test,
        "vin_make": vin_make,
        "vin_year": vin_year,
        "make": make,
        "make_raw": make_raw,
        "model": model,
        "year": year,
        "year_raw": year_raw,
        "status_code": status_code,
        "error_message": _text(get("error_message")),
        "flags": flags,
        "extras": extras,
        "evidence": evidence,
    }
