# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""The import's hot loop in C: the candidate search and the commonest candidate line.

An optional extension (setup.py builds it when a compiler and Cython are there; see
:mod:`._speed` for the dispatch). It does what ``scan._find_candidates`` and
``scan._parse_block`` do, and it is equal to them by construction as much as by test:

* the candidate search is the same windowed algorithm, with C loops for ``bytes.find``;
* a candidate line is parsed here only when it has the shape ``fused._LINE`` reads (a
  combined line with a plain path and a query) and no stored value would be scrubbed
  (no ``%`` or ``code`` in its text columns). A launch's ``state=<token>`` and the shapes of
  ``redirect._FAST_RE`` are read here; other queries go to ``redirect.normalize_row`` as in
  the pure path. Everything here accepts a subset of what those patterns accept and builds
  the same values. Any other line goes to the pure ``scan._parse_line`` unchanged: the
  pure code stays the reference, and
  ``tests/test_speedups.py`` holds both paths equal, row for row, on generated lines and
  the real fixtures.

The rows come out as ``scan._sparse_item`` makes them, ``(mask, values)``, so the main
process only groups and binds them.
"""

from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize, PyBytes_GET_SIZE
from cpython.unicode cimport PyUnicode_DecodeASCII, PyUnicode_DecodeUTF8
from libc.string cimport memchr, memcmp

from ..formats import _time
from ..redirect import ERROR_CODES, GENERIC_OAUTH_ERRORS, normalize_row, state_of
from . import scan as _scan
from .inputs import MAX_LINE_BYTES

cdef object _pure_parse_line = _scan._parse_line
cdef object _sparse_item = _scan._sparse_item
cdef object _parse_clf_time = _time.parse_clf_time
cdef dict _HOURS = _time._HOURS
cdef dict _ERROR_CODES = ERROR_CODES
cdef object _GENERIC = GENERIC_OAUTH_ERRORS
cdef Py_ssize_t _MAX_LINE = MAX_LINE_BYTES
cdef Py_ssize_t _WINDOW = _scan._WINDOW

# What the fast shapes never have, in store.REDIRECT_COLUMNS order from vehicle_id on
# (redirect._FAST_TAIL): its NULLs leave the sparse row, so only is_test's 0 remains.
cdef tuple _TAIL = (None, None, None, None, None, 0) + (None,) * 11

# --- character classes (the patterns' own) ---------------------------------------------------

cdef unsigned char _TOKEN[256]  # [A-Za-z0-9._~-]
cdef unsigned char _PATHC[256]  # [A-Za-z0-9._~/-]
cdef unsigned char _DESC[256]   # [A-Za-z0-9._~!*'(),;:@/?=+-] (no %: a clean line has none)
cdef unsigned char _HEX[256]


cdef void _init_classes():
    cdef int c
    for c in range(256):
        _TOKEN[c] = (48 <= c <= 57) or (65 <= c <= 90) or (97 <= c <= 122) or c in (46, 95, 126, 45)
        _PATHC[c] = _TOKEN[c] or c == 47
        _DESC[c] = _TOKEN[c] or c in (33, 42, 39, 40, 41, 44, 59, 58, 64, 47, 63, 61, 43)
        _HEX[c] = (48 <= c <= 57) or (65 <= c <= 70) or (97 <= c <= 102)


_init_classes()

# What _line returns for a line it leaves to the pure parse, and for ordinary traffic.
cdef object _OTHER = object()
cdef object _NONE = object()

# --- the candidate search ---------------------------------------------------------------------


cdef inline Py_ssize_t _find(const unsigned char* p, const unsigned char* nd, Py_ssize_t ln,
                             Py_ssize_t j, Py_ssize_t start, Py_ssize_t stop) noexcept nogil:
    """bytes.find(needle, start, stop) for a non-empty needle, by memchr on its byte at *j*
    (the rarest of its bytes in the block, :func:`_rarest`): a match at s has that byte at
    s + j, and memchr finds the first such byte, so the first match is found."""
    cdef Py_ssize_t last = stop - ln
    cdef const unsigned char* hit
    cdef unsigned char b = nd[j]
    while start <= last:
        hit = <const unsigned char*>memchr(p + start + j, b, last - start + 1)
        if hit == NULL:
            return -1
        start = (hit - p) - j
        if memcmp(p + start, nd, ln) == 0:
            return start
        start += 1
    return -1


# Bytes counted at the start of a block to pick each needle's rarest byte: its first byte
# ('/' of a path, 'e' of "error=") was among the commonest of a log line, and memchr stopped
# at every one (the 1M-line mix's six needles: 0.36 s of search; see benchmarks/README.md).
cdef Py_ssize_t _SAMPLE = 64 << 10


cdef Py_ssize_t _rarest(const unsigned char* nd, Py_ssize_t ln, const Py_ssize_t* counts) noexcept nogil:
    """The position in the needle of its byte seen least in the sample (the last of equals)."""
    cdef Py_ssize_t j, best = 0
    for j in range(1, ln):
        if counts[nd[j]] <= counts[nd[best]]:
            best = j
    return best


cdef inline Py_ssize_t _rfind_nl(const unsigned char* p, Py_ssize_t i) noexcept nogil:
    """bytes.rfind(b"\\n", 0, i)."""
    i -= 1
    while i >= 0 and p[i] != 10:
        i -= 1
    return i


cdef inline Py_ssize_t _find_nl(const unsigned char* p, Py_ssize_t i, Py_ssize_t n) noexcept nogil:
    """bytes.find(b"\\n", i)."""
    if i >= n:
        return -1
    cdef const unsigned char* hit = <const unsigned char*>memchr(p + i, 10, n - i)
    return -1 if hit == NULL else hit - p


def find_candidates(bytes buf, needles, Py_ssize_t since=0):
    """``scan._find_candidates``: the lines of *buf* holding a needle, start -> end."""
    cdef list nds = [bytes(x) for x in needles]
    cdef bytes nd
    for nd in nds:
        if len(nd) == 0:  # never configured; the pure search decides what it means
            return _scan._find_candidates(buf, needles, since)
    cdef dict bounds = {}
    cdef const unsigned char* p = <const unsigned char*>PyBytes_AS_STRING(buf)
    cdef Py_ssize_t n = PyBytes_GET_SIZE(buf)
    cdef Py_ssize_t w, ln, stop, i, s, e, k, j
    cdef const unsigned char* q
    cdef object got
    cdef Py_ssize_t counts[256]
    for k in range(256):
        counts[k] = 0
    for k in range(since, min(n, since + _SAMPLE)):
        counts[p[k]] += 1
    cdef list rare = [_rarest(<const unsigned char*>PyBytes_AS_STRING(nd), PyBytes_GET_SIZE(nd), counts)
                      for nd in nds]
    w = since
    while w < n:
        for k in range(len(nds)):
            nd = nds[k]
            j = rare[k]
            ln = PyBytes_GET_SIZE(nd)
            q = <const unsigned char*>PyBytes_AS_STRING(nd)
            stop = w + _WINDOW + ln - 1
            if stop > n:
                stop = n
            i = _find(p, q, ln, j, w, stop)
            while i != -1:
                s = _rfind_nl(p, i) + 1
                got = bounds.get(s)
                if got is None:
                    e = _find_nl(p, i, n)
                    bounds[s] = e
                else:
                    e = got
                if e == -1:
                    break
                i = _find(p, q, ln, j, e, stop)
        w += _WINDOW
    return bounds


# --- the commonest candidate line -------------------------------------------------------------

cdef dict _TEXTS = {}  # bytes -> str, as formats.clf._text: one object per repeated value
cdef dict _PATHS = {}  # plain path bytes -> its comparable str, as paths._target_path


cdef inline object _text(const unsigned char* p, Py_ssize_t a, Py_ssize_t b):
    cdef bytes key = PyBytes_FromStringAndSize(<const char*>p + a, b - a)
    cdef object s = _TEXTS.get(key)
    if s is None:
        s = PyUnicode_DecodeUTF8(<const char*>p + a, b - a, "replace")
        if b - a <= 512:
            if len(_TEXTS) >= 20000:
                _TEXTS.clear()
            _TEXTS[key] = s
    return s


cdef inline object _path(const unsigned char* p, Py_ssize_t a, Py_ssize_t b):
    cdef bytes key = PyBytes_FromStringAndSize(<const char*>p + a, b - a)
    cdef object s = _PATHS.get(key)
    if s is None:
        s = PyUnicode_DecodeASCII(<const char*>p + a, b - a, NULL)
        if len(s) > 1:
            s = s.rstrip("/")
        if b - a <= 256:
            if len(_PATHS) >= 10000:
                _PATHS.clear()
            _PATHS[key] = s
    return s


cdef object _ts(const unsigned char* t):
    """formats._time.parse_clf_time of the 26 bytes at *t* (its per-hour cache, shared)."""
    cdef bytes key
    cdef object prefix
    cdef char out[25]
    cdef const char* pre
    cdef Py_ssize_t k
    if (t[24] == 48 and t[25] == 48 and t[15] < 54 and t[18] < 54 and t[14] == 58 and t[17] == 58
            and 48 <= t[15] <= 57 and 48 <= t[16] <= 57 and 48 <= t[18] <= 57 and 48 <= t[19] <= 57):
        key = PyBytes_FromStringAndSize(<const char*>t, 14) + PyBytes_FromStringAndSize(<const char*>t + 20, 6)
        prefix = _HOURS.get(key)
        if prefix is not None:
            pre = PyBytes_AS_STRING(prefix.encode("ascii"))
            for k in range(14):
                out[k] = pre[k]
            for k in range(5):
                out[14 + k] = <char>t[15 + k]
            out[19] = 43  # "+00:00"
            out[20] = 48
            out[21] = 48
            out[22] = 58
            out[23] = 48
            out[24] = 48
            return PyUnicode_DecodeASCII(out, 25, NULL)
    return _parse_clf_time(PyBytes_FromStringAndSize(<const char*>t, 26))


cdef inline bint _clean(const unsigned char* p, Py_ssize_t a, Py_ssize_t b) noexcept nogil:
    """fused.parse_line's test that no stored value can hold a code: no "%" and no "code" in
    any ASCII case. A line that fails it is still parsed here, and its row kept when
    :func:`_needs_scrub` finds nothing the pure path's scrub would change."""
    cdef Py_ssize_t i
    cdef unsigned char c
    for i in range(a, b):
        c = p[i]
        if c == 37:
            return False
        if (c | 32) == 99 and i + 3 < b and (p[i + 1] | 32) == 111 and (p[i + 2] | 32) == 100 \
                and (p[i + 3] | 32) == 101:
            return False
    return True


