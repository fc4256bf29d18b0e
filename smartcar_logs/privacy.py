"""What the importer may store: the redaction policy, salted hashing and code scrubbing.

Two protections live here, applied to every row just before it is written:

* **Authorization codes are never stored**, whatever the policy. :func:`redirect.normalize`
  already drops the ``code`` parameter; :func:`scrub_codes` catches the places a code can
  still hide in hostile or odd lines: another parameter's value (``next=/cb?code=...``), an
  error description, a ``CODE=``/``code%20=`` key that landed in ``extras``, a percent-encoded
  ``%63ode%3D...``, a path (``/cb;code=...``) and the raw text of rejected lines.
* **Personal fields can be kept, hashed or dropped** per field (:data:`FIELDS`). A hashed
  value is ``HMAC-SHA256(salt, value)`` in hex, truncated to :data:`HASH_CHARS`; the salt is
  the database's own (``meta.salt``), so equal values hash equally *within one database*:
  joins (``launches.state`` = ``redirects.state``) and distinct counts still work. Hashing
  is pseudonymisation, not anonymisation: whoever holds the database holds the salt and can
  test guesses (an IPv4 address has only 2^32 values). Use ``drop`` before sharing a database.

With any field hashed or dropped, rejected lines are stored without their raw text (the
reason, file, line number and byte offset still locate them), because an unparseable line
cannot be redacted field by field.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Iterable, Mapping
from operator import itemgetter
from urllib.parse import unquote

__all__ = [
    "FIELDS",
    "MODES",
    "HASH_CHARS",
    "Redaction",
    "RedactionError",
    "parse_redact",
    "hash_value",
    "scrub_codes",
    "cannot_hide_code",
    "policy_conflicts",
    "for_db",
]

#: Fields a policy may cover, with the columns each one governs.
FIELDS = ("vin", "user_id", "client_ip", "user_agent", "state")
MODES = ("keep", "hash", "drop")
HASH_CHARS = 20  # 80 bits of the HMAC: collisions are negligible at any log size
REDACTED = "<redacted>"


class RedactionError(ValueError):
    """A ``--redact`` specification is not FIELD=MODE with a known field and mode."""


def parse_redact(specs: Iterable[str] | Mapping[str, str] | None) -> dict[str, str]:
    """``["vin=hash", "client_ip=drop"]`` -> a full policy ``{field: mode}`` (keep by default).

    ``all=MODE`` sets every field; later specs override earlier ones, so
    ``all=hash client_ip=drop`` hashes everything but drops the IP address.
    """
    policy = dict.fromkeys(FIELDS, "keep")
    if not specs:
        return policy
    items = specs.items() if isinstance(specs, Mapping) else (_split_spec(s) for s in specs)
    for field, mode in items:
        field, mode = field.strip().lower().replace("-", "_"), mode.strip().lower()
        if field in ("ip", "client-ip"):
            field = "client_ip"
        if mode not in MODES:
            raise RedactionError(f"{field}={mode}: MODE must be one of {', '.join(MODES)}")
        if field == "all":
            policy = dict.fromkeys(FIELDS, mode)
        elif field in FIELDS:
            policy[field] = mode
        else:
            raise RedactionError(f"{field}: FIELD must be one of all, {', '.join(FIELDS)}")
    return policy


def _split_spec(spec: str) -> tuple[str, str]:
    field, eq, mode = spec.partition("=")
    if not eq:
        raise RedactionError(f"{spec!r}: expected FIELD=MODE, e.g. vin=hash or all=hash")
    return field, mode


def hash_value(salt: str, value: str) -> str:
    """The stored stand-in for *value*: HMAC-SHA256 keyed by the database salt, hex."""
    msg = value.encode("utf-8", "surrogatepass")
    return hmac.new(salt.encode(), msg, hashlib.sha256).hexdigest()[:HASH_CHARS]


# --- authorization codes -----------------------------------------------------------------

# A ``code`` key (not ``error_code``/``status_code``) followed by "=", an encoded "=" or, as a
# quoted JSON key, ":",
# and its value up to the next separator. Case-insensitive: a hostile line's ``CODE=`` is
# treated like the real thing.
_CODE_RE = re.compile(r"""(?i)(?<![a-z0-9_])(code(?:\s*(?:=|%3d|%253d)|"\s*:\s*"?)\s*)([^&\s"'<>;,#\\]+)""")
# Cheap pre-check: text with neither "code" followed by what can start a value separator nor a
# "%" escape cannot hide a code. (It also runs on a whole row's repr, where the flow values
# 'code' and 'code+user_id' must not trigger it.)
_HINT_RE = re.compile(r"""(?i)code[\s="%\\:]|%""")


def cannot_hide_code(entry) -> bool:
    """True when no row built from *entry* (a reader's ``LogEntry``) can hold a code.

    A row's text is the entry's method, client address and user agent, the time we format,
    and what :mod:`redirect` reads from the target, which decodes only ``+`` and ``%XX``. So
    a target without ``%`` and without ``code`` in any case, and other values without either,
    give a row in which :func:`scrub_codes` finds nothing: the row needs no scrub. Five
    substring tests instead of joining and lowering a row's twenty text values.
    """
    target = entry.target
    if b"%" in target or b"code" in target.lower():
        return False
    for text in (entry.user_agent, entry.method, entry.client_ip, entry.forwarded_for):
        if text and ("%" in text or "code" in text.lower()):
            return False
    return True


def _is_code_key(key: str) -> bool:
    k = key
    for _ in range(3):
        if "%" not in k:
            break
        k = unquote(k)
    return k.strip().lower() == "code"


def scrub_codes(text: str) -> str:
    """Replace anything that looks like an authorization code value in *text*.

    Idempotent, and cheap when the text holds neither ``code`` nor a ``%`` escape. A code
    that only appears after percent-decoding (``%63ode%3D...``) makes the decoded, scrubbed
    text the result.
    """
    if not text or _HINT_RE.search(text) is None:
        return text
    out = _CODE_RE.sub(lambda m: m.group(1) + REDACTED, text)
    if "%" in out:
        decoded = out
        for _ in range(3):
            nxt = unquote(decoded, errors="replace")
            if nxt == decoded:
                break
            decoded = nxt
            if _CODE_RE.search(decoded) is not None:
                return _CODE_RE.sub(lambda m: m.group(1) + REDACTED, decoded)
    return out


def scrub_extras_json(extras: str) -> str:
    """``extras`` JSON with code-like keys' values and embedded codes redacted."""
    if _HINT_RE.search(extras) is None:
        return extras
    try:
        d = json.loads(extras)
    except ValueError:
        return scrub_codes(extras)
    if not isinstance(d, dict):
        return scrub_codes(extras)
    out = {}
    for k, v in d.items():
        k2 = scrub_codes(k) if isinstance(k, str) else k
        if isinstance(k, str) and _is_code_key(k):
            v = REDACTED if v else v
        elif isinstance(v, str):
            v = scrub_codes(v)
        out[k2] = v
    return json.dumps(out, ensure_ascii=False)


# --- rows ----------------------------------------------------------------------------------

# Column positions in the importer's row tuples are taken by name from the table layouts
# declared in store (REDIRECTS, LAUNCHES, REJECTS), so the order has one owner.
_FIELD_COLUMNS = {f: f for f in FIELDS}


class Redaction:
    """A bound policy: the importer passes each row through it as the row is built."""

    def __init__(self, policy: Mapping[str, str] | Iterable[str] | None = None, salt: str | None = None):
        self.policy = parse_redact(policy)
        self.salt = salt
        self.active = any(m != "keep" for m in self.policy.values())
        if self.active and any(m == "hash" for m in self.policy.values()) and not salt:
            raise RedactionError("hashing needs the database salt (store.get_salt)")
        self._cache: dict[str, str] = {}
        from .store import LAUNCHES, REDIRECTS, REJECTS

        r_cols, l_cols = REDIRECTS.names, LAUNCHES.names
        self._r_text = [i for i, c in enumerate(r_cols) if c not in _NON_TEXT]
        self._r_extras = REDIRECTS.index("extras")
        self._r_policy = [(REDIRECTS.index(f), m) for f, m in self.policy.items() if m != "keep"]
        self._l_text = [i for i, c in enumerate(l_cols) if c not in _NON_TEXT]
        self._l_policy = [
            (LAUNCHES.index(f), m) for f, m in self.policy.items() if m != "keep" and f in l_cols
        ]
        self._x_reason, self._x_raw = REJECTS.index("reason"), REJECTS.index("raw")
        self._r_get = _getter(self._r_text)
        self._l_get = _getter(self._l_text)

    def __reduce__(self):
        # Worker processes get the policy and salt, not the hash cache (or lambdas).
        return (Redaction, (self.policy, self.salt))

    def bind(self, salt: str) -> Redaction:
        return Redaction(self.policy, salt)

    def options(self) -> dict[str, str]:
        """The policy as recorded in ``imports.options["redact"]``."""
        return dict(self.policy)

    def _hash(self, v: str) -> str:
        h = self._cache.get(v)
        if h is None:
            if len(self._cache) > 200_000:
                self._cache.clear()
            h = self._cache[v] = hash_value(self.salt, v)
        return h

    def _fix(self, row: tuple, text_idx, getter, extras_idx, policy) -> tuple:
        vals = None
        # Fast pre-check over all text values at once (most rows: no "%", no "code").
        joined = "\x00".join([v for v in getter(row) if type(v) is str])
        if "%" in joined or ("code" in joined.lower() and _HINT_RE.search(joined) is not None):
            vals = list(row)
            for i in text_idx:
                v = vals[i]
                if v and type(v) is str:
                    vals[i] = scrub_extras_json(v) if i == extras_idx else scrub_codes(v)
        if policy:
            if vals is None:
                vals = list(row)
            for i, mode in policy:
                v = vals[i]
                if v is not None:
                    vals[i] = None if mode == "drop" else self._hash(v)
        return row if vals is None else tuple(vals)

    def redirect_row(self, row: tuple, entry=None) -> tuple:
        """*row* with codes scrubbed and the policy applied; *entry* is the ``LogEntry`` it
        was built from, when known: one that :func:`cannot_hide_code` spares the scrub."""
        if entry is not None and not self.active and cannot_hide_code(entry):
            return row
        return self._fix(row, self._r_text, self._r_get, self._r_extras, self._r_policy)

    def launch_row(self, row: tuple, entry=None) -> tuple:
        if entry is not None and not self.active and cannot_hide_code(entry):
            return row
        return self._fix(row, self._l_text, self._l_get, -1, self._l_policy)

    def reject_row(self, row: tuple) -> tuple:
        vals = list(row)
        reason, raw = self._x_reason, self._x_raw
        vals[reason] = scrub_codes(vals[reason])
        vals[raw] = None if self.active or vals[raw] is None else scrub_codes(vals[raw])
        return tuple(vals)


def _getter(idx: list[int]):
    """row -> tuple of the values at *idx* (always a tuple, even for one index)."""
    if len(idx) == 1:
        i = idx[0]
        return lambda row: (row[i],)
    return itemgetter(*idx)


_NON_TEXT = frozenset(
    {
        "source_fp",
        "line_no",
        "byte_offset",
        "import_id",
        "http_status",
        "error_known",
        "has_code",
        "vin_valid",
        "is_test",
        "vin_year",
        "year",
        "status_code",
        "outcome",
        "flow",
        "category",
    }
)


def policy_conflicts(db, policy: Mapping[str, str]) -> list[str]:
    """Human-readable warnings when *policy* differs from earlier imports into *db*.

    Imports from before redaction existed count as ``keep`` for every field. Only imports
    that stored something are considered. A change does not rewrite stored rows: the column
    then mixes clear values, hashes or NULLs, which the warning says.
    """
    earlier: dict[str, set[str]] = {f: set() for f in FIELDS}
    try:
        rows = db.execute(
            "SELECT options FROM imports WHERE inserted > 0 OR launches > 0 OR rejected > 0"
        ).fetchall()
    except Exception:
        return []
    for (opts,) in rows:
        try:
            red = (json.loads(opts or "{}") or {}).get("redact") or {}
        except (ValueError, AttributeError):
            red = {}
        for f in FIELDS:
            earlier[f].add(red.get(f, "keep") if isinstance(red, dict) else "keep")
    out = []
    for f in FIELDS:
        new = policy.get(f, "keep")
        old = earlier[f] - {new}
        if old:
            out.append(
                f"--redact {f}={new} differs from earlier imports into this database "
                f"({', '.join(f'{f}={m}' for m in sorted(old))}): stored rows are not rewritten, "
                f"so the {f} column now mixes {' and '.join(sorted(old | {new}))} values"
            )
    return out


def for_db(db, redaction=None) -> Redaction:
    """*redaction* (None, specs, a policy dict or a :class:`Redaction`) bound to *db*'s salt."""
    from .store import get_salt

    policy = redaction.policy if isinstance(redaction, Redaction) else redaction
    return Redaction(policy, get_salt(db))
