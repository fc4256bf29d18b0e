"""Real log files from other projects' test suites, read with no flags (issue 11).

Each file in ``tests/data/formats/`` is an excerpt of a public test fixture or a vendor's
documented example (sources and licenses in ``tests/data/README.md``) with Smartcar Connect
redirects written into it in that format's own syntax and escaping. Every one must import its
redirects with the right time, client address and user agent, with no rejects and with the line
accounting holding. Then: the wrapper layer, X-Forwarded-For lists, the JSON reader's query
fields, and the errors that tell a user which flag would help.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from logs import CB, UID, write
from smartcar_logs.cli import cli
from smartcar_logs.formats import (
    FORMATS,
    WRAPPERS,
    FormatError,
    LogEntry,
    detect_format,
    explain_unknown,
    forced_note,
    get_format,
    text_encoding,
)
from smartcar_logs.formats import clf as clf_module
from smartcar_logs.importer import import_paths
from smartcar_logs.store import open_db

DATA = Path(__file__).parent / "data" / "formats"
OK = f"{CB}?user_id={UID}&state=s1"
IPHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 16_0 like Mac OS X)"

# file -> (format detected, [(state, UTC time, client address, user agent)] in file order)
FIXTURES = {
    "haproxy_lnav.log": (
        "syslog+haproxy",
        [
            ("s1", "2019-02-25T16:21:01+00:00", "203.0.113.9", IPHONE),
            ("s2", "2019-02-25T16:21:05+00:00", "203.0.113.10", "curl/8.4.0"),
        ],
    ),
    "haproxy_filebeat.log": ("syslog+haproxy", [("s3", "2021-06-22T12:03:10+00:00", "198.51.100.7", None)]),
    "iis_filebeat.log": (
        "w3c",
        [
            (
                "s1",
                "2018-01-01T08:09:12+00:00",
                "203.0.113.9",
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Gecko/20100101 Firefox/120.0",
            ),
            ("s2", "2018-01-01T09:10:14+00:00", "203.0.113.10", "Mozilla/5.0 (X11; Linux x86_64)"),
            ("s3", "2018-01-01T10:11:15+00:00", "203.0.113.11", "Mozilla/5.0 (iPhone)"),
        ],
    ),
    "iis_xff_filebeat.log": (
        "w3c",
        [
            ("s1", "2020-10-07T23:01:05+00:00", "203.0.113.9", "Mozilla/5.0 (Windows NT 10.0; Win64; x64)"),
        ],
    ),
    "iis_advanced_lnav.log": (
        "w3c",
        [
            (
                "s1",
                "2012-08-15T17:00:01+00:00",
                "203.0.113.9",
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_10_1)",
            ),
        ],
    ),
    "uwsgi_lnav.log": ("uwsgi", [("s1", "2016-03-13T22:54:12+00:00", "203.0.113.9", None)]),
    "s3_lnav.log": ("s3", [("s1", "2026-10-01T07:00:01+00:00", "203.0.113.9", IPHONE)]),
    "azure_appgw_v2_plaso.json": (
        "azure",
        [
            ("s1", "2021-10-14T22:17:13+00:00", "203.0.113.9", "Mozilla/5.0 (iPhone)"),
        ],
    ),
    "azure_appgw_v1_docs.json": (
        "azure",
        [
            ("s1", "2017-04-26T19:27:40+00:00", "203.0.113.10", "Mozilla/5.0 (X11; Linux x86_64)"),
        ],
    ),
    "azure_frontdoor_integrations.json": (
        "azure",
        [
            ("s3", "2021-12-15T03:10:12+00:00", "203.0.113.11", "Mozilla/5.0 (Android 14)"),
        ],
    ),
    "envoy_docs.log": (
        "envoy",
        [
            ("s1", "2026-10-01T07:00:01+00:00", "203.0.113.9", "Mozilla/5.0 (iPhone)"),
            ("s2", "2026-10-01T07:00:03+00:00", "203.0.113.10", "Mozilla/5.0 (X11; Linux x86_64)"),
        ],
    ),
    "kong_docs.json": ("kong", [("s1", "2026-10-01T07:00:01+00:00", "203.0.113.9", "Mozilla/5.0 (iPhone)")]),
    "docker_plaso_lnav.log": (
        "docker+combined",
        [
            ("s1", "2026-10-01T07:00:01+00:00", "203.0.113.9", "Mozilla/5.0 (iPhone)"),
        ],
    ),
    "cri_nginx.log": (
        "cri+combined",
        [("s1", "2026-10-01T07:00:01+00:00", "203.0.113.9", "Mozilla/5.0 (iPhone)")],
    ),
    "compose_lnav_flask.log": (
        "compose+werkzeug",
        [
            ("s1", "2026-10-01T07:00:01+00:00", "192.168.65.1", None),
            ("s2", "2026-10-01T07:00:02+00:00", "192.168.65.1", None),
        ],
    ),
    "journald_lnav_nginx.json": (
        "journald+combined",
        [("s1", "2026-10-01T07:00:01+00:00", "203.0.113.9", "Mozilla/5.0 (iPhone)")],
    ),
    "syslog5424_nginx.log": (
        "syslog+combined",
        [
            ("s1", "2026-10-01T07:00:01+00:00", "203.0.113.9", "Mozilla/5.0 (iPhone)"),
        ],
    ),
    "werkzeug.log": (
        "werkzeug",
        [
            ("s1", "2026-10-01T07:00:01+00:00", "127.0.0.1", None),
            ("s2", "2026-10-01T07:00:02+00:00", "192.168.1.20", None),
        ],
    ),
    "ssl_request_log": (
        "ssl-request",
        [
            ("s1", "2026-10-01T07:00:01+00:00", "203.0.113.9", None),
            ("s3", "2026-10-01T07:00:02+00:00", "203.0.113.10", None),
        ],
    ),
    "nginx_xff.log": (
        "combined",
        [("s1", "2026-10-01T07:00:01+00:00", "203.0.113.10", "Mozilla/5.0 (iPhone)")],
    ),
    # the X-Forwarded-For list before the address, quoted or not; the client is its first address
    "nginx_xff_first_filebeat.log": (
        "combined",
        [
            ("s1", "2026-12-07T10:00:00+00:00", "10.5.102.222", "Mozilla/5.0"),
            ("s2", "2026-12-07T10:00:01+00:00", "10.5.102.223", "Mozilla/5.0 (iPhone)"),
            (
                "s3",
                "2026-12-07T10:00:02+00:00",
                "2a02:cf40:10ff:f00f::8000",
                "Mozilla/5.0 (X11; Linux x86_64)",
            ),
            ("s4", "2026-12-07T10:00:03+00:00", "10.2.1.186", "Mozilla/5.0 (Android 14)"),  # "-": no list
        ],
    ),
    "nginx_json_query.log": (
        "json",
        [
            ("s1", "2026-10-01T07:00:01+00:00", "203.0.113.9", "Mozilla/5.0 (iPhone)"),
            ("s2", "2026-10-01T07:00:02+00:00", "203.0.113.10", "Mozilla/5.0 (X11)"),
        ],
    ),
}


def rows(db):
    return [dict(r) for r in db.query("SELECT * FROM redirects ORDER BY byte_offset")]


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_real_fixture_imports_with_no_flags(tmp_path, name):
    fmt_name, expected = FIXTURES[name]
    path = DATA / name
    db = open_db(tmp_path / "t.db")
    res = import_paths(db, [str(path)])
    f = res.files[0]
    assert f.status == "imported", f.message
    assert f.format == fmt_name
    assert f.lines == path.read_bytes().count(b"\n")
    assert f.lines == f.redirects + f.launches + f.ordinary + f.rejected
    assert f.rejected == 0, f.reject_reasons
    got = rows(db)
    assert [(r["state"], r["ts"], r["client_ip"], r["user_agent"]) for r in got] == expected
    for r in got:
        assert r["path"] == CB and r["outcome"] in ("success", "error")
        assert r["extras"] is None, r["extras"]  # nothing of the envelope or the gateway leaked in
    again = import_paths(db, [str(path)])  # the remembered format (docker+combined...) reads it again
    assert again.files[0].status == "up to date" and len(rows(db)) == len(expected)


def test_fixture_details_in_each_formats_own_escaping(tmp_path):
    db = open_db(tmp_path / "t.db")
    import_paths(
        db, [str(DATA / n) for n in ("haproxy_lnav.log", "azure_appgw_v1_docs.json", "iis_filebeat.log")]
    )
    by_state = {}
    for r in rows(db):
        by_state.setdefault(r["state"], []).append(r)
    # HAProxy wrote the raw quotes of the request as #22
    assert sorted(r["error_description"] for r in by_state["s2"]) == ["User denied access", 'User said "no"']
    # Application Gateway v1: the gateway's own parameters are not part of the redirect
    assert [r["user_id"] for r in by_state["s1"]] == [UID, UID, UID]
    # IIS: cs-uri-query joined to cs-uri-stem; the percent-encoded model decoded once
    assert [r["model"] for r in by_state["s3"]] == ["Model 3"]


def test_every_registered_format_is_covered_by_a_detection_case():
    from test_formats import CASES

    covered = set(CASES) | {fmt for fmt, _ in FIXTURES.values()} | {"common", "urls"}
    for name, fmt in FORMATS.items():
        assert fmt.description and fmt.example, name
        assert name in covered or any(c.endswith("+" + name) for c in covered), name
    for name in WRAPPERS:
        assert any(c.startswith(name + "+") for c in covered), name


# --- wrappers ----------------------------------------------------------------------------------


LINE = (
    b'203.0.113.9 - - [01/Oct/2026:09:00:01 +0200] "GET /smartcar/callback?state=a HTTP/1.1" 302 0 "-" "UA"'
)


@pytest.mark.parametrize(
    "wrapped, wrapper, envelope_ts",
    [
        (
            b'{"log":"'
            + LINE.replace(b'"', b'\\"')
            + b'\\n","stream":"stdout","time":"2026-10-01T07:00:05.1Z"}',
            "docker",
            "2026-10-01T07:00:05+00:00",
        ),
        (b"2026-10-01T07:00:05.123456789Z stdout F " + LINE, "cri", "2026-10-01T07:00:05+00:00"),
        (
            b'{"__REALTIME_TIMESTAMP":"1790838005123456","SYSLOG_IDENTIFIER":"nginx","MESSAGE":"'
            + LINE.replace(b'"', b'\\"')
            + b'"}',
            "journald",
            "2026-10-01T07:00:05+00:00",
        ),
        (
            b'{"__REALTIME_TIMESTAMP":"1790838005123456","MESSAGE":' + json.dumps(list(LINE)).encode() + b"}",
            "journald",
            "2026-10-01T07:00:05+00:00",
        ),
        (b"2026-10-01T07:00:05.123456789Z stderr P " + LINE, "cri", "2026-10-01T07:00:05+00:00"),
        (b"nginx-1  | " + LINE, "compose", None),
        (b"\x1b[36mnginx-1  |\x1b[0m 2026-10-01T07:00:05.5Z " + LINE, "compose", "2026-10-01T07:00:05+00:00"),
        (b"Oct  1 09:00:05 web1 nginx: " + LINE, "syslog", None),
        (b"<190>Oct  1 09:00:05 web1 nginx[42]: " + LINE, "syslog", None),
        (b"2026-10-01T09:00:05.5+02:00 web1 nginx[42]: " + LINE, "syslog", "2026-10-01T07:00:05+00:00"),
        (b"<190>1 2026-10-01T07:00:05Z web1 nginx 42 ID47 - " + LINE, "syslog", "2026-10-01T07:00:05+00:00"),
        (
            b'<190>1 2026-10-01T07:00:05Z web1 nginx 42 ID47 [exampleSDID@32473 iut="3" x="a]b"] \xef\xbb\xbf'
            + LINE,
            "syslog",
            "2026-10-01T07:00:05+00:00",
        ),
    ],
)
def test_wrappers_unwrap_to_the_servers_own_line(wrapped, wrapper, envelope_ts):
    assert WRAPPERS[wrapper].unwrap(wrapped) == (LINE, envelope_ts)
    fmt, share = detect_format([wrapped] * 3)
    assert fmt.name == f"{wrapper}+combined" and share == 1.0
    e = fmt.parse(wrapped)
    assert e.ts == "2026-10-01T07:00:01+00:00"  # the server's own time, not the envelope's
    assert e.target == b"/smartcar/callback?state=a" and e.client_ip == "203.0.113.9"
    assert get_format(fmt.name, [wrapped]).parse(wrapped) == e


def test_envelope_time_is_used_when_the_inner_format_has_none():
    line = b'{"log":"/smartcar/callback?state=a\\n","stream":"stdout","time":"2026-10-01T07:00:05Z"}'
    fmt, _ = detect_format([line] * 2)
    assert fmt.name == "docker+urls"
    assert fmt.parse(line).ts == "2026-10-01T07:00:05+00:00"


def test_heroku_keeps_its_own_prefix_and_other_formats_are_not_taken_for_wrapped():
    heroku = (
        b'2018-09-16T15:13:46.677020+00:00 heroku[router]: at=info method=GET path="/cb?state=a" '
        b'host=x.herokuapp.com fwd="203.0.113.9" dyno=web.1 connect=0ms service=1ms status=302 bytes=0'
    )
    assert detect_format([heroku] * 3)[0].name == "heroku"
    assert detect_format([LINE] * 3)[0].name == "combined"
    with pytest.raises(ValueError):
        get_format("nosuch+combined")
    with pytest.raises(ValueError):
        get_format("docker+nosuch")


# --- X-Forwarded-For lists in the combined family ------------------------------------------------


@pytest.mark.parametrize(
    "head, client, forwarded",
    [
        (b"203.0.113.9, 10.0.0.1, 127.0.0.1", "203.0.113.9", "203.0.113.9, 10.0.0.1, 127.0.0.1"),
        (b"203.0.113.9, 10.0.0.1", "203.0.113.9", "203.0.113.9, 10.0.0.1"),
        (b"203.0.113.9,10.0.0.1", "203.0.113.9", "203.0.113.9,10.0.0.1"),
        (b"example.com 203.0.113.9, 10.0.0.1", "203.0.113.9", "203.0.113.9, 10.0.0.1"),
        (b"unknown, 10.0.0.1", None, "unknown, 10.0.0.1"),
        (b"2001:db8::1, 10.0.0.1", "2001:db8::1", "2001:db8::1, 10.0.0.1"),
        (b"203.0.113.9", "203.0.113.9", None),
    ],
)
def test_xff_list_first_address_is_the_client_fast_path_and_regex_agree(head, client, forwarded):
    line = head + LINE[LINE.index(b" - - [") :]
    fast = clf_module._fast_clf(line)
    saved = clf_module._fast_clf
    clf_module._fast_clf = lambda _line: None
    try:
        slow = clf_module.CombinedFormat().parse(line)
    finally:
        clf_module._fast_clf = saved
    assert fast is not None and fast == slow
    assert (fast.client_ip, fast.forwarded_for) == (client, forwarded)
    assert fast.target == b"/smartcar/callback?state=a"


_ADDR = st.sampled_from(["203.0.113.9", "10.0.0.1", "2001:db8::1", "unknown", "-", "127.0.0.1"])


@settings(max_examples=200, deadline=None)
@given(st.lists(_ADDR, min_size=1, max_size=5), st.sampled_from([", ", ","]), st.booleans())
def test_xff_heads_fast_path_equals_regex(addrs, sep, vhost):
    head = ("example.com " if vhost else "") + sep.join(addrs)
    line = head.encode() + LINE[LINE.index(b" - - [") :]
    fast = clf_module._fast_clf(line)
    saved = clf_module._fast_clf
    clf_module._fast_clf = lambda _line: None
    try:
        slow = clf_module.CombinedFormat().parse(line)
    finally:
        clf_module._fast_clf = saved
    assert isinstance(slow, LogEntry)
    if fast is not None:
        assert fast == slow
    first = addrs[0]
    assert slow.client_ip == (None if first in ("-", "unknown") and len(addrs) > 1 or first == "-" else first)


def _slow(line: bytes):
    saved = clf_module._fast_clf
    clf_module._fast_clf = lambda _line: None
    try:
        return clf_module.CombinedFormat().parse(line)
    finally:
        clf_module._fast_clf = saved


@pytest.mark.parametrize(
    "head, client, forwarded",
    [
        (b'"10.5.102.222, 199.96.1.1" 10.2.1.185', "10.5.102.222", "10.5.102.222, 199.96.1.1"),
        (b"10.5.102.222, 199.96.1.1 10.2.1.185", "10.5.102.222", "10.5.102.222, 199.96.1.1"),
        (b'"10.5.102.222,199.96.1.1" 10.2.1.185', "10.5.102.222", "10.5.102.222,199.96.1.1"),
        (b'example.com:80 "10.5.102.222, 199.96.1.1" 10.2.1.185', "10.5.102.222", "10.5.102.222, 199.96.1.1"),
        (b"1.128.3.4 2001:db8::1, 10.0.0.1 10.2.2.121", "2001:db8::1", "2001:db8::1, 10.0.0.1"),
        (b'"203.0.113.9" 10.2.1.185', "203.0.113.9", "203.0.113.9"),
        (b'"-" 10.2.1.185', "10.2.1.185", None),
        (b'"" 10.2.1.185', "10.2.1.185", None),
        (b'"unknown, 10.0.0.1" 10.2.1.185', "10.2.1.185", "unknown, 10.0.0.1"),
        (b'"203.0.113.9, 10.0.0.1" -', "203.0.113.9", "203.0.113.9, 10.0.0.1"),
    ],
)
def test_xff_list_before_the_address_quoted_or_not(head, client, forwarded):
    from smartcar_logs.importer import fused

    line = head + LINE[LINE.index(b" - - [") :]
    slow = _slow(line)
    assert isinstance(slow, LogEntry), slow
    assert (slow.client_ip, slow.forwarded_for) == (client, forwarded)
    assert slow.target == b"/smartcar/callback?state=a" and slow.status is not None
    assert clf_module.CombinedFormat().parse(line) == slow  # the slicing declines, or agrees
    assert fused._LINE(line) is None  # the fused fast path declines: the general reader takes it
    assert detect_format([line])[0].name == "combined"
    common = line[: line.rindex(b' "-" "')]  # the same head in the common format
    assert detect_format([common])[0].name == "common"
    assert clf_module.CommonFormat().parse(common).client_ip == client


@settings(max_examples=200, deadline=None)
@given(
    st.lists(_ADDR, min_size=1, max_size=4),
    st.sampled_from([", ", ","]),
    st.booleans(),
    st.booleans(),
    st.sampled_from(["10.2.1.185", "2001:db8::2"]),
)
def test_xff_before_the_address_fast_path_equals_regex(addrs, sep, quoted, vhost, addr):
    listed = sep.join(addrs)
    if not quoted and (len(addrs) < 2 or sep == ","):
        return  # one unquoted address reads as a vhost; "a,b" unquoted as one address
    head = ("example.com " if vhost else "") + (f'"{listed}"' if quoted else listed) + " " + addr
    line = head.encode() + LINE[LINE.index(b" - - [") :]
    slow = _slow(line)
    assert isinstance(slow, LogEntry), (line, slow)
    assert clf_module.CombinedFormat().parse(line) == slow
    first = addrs[0]
    assert slow.client_ip == (addr if first in ("-", "unknown") else first)


# --- JSON: query fields, vendors, --url-field --------------------------------------------------


def test_json_query_in_its_own_field_and_request_path_before_request():
    fmt = get_format("json")
    for obj, want in [
        ({"path": CB, "request_query": "state=a", "time": 1790838001}, b"/smartcar/callback?state=a"),
        ({"uri": CB, "query_string": "?state=a"}, b"/smartcar/callback?state=a"),
        ({"uri": CB, "args": "state=a"}, b"/smartcar/callback?state=a"),
        ({"request_path": CB, "request": f"{CB}?state=a"}, b"/smartcar/callback?state=a"),
        ({"request_path": CB, "request": f"GET {CB}?state=a HTTP/1.1"}, b"/smartcar/callback?state=a"),
        ({"request_uri": CB}, b"/smartcar/callback"),
    ]:
        e = fmt.parse(json.dumps(obj).encode())
        assert isinstance(e, LogEntry) and e.target == want, obj


def test_forced_json_reads_vendor_fields():
    traefik = {
        "ClientHost": "203.0.113.9",
        "RequestPath": f"{CB}?state=a",
        "StartUTC": "2026-10-01T07:00:01Z",
        "DownstreamStatus": 302,
        "request_User-Agent": "UA",
    }
    cloudflare = {
        "ClientIP": "203.0.113.9",
        "ClientRequestURI": f"{CB}?state=a",
        "EdgeStartTimestamp": 1790838001,
        "EdgeResponseStatus": 302,
        "ClientRequestUserAgent": "UA",
    }
    for obj in (traefik, cloudflare):
        e = get_format("json").parse(json.dumps(obj).encode())
        assert (e.target, e.ts, e.status, e.client_ip, e.user_agent) == (
            b"/smartcar/callback?state=a",
            "2026-10-01T07:00:01+00:00",
            302,
            "203.0.113.9",
            "UA",
        )


def test_kong_is_not_caddy_and_caddy_stays_caddy():
    kong = json.loads((DATA / "kong_docs.json").read_text().splitlines()[1])
    caddy = {
        "level": "info",
        "ts": 1646861401.52,
        "logger": "http.log.access",
        "request": {
            "client_ip": "203.0.113.9",
            "method": "GET",
            "uri": f"{CB}?state=a",
            "headers": {"User-Agent": ["UA"]},
        },
        "status": 302,
    }
    assert detect_format([json.dumps(kong).encode()])[0].name == "kong"
    assert detect_format([json.dumps(caddy).encode()])[0].name == "caddy"


def test_gcp_remote_ip_without_port():
    obj = {
        "httpRequest": {
            "requestUrl": f"https://app.example.com{CB}?state=a",
            "status": 302,
            "remoteIp": "203.0.113.9:52001",
        },
        "timestamp": "2026-10-01T07:00:01Z",
    }
    assert get_format("gcp").parse(json.dumps(obj).encode()).client_ip == "203.0.113.9"
    obj["httpRequest"]["remoteIp"] = "2001:db8::1"
    assert get_format("gcp").parse(json.dumps(obj).encode()).client_ip == "2001:db8::1"
    obj["httpRequest"]["remoteIp"] = "[2001:db8::1]:443"
    assert get_format("gcp").parse(json.dumps(obj).encode()).client_ip == "2001:db8::1"


def test_url_field_holding_a_request_line_or_a_whole_log_line():
    line = LINE.decode()
    for value in (f"GET {CB}?state=a HTTP/1.1", line):
        e = get_format("json", [], {"url_field": "message"}).parse(json.dumps({"message": value}).encode())
        assert isinstance(e, LogEntry) and e.target == b"/smartcar/callback?state=a", value
        assert e.method == "GET"


def test_url_or_time_field_in_no_sample_line_is_an_error_naming_the_fields(tmp_path):
    sample = [json.dumps({"req": {"url": f"{CB}?state=a"}, "when": 1790838001}).encode()]
    with pytest.raises(FormatError, match=r"--url-field 'req.uri' .* req\.url, when"):
        detect_format(sample, {"url_field": "req.uri"})
    with pytest.raises(FormatError, match="--time-field 'time'"):
        get_format("json", sample, {"url_field": "req.url", "time_field": "time"})
    assert detect_format(sample, {"url_field": "req.url"})[0].name == "json"
    # through the command line: an error naming the file, the flag and the fields, exit 1
    path = write(tmp_path, "app.jsonl", b"\n".join(sample) + b"\n")
    r = CliRunner().invoke(cli, ["import", "--db", str(tmp_path / "t.db"), "--url-field", "req.uri", path])
    assert r.exit_code == 1 and "app.jsonl" in r.output and "req.url, when" in r.output


# --- helpful errors ----------------------------------------------------------------------------


def test_no_reader_fits_names_the_closest_and_the_flag():
    bad_time = [LINE.replace(b"01/Oct/2026:09:00:01 +0200", b"2026-10-01 09:00:01")] * 5
    msg = explain_unknown(bad_time)
    assert "closest reader: combined" in msg and "bad timestamp" in msg and "--log-format" in msg
    jsonl = [json.dumps({"evt": {"target": f"{CB}?state=a"}, "when": 1}).encode()] * 3
    msg = explain_unknown(jsonl)
    assert "name it with --url-field evt.target" in msg and "fields seen: evt.target, when" in msg
    msg = explain_unknown([b"%h nothing here"] * 3, {"log_format": "$remote_addr [$time_local] $request_uri"})
    assert "--log-format matches none" in msg
    msg = explain_unknown([LINE] * 3, {"log_format": "$remote_addr [$time_iso8601] $request_uri"})
    assert "read as combined" in msg and "drop --log-format" in msg


def test_utf16_file_is_named_with_the_conversion_command(tmp_path):
    text = (LINE.decode() + "\r\n") * 3
    for enc, bom in (("utf-16-le", b"\xff\xfe"), ("utf-16-be", b"\xfe\xff")):
        data = bom + text.encode(enc)
        assert text_encoding(data) == {"utf-16-le": "UTF-16LE", "utf-16-be": "UTF-16BE"}[enc]
        path = write(tmp_path, f"ps-{enc}.log", data)
        res = import_paths(open_db(tmp_path / f"{enc}.db"), [path])
        assert res.files[0].status == "error"
        assert "UTF-16" in res.files[0].message and "iconv -f UTF-16" in res.files[0].message
    assert text_encoding(LINE) is None


def test_forced_format_reading_under_half_says_what_auto_would_pick(tmp_path):
    haproxy = (DATA / "haproxy_filebeat.log").read_bytes().splitlines()
    note = forced_note(get_format("combined", haproxy), haproxy)
    assert "--format combined reads 0%" in note and "syslog+haproxy" in note
    assert forced_note(get_format("syslog+haproxy", haproxy), haproxy) is None
    res = import_paths(open_db(tmp_path / "t.db"), [str(DATA / "haproxy_filebeat.log")], fmt="combined")
    assert any("auto-detection would read them as syslog+haproxy" in w for w in res.files[0].warnings)


# --- every new reader on mangled lines ------------------------------------------------------------


def test_new_readers_and_wrappers_never_raise_on_mangled_lines():
    rnd = random.Random(11)
    seeds = [ln for p in sorted(DATA.iterdir()) for ln in p.read_bytes().splitlines() if ln.strip()]
    readers = [get_format(n, [], {}) for n in FORMATS if n != "custom"]
    readers += [get_format(f"{w}+{n}") for w in WRAPPERS for n in ("combined", "haproxy", "json")]
    junk = b' "\\[]{}:,\t%?&=-09\xff\xc3/#|<>'
    for _ in range(400):
        s = bytearray(rnd.choice(seeds))
        for _ in range(rnd.randint(1, 5)):
            pos = rnd.randrange(len(s) + 1)
            if rnd.random() < 0.5:
                del s[pos : pos + rnd.randint(1, 8)]
            else:
                s[pos:pos] = bytes(rnd.choice(junk) for _ in range(rnd.randint(1, 4)))
        for r in readers:
            e = r.parse(bytes(s))
            assert e is None or isinstance(e, (str, LogEntry))
            if isinstance(e, LogEntry):
                assert isinstance(e.target, bytes) and (e.ts is None or e.ts.endswith("+00:00"))


def test_azure_records_document_and_forced_wrapped_format(tmp_path):
    records = [json.loads(ln) for ln in (DATA / "azure_frontdoor_integrations.json").read_text().splitlines()]
    doc = json.dumps({"records": records}, indent=2)  # Event Hub / older storage blobs: one document
    path = write(tmp_path, "PT1H.json", doc)
    db = open_db(tmp_path / "t.db")
    f = import_paths(db, [path]).files[0]
    assert (f.status, f.format, f.lines, f.redirects) == ("imported", "azure", 2, 1)
    assert [(r["state"], r["client_ip"]) for r in rows(db)] == [("s3", "203.0.113.11")]
    # a wrapped format can be forced by its compound name
    r = CliRunner().invoke(
        cli,
        [
            "import",
            "--db",
            str(tmp_path / "w.db"),
            "--json",
            "--format",
            "syslog+haproxy",
            str(DATA / "haproxy_lnav.log"),
        ],
    )
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["inserted"] == 2
    assert (
        CliRunner()
        .invoke(cli, ["import", "--db", str(tmp_path / "w.db"), "--format", "gzip+haproxy", path])
        .exit_code
        == 2
    )


def test_haproxy_documented_examples_raw_and_httpslog():
    # HAProxy configuration manual, "HTTP log format" example, with `log stdout format raw`
    # (no syslog prefix), then the same with a redirect and httpslog's trailing TLS fields.
    doc = (
        b"10.0.1.2:33317 [06/Feb/2009:12:14:14.655] http-in static/srv1 10/0/30/69/109 200 2750 - - ---- "
        b'1/1/1/1/0 0/0 {1wt.eu} {} "GET /index.html HTTP/1.1"'
    )
    red = doc.replace(b"/index.html", f"{CB}?state=a".encode()).replace(b" 200 ", b" 302 ")
    tls = red + b" 0/0/0/0/0 app.example.com/TLSv1.3/TLS_AES_256_GCM_SHA384"
    fmt, share = detect_format([doc, red, tls])
    assert (fmt.name, share) == ("haproxy", 1.0)
    for line in (red, tls):
        e = fmt.parse(line)
        assert (e.target, e.ts, e.status, e.client_ip, e.user_agent) == (
            b"/smartcar/callback?state=a",
            "2009-02-06T12:14:14+00:00",
            302,
            "10.0.1.2",
            None,  # the captured header is a Host, not a user agent
        )
    assert fmt.parse(b"Proxy http-in started.") is None
    assert (
        fmt.parse(b"10.0.1.2:33317 [06/Feb/2009:12:14:14.655] fe be/srv 0/0/5007 212 -- 0/0/0/0/3 0/0")
        is None
    )


def test_wrapped_format_in_worker_processes_gives_the_serial_rows(tmp_path, monkeypatch):
    from smartcar_logs.importer import scan

    lines = []
    for i in range(3000):
        target = f"{CB}?user_id={UID}&state=w{i}" if i % 7 == 0 else f"/page/{i}"
        inner = LINE.decode().replace("/smartcar/callback?state=a", target)
        lines.append(json.dumps({"log": inner + "\n", "stream": "stdout", "time": "2026-10-01T07:00:05Z"}))
    path = write(tmp_path, "web-json.log", "\n".join(lines) + "\n")
    serial_db = open_db(tmp_path / "s.db")
    serial = import_paths(serial_db, [path], chunk_size=64 * 1024, jobs=1)
    monkeypatch.setattr(scan, "PARALLEL_MIN_BYTES", 0)
    par_db = open_db(tmp_path / "p.db")
    par = import_paths(par_db, [path], chunk_size=64 * 1024, jobs=2)
    assert par.files[0].format == serial.files[0].format == "docker+combined"
    assert par.redirects == serial.redirects == 429 and par.rejected == 0
    q = "SELECT state, ts, client_ip, user_agent FROM redirects ORDER BY byte_offset"
    assert par_db.execute(q).fetchall() == serial_db.execute(q).fetchall()