cdef inline Py_ssize_t _tokens(const unsigned char* p, Py_ssize_t i, Py_ssize_t b) noexcept nogil:
    while i < b and _TOKEN[p[i]]:
        i += 1
    return i


cdef inline bint _uuid(const unsigned char* p, Py_ssize_t i) noexcept nogil:
    cdef int k
    for k in range(36):
        if k == 8 or k == 13 or k == 18 or k == 23:
            if p[i + k] != 45:
                return False
        elif not _HEX[p[i + k]]:
            return False
    return True


cdef object _desc(const unsigned char* p, Py_ssize_t a, Py_ssize_t b):
    """redirect._fast_row's description of p[a:b] (its class already checked), or _OTHER
    where that function leaves it to the general path (``%25``, not UTF-8)."""
    cdef Py_ssize_t i, k = 0
    cdef bytearray out
    cdef unsigned char c, h, l
    cdef object text
    if a == b:
        return None
    if memchr(p + a, 37, b - a) == NULL:
        text = PyUnicode_DecodeASCII(<const char*>p + a, b - a, NULL).replace("+", " ")
    else:
        out = bytearray(b - a)
        i = a
        while i < b:
            c = p[i]
            if c == 37:
                if p[i + 1] == 50 and p[i + 2] == 53:  # %25: maybe double encoded
                    return _OTHER
                h = p[i + 1] | 32
                l = p[i + 2] | 32
                c = ((h - 48) if h <= 57 else (h - 87)) * 16 + ((l - 48) if l <= 57 else (l - 87))
                i += 3
            else:
                if c == 43:
                    c = 32
                i += 1
            out[k] = c
            k += 1
        try:
            text = bytes(out[:k]).decode("utf-8", "strict")
        except UnicodeDecodeError:
            return _OTHER  # invalid_utf8: flagged by the general path
    return None if text.isspace() else text


cdef object _values(const unsigned char* p, Py_ssize_t a, Py_ssize_t b):
    """redirect._fast_row's (evidence, values) for the query p[a:b], or None."""
    cdef Py_ssize_t i, e0, e1, d0, d1, s0, c0 = -1, c1 = 0
    cdef object state, desc, error, lowered, category
    i = a
    # (?:code=<token>&)?user_id=<uuid>&state=<token> | code=<token>&state=<token>
    if b - i > 5 and memcmp(p + i, b"code=", 5) == 0:
        c0 = i + 5
        c1 = _tokens(p, c0, b)
        if c1 == c0 or c1 >= b or p[c1] != 38:
            return None
        i = c1 + 1
        if b - i > 7 and memcmp(p + i, b"state=", 6) == 0:
            s0 = i + 6
            if _tokens(p, s0, b) != b:
                return None
            # the code itself (a credential) is never copied
            return False, (
                "success", "code", "success", None, None, None,
                PyUnicode_DecodeASCII(<const char*>p + s0, b - s0, NULL), None, 1,
            ) + _TAIL
    if b - i >= 8 + 36 + 7 + 1 and memcmp(p + i, b"user_id=", 8) == 0:
        i += 8
        if not _uuid(p, i) or memcmp(p + i + 36, b"&state=", 7) != 0:
            return None
        s0 = i + 43
        if _tokens(p, s0, b) != b or s0 == b:
            return None
        state = PyUnicode_DecodeASCII(<const char*>p + s0, b - s0, NULL)
        return True, (
            "success", "user_id" if c0 < 0 else "code+user_id", "success", None, None, None, state,
            PyUnicode_DecodeASCII(<const char*>p + i, 36, NULL), 0 if c0 < 0 else 1,
        ) + _TAIL
    if c0 >= 0:
        return None
    # error=<[A-Za-z_]+>&error_description=<desc>&state=<token>
    if b - a > 6 and memcmp(p + a, b"error=", 6) == 0:
        e0 = i = a + 6
        while i < b and ((65 <= p[i] <= 90) or (97 <= p[i] <= 122) or p[i] == 95):
            i += 1
        e1 = i
        if e1 == e0 or b - i < 19 or memcmp(p + i, b"&error_description=", 19) != 0:
            return None
        d0 = i = i + 19
        while i < b:
            if _DESC[p[i]]:
                i += 1
            elif p[i] == 37 and i + 2 < b and _HEX[p[i + 1]] and _HEX[p[i + 2]]:
                i += 3
            else:
                break
        d1 = i
        if b - i < 7 or memcmp(p + i, b"&state=", 7) != 0:
            return None
        s0 = i + 7
        if s0 == b or _tokens(p, s0, b) != b:
            return None
        desc = _desc(p, d0, d1)
        if desc is _OTHER:
            return None
        state = PyUnicode_DecodeASCII(<const char*>p + s0, b - s0, NULL)
        error = PyUnicode_DecodeASCII(<const char*>p + e0, e1 - e0, NULL)
        lowered = error.lower()
        category = _ERROR_CODES.get(lowered)
        if category is None:
            return False, ("error", None, "other", error, 0, desc, state, None, 0) + _TAIL
        return lowered not in _GENERIC, (
            "error", None, category, lowered, 1, desc, state, None, 0,
        ) + _TAIL
    return None


cdef bint _needs_scrub(tuple row, list text_idx):
    """Whether privacy.Redaction._fix (no policy) might change *row*: a text column holds a
    "%" or a "code". Such rows are left to the pure path, which scrubs them."""
    cdef Py_ssize_t i
    cdef object v
    for i in text_idx:
        v = row[i]
        if type(v) is str and ("%" in v or "code" in v.lower()):
            return True
    return False


cdef object _sparse(tuple row):
    """scan._sparse: (which columns the row fills, their values)."""
    cdef Py_ssize_t n = len(row), k, j = 0
    cdef bytearray mask = bytearray(n)
    cdef list vals = []
    cdef object v
    for k in range(n):
        v = row[k]
        if v is not None:
            mask[k] = 1
            vals.append(v)
    return bytes(mask), tuple(vals)



cdef object _line(object ctx, const unsigned char* p, Py_ssize_t a, Py_ssize_t b,
                  Py_ssize_t offset, Py_ssize_t line_no, object launch_paths, bint explicit,
                  object redirect_paths, list r_text, list l_text):
    """The item fused.parse_line and scan._sparse_item give p[a:b], or _OTHER."""
    cdef Py_ssize_t i = a, ip0, ip1, t0, m0, m1, p0, p1, q1, u0, u1, status
    cdef object ts, path, head, vals, r
    cdef tuple row
    cdef bint clean
    # ([^ ,]+) (?!\[)[^ ]+ (?!\[)[^ ]+ \[([^\]]{26})\] "
    while i < b and p[i] != 32 and p[i] != 44:
        i += 1
    if i == a or i >= b or p[i] != 32:
        return _OTHER
    ip0, ip1 = a, i
    for _ in range(2):
        i += 1
        if i >= b or p[i] == 91 or p[i] == 32:
            return _OTHER
        while i < b and p[i] != 32:
            i += 1
        if i >= b:
            return _OTHER
    i += 1
    if b - i < 30 or p[i] != 91:
        return _OTHER
    t0 = i + 1
    for i in range(t0, t0 + 26):
        if p[i] == 93:
            return _OTHER
    i = t0 + 26
    if p[i] != 93 or p[i + 1] != 32 or p[i + 2] != 34:
        return _OTHER
    # ([A-Z]+) (/[A-Za-z0-9._~/\-]*)\?([^ "\\]*) HTTP/[^ "\\]*" ([0-9]{3}) [^ "]+ "
    m0 = i = i + 3
    while i < b and 65 <= p[i] <= 90:
        i += 1
    m1 = i
    if m1 == m0 or i + 1 >= b or p[i] != 32 or p[i + 1] != 47:
        return _OTHER
    p0 = i = i + 1
    while i < b and _PATHC[p[i]]:
        i += 1
    p1 = i
    if i >= b or p[i] != 63:
        return _OTHER
    i += 1
    while i < b and p[i] != 32 and p[i] != 34 and p[i] != 92:
        i += 1
    q1 = i
    if b - i < 6 or memcmp(p + i, b" HTTP/", 6) != 0:
        return _OTHER
    i += 6
    while i < b and p[i] != 32 and p[i] != 34 and p[i] != 92:
        i += 1
    if b - i < 6 or p[i] != 34 or p[i + 1] != 32:
        return _OTHER
    i += 2
    if not (48 <= p[i] <= 57 and 48 <= p[i + 1] <= 57 and 48 <= p[i + 2] <= 57) or p[i + 3] != 32:
        return _OTHER
    status = (p[i] - 48) * 100 + (p[i + 1] - 48) * 10 + (p[i + 2] - 48)
    i += 4
    if i >= b or p[i] == 32 or p[i] == 34:
        return _OTHER
    while i < b and p[i] != 32 and p[i] != 34:
        i += 1
    if b - i < 2 or p[i] != 32 or p[i + 1] != 34:
        return _OTHER
    # "[^"\\]*" "([^"\\]*)"
    i += 2
    while i < b and p[i] != 34 and p[i] != 92:
        i += 1
    if b - i < 3 or p[i] != 34 or p[i + 1] != 32 or p[i + 2] != 34:
        return _OTHER
    u0 = i = i + 3
    while i < b and p[i] != 34 and p[i] != 92:
        i += 1
    if i >= b or p[i] != 34:
        return _OTHER
    u1 = i
    clean = _clean(p, a, b)
    ts = _ts(p + t0)
    if ts is None:
        return _OTHER
    path = _path(p, p0, p1)
    head = (
        ctx.fp, line_no, offset, ctx.import_id, ts, _text(p, m0, m1), path, status,
        None if (ip1 - ip0 == 1 and p[ip0] == 45) else _text(p, ip0, ip1),
        None if (u1 - u0 == 1 and p[u0] == 45) else _text(p, u0, u1),
    )
    if path in launch_paths:
        if q1 - p1 > 7 and memcmp(p + p1 + 1, b"state=", 6) == 0 and _tokens(p, p1 + 7, q1) == q1:
            row = head + (PyUnicode_DecodeASCII(<const char*>p + p1 + 7, q1 - p1 - 7, NULL),)
        else:
            row = head + (state_of(PyBytes_FromStringAndSize(<const char*>p + p1 + 1, q1 - p1 - 1)),)
        if not clean and _needs_scrub(row, l_text):
            return _OTHER
        return "L", row, ts
    if explicit and path not in redirect_paths:
        return _NONE
    r = _values(p, p1 + 1, q1)
    if r is None:
        vals, empty, evidence = normalize_row(PyBytes_FromStringAndSize(<const char*>p + p0, q1 - p0))
    else:
        evidence, vals = r
        empty = False
    row = head + vals
    if not clean and _needs_scrub(row, r_text):
        return _OTHER
    return "R", offset, path, empty, evidence, _sparse(row), ts


def set_fallback(parse_line):
    """Replace the pure per-line parse this module hands other lines to (tests count them)."""
    global _pure_parse_line
    _pure_parse_line = parse_line


def parse_block(ctx, bytes buf, bounds, Py_ssize_t base, Py_ssize_t line0):
    """``scan._parse_block``: the items of the candidate lines *bounds* of *buf*."""
    cdef list items = []
    cdef const unsigned char* p = <const unsigned char*>PyBytes_AS_STRING(buf)
    cdef Py_ssize_t n = PyBytes_GET_SIZE(buf)
    cdef Py_ssize_t prev = 0, line_no = line0, s, e, b, k
    cdef bint fused = ctx.fused
    cdef bint explicit = ctx.explicit
    cdef object launch_paths = ctx.launch_paths, redirect_paths = ctx.redirect_paths
    cdef object item
    cdef list r_text = list(ctx.redaction._r_text), l_text = list(ctx.redaction._l_text)
    cdef const unsigned char* hit
    for s, e in bounds:
        # line_no += buf.count(b"\n", prev, s)
        k = prev
        while k < s:
            hit = <const unsigned char*>memchr(p + k, 10, s - k)
            if hit == NULL:
                break
            line_no += 1
            k = hit - p + 1
        prev = s
        b = e
        if 0 <= s <= b <= n:
            if b > s and p[b - 1] == 13:
                b -= 1
            if fused and b - s <= _MAX_LINE and (b == s or p[s] != 0):
                item = _line(
                    ctx, p, s, b, base + s, line_no + 1, launch_paths, explicit, redirect_paths, r_text, l_text
                )
                if item is _NONE:
                    continue
                if item is not _OTHER:
                    items.append(item)
                    continue
        if e < 0:  # buf[s:e] as Python slices it
            e = n + e if n + e > 0 else 0
        line = PyBytes_FromStringAndSize(<const char*>p + s, e - s) if e > s else b""
        if line.endswith(b"\r"):
            line = line[: len(line) - 1]
        item = _pure_parse_line(ctx, line, base + s, line_no + 1)
        if item is not None:
            items.append(_sparse_item(item))
    return items
