"""Log formats: each reader on lines laid out as the vendor documents them, and auto-detection.

The example lines follow the vendors' documented layouts (AWS ELB/ALB and CloudFront access
log docs, Google's LogEntry/HttpRequest, Caddy, Traefik, Heroku router, Cloudflare Logpush,
nginx escape=json), with a Smartcar Connect redirect put in the request.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from logs import CB, UID
from logs import clf_text as clf
from smartcar_logs import formats as F
from smartcar_logs.cli import cli
from smartcar_logs.formats import FORMATS, LogEntry, detect_format, get_format
from smartcar_logs.importer import import_paths
from smartcar_logs.importer.paths import _target_path
from smartcar_logs.store import open_db
from test_formats_fixtures import FIXTURES

OK = f"{CB}?user_id={UID}&state=s1"
DENIED = f"{CB}?error=access_denied&error_description=User+denied+access&state=s2"
INCOMPATIBLE = f"{CB}?error=vehicle_incompatible&make=Tesla&model=Model%203&year=2021&state=s3"


def write(tmp_path: Path, name: str, data: str | bytes) -> str:
    p = tmp_path / name
    p.write_bytes(data.encode() if isinstance(data, str) else data)
    return str(p)


def rows(db):
    return [dict(r) for r in db.query("SELECT * FROM redirects ORDER BY byte_offset")]


def check_sum(res):
    for f in res.files:
        assert f.lines == f.redirects + f.launches + f.ordinary + f.rejected, f
    assert res.lines_read == res.redirects + res.launches + res.ordinary + res.rejected


def entry(fmt_name: str, line: str | bytes, sample=(), **options) -> LogEntry | str | None:
    b = line.encode() if isinstance(line, str) else line
    fmt = get_format(fmt_name, [s.encode() for s in sample], options)
    return fmt.parse(b.rstrip(b"\n"))


# --- sample-line builders (layouts from the vendors' docs) ---------------------------------------


def alb(
    target: str,
    *,
    t="2018-07-02T22:23:00.186641Z",
    client="192.168.131.39:2817",
    status=302,
    host="www.example.com:443",
    kind="https",
    extra="",
) -> str:
    # AWS docs "Example HTTPS entry" with our request; `extra` = fields AWS may append later.
    return (
        f"{kind} {t} app/my-loadbalancer/50dc6c495c0c9188 {client} 10.0.0.1:80 0.086 0.048 0.037 "
        f'{status} {status} 0 57 "GET https://{host}{target} HTTP/1.1" "curl/7.46.0" '
        "ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 "
        "arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067 "
        '"Root=1-58337281-1d84f3d73c47ec4e58577259" "www.example.com" '
        '"arn:aws:acm:us-east-2:123456789012:certificate/12345678-1234-1234-1234-123456789012" '
        '1 2018-07-02T22:22:48.364000Z "authenticate,forward" "-" "-" "10.0.0.1:80" "200" "-" "-"'
        f"{extra}\n"
    )


def elb(target: str, *, t="2015-05-13T23:39:43.945958Z", client="192.168.131.39:2817", status=302) -> str:
    # AWS Classic Load Balancer docs, "Example HTTPS entry".
    return (
        f"{t} my-loadbalancer {client} 10.0.0.1:443 0.000086 0.001048 0.001337 {status} {status} 0 57 "
        f'"GET https://www.example.com:443{target} HTTP/1.1" "curl/7.38.0" DHE-RSA-AES128-SHA TLSv1.2\n'
    )


CF_HEADER = "#Version: 1.0\n#Fields: " + " ".join(F.CLOUDFRONT_FIELDS) + "\n"


def cloudfront(stem: str, query: str, *, date="2019-12-04", time="21:02:31", status=302) -> str:
    # AWS CloudFront docs example line (web distribution), our stem/query/status.
    ua = "Mozilla/5.0%20(Windows%20NT%2010.0;%20Win64;%20x64)%20AppleWebKit/537.36"
    return (
        "\t".join(
            [
                date,
                time,
                "LAX1",
                "392",
                "192.0.2.100",
                "GET",
                "d111111abcdef8.cloudfront.net",
                stem,
                str(status),
                "-",
                ua,
                query,
                "-",
                "Miss",
                "SOX4xwn4XV6Q4rgb7XiVGOHms_BGlTAC4KyHmureZmBNrjGdRLiNIQ==",
                "app.example.com",
                "https",
                "23",
                "0.001",
                "-",
                "TLSv1.2",
                "ECDHE-RSA-AES128-GCM-SHA256",
                "Miss",
                "HTTP/2.0",
                "-",
                "-",
                "11040",
                "0.001",
                "Miss",
                "text/html",
                "78",
                "-",
                "-",
            ]
        )
        + "\n"
    )


def cf_query(target: str) -> tuple[str, str]:
    """CloudFront's own layer: % -> %25 (and space -> %20) on top of the as-sent query."""
    stem, _, q = target.partition("?")
    return stem, (q.replace("%", "%25").replace(" ", "%20") if q else "-")


def gcp_obj(url: str, *, status=302, ts="2018-08-06T07:55:14.708181828Z") -> dict:
    # LogEntry with HttpRequest (proto3 JSON: int64 as strings, Duration as "0.01s").
    return {
        "httpRequest": {
            "requestMethod": "GET",
            "requestUrl": f"https://app.example.com{url}",
            "requestSize": "254",
            "status": status,
            "responseSize": "386",
            "userAgent": "Mozilla/5.0 (X11; Linux x86_64)",
            "remoteIp": "203.0.113.9",
            "serverIp": "10.8.0.3",
            "latency": "0.012345s",
            "protocol": "HTTP/1.1",
        },
        "insertId": "65f1b2c3000a1b2c3d4e5f67",
        "labels": {"instanceId": "00c61b117c"},
        "logName": "projects/my-project/logs/run.googleapis.com%2Frequests",
        "receiveTimestamp": "2018-08-06T07:55:15.012345678Z",
        "resource": {"type": "cloud_run_revision", "labels": {"service_name": "app"}},
        "severity": "INFO",
        "timestamp": ts,
        "trace": "projects/my-project/traces/abc",
    }


def gcp(url: str, **kw) -> str:
    return json.dumps(gcp_obj(url, **kw), separators=(",", ":")) + "\n"


def caddy(uri: str, *, ts=1646861401.5241024, status=302) -> str:
    return (
        json.dumps(
            {
                "level": "info",
                "ts": ts,
                "logger": "http.log.access.log0",
                "msg": "handled request",
                "request": {
                    "remote_ip": "127.0.0.1",
                    "remote_port": "41342",
                    "client_ip": "203.0.113.9",
                    "proto": "HTTP/2.0",
                    "method": "GET",
                    "host": "app.example.com",
                    "uri": uri,
                    "headers": {"User-Agent": ["curl/7.82.0"], "Accept": ["*/*"]},
                    "tls": {
                        "resumed": False,
                        "version": 772,
                        "cipher_suite": 4865,
                        "proto": "h2",
                        "server_name": "app.example.com",
                    },
                },
                "bytes_read": 0,
                "user_id": "",
                "duration": 0.000929675,
                "size": 10900,
                "status": status,
                "resp_headers": {"Server": ["Caddy"], "Content-Type": ["text/html; charset=utf-8"]},
            }
        )
        + "\n"
    )


def traefik_json(path: str, *, start="2026-10-01T07:00:01.123456789Z", status=302) -> str:
    # Go's encoder writes & as \u0026: json.dumps escapes nothing there, so do it by hand.
    return (
        json.dumps(
            {
                "ClientAddr": "203.0.113.9:52334",
                "ClientHost": "203.0.113.9",
                "ClientPort": "52334",
                "ClientUsername": "-",
                "DownstreamContentSize": 0,
                "DownstreamStatus": status,
                "Duration": 1264312,
                "OriginContentSize": 0,
                "OriginDuration": 1105567,
                "OriginStatus": status,
                "Overhead": 158745,
                "RequestAddr": "app.example.com",
                "RequestContentSize": 0,
                "RequestCount": 42,
                "RequestHost": "app.example.com",
                "RequestMethod": "GET",
                "RequestPath": path,
                "RequestPort": "-",
                "RequestProtocol": "HTTP/2.0",
                "RequestScheme": "https",
                "RetryAttempts": 0,
                "RouterName": "app@docker",
                "ServiceAddr": "10.0.0.5:8080",
                "ServiceName": "app@docker",
                "ServiceURL": {"Scheme": "http", "Host": "10.0.0.5:8080"},
                "StartLocal": "2026-10-01T09:00:01.123456789+02:00",
                "StartUTC": start,
                "entryPointName": "websecure",
                "level": "info",
                "msg": "",
                "time": "2026-10-01T09:00:01+02:00",
                "request_User-Agent": "Mozilla/5.0",
            }
        ).replace("&", "\\u0026")
        + "\n"
    )


def traefik_clf(target: str, *, status=302) -> str:
    return (
        f'203.0.113.9 - - [01/Oct/2026:09:00:01 +0200] "GET {target} HTTP/2.0" {status} 0 "-" '
        f'"Mozilla/5.0" 42 "app@docker" "http://10.0.0.5:8080" 3ms\n'
    )


def heroku(path: str, *, t="2018-09-16T15:13:46.677020+00:00", status=302, quoted=True) -> str:
    p = f'"{path}"' if quoted else path
    return (
        f"{t} heroku[router]: at=info method=GET path={p} host=myapp.herokuapp.com "
        f'request_id=8601b555-6a83-4c12-8269-97c8e32cdb22 fwd="204.204.204.204" dyno=web.1 '
        f"connect=0ms service=1ms status={status} bytes=147 protocol=https\n"
    )


def cloudflare(uri: str, *, ts=1506702504433000200, status=302) -> str:
    return (
        json.dumps(
            {
                "ClientIP": "89.163.242.206",
                "ClientRequestHost": "app.example.com",
                "ClientRequestMethod": "GET",
                "ClientRequestURI": uri,
                "ClientRequestUserAgent": "Mozilla/5.0",
                "EdgeEndTimestamp": 1506702504461999900,
                "EdgeResponseBytes": 69045,
                "EdgeResponseStatus": status,
                "EdgeStartTimestamp": ts,
                "RayID": "3a6050bcbe121a87",
            }
        )
        + "\n"
    )


def nginx_json(uri: str, *, t="2026-10-01T09:00:01+02:00", status=302) -> str:
    # log_format j escape=json '{"time_iso8601":"$time_iso8601","remote_addr":"$remote_addr",...}'
    return (
        f'{{"time_iso8601":"{t}","remote_addr":"203.0.113.9","request_method":"GET",'
        f'"request_uri":"{uri}","status":"{status:d}","body_bytes_sent":"0","http_referer":"",'
        '"http_user_agent":"Mozilla/5.0"}\n'
    )


# --- ALB / ELB ---------------------------------------------------------------------------------------


def test_alb_documented_line_absolute_url_with_port():
    e = entry("alb", alb(OK))
    assert e.target == f"https://www.example.com:443{OK}".encode()
    assert _target_path(e.target) == CB
    assert (e.ts, e.method, e.status, e.client_ip, e.user_agent) == (
        "2018-07-02T22:23:00+00:00",
        "GET",
        302,
        "192.168.131.39",
        "curl/7.46.0",
    )


def test_alb_quote_escape_trailing_fields_and_ipv6():
    # A literal " in the URL is logged as \x22; fields AWS adds later are ignored.
    line = alb(
        f"{CB}?error=vehicle_incompatible&model=C\\x224&state=q",
        client="2001:db8::1:50718",
        extra=' "TGT" "Classification" "reason" TID-1234 future1 "future 2"',
    )
    e = entry("alb", line)
    assert e.target.endswith(b'model=C"4&state=q') and e.client_ip == "2001:db8::1"
    assert entry("alb", alb(OK, client="[2001:db8::1]:443")).client_ip == "2001:db8::1"
    assert entry("alb", alb(OK, kind="h2")).status == 302
    assert entry("alb", alb(OK, kind="bogus")) == "not an ALB log line"
    # A malformed request is logged as "- - - ": a rejection, not an exception.
    assert (
        entry("alb", alb(OK).replace(f"GET https://www.example.com:443{OK} HTTP/1.1", "- - - "))
        == "malformed request line"
    )


def test_elb_classic_layout():
    e = entry("elb", elb(OK, client="2001:db8::7:2817"))
    assert _target_path(e.target) == CB and e.ts == "2015-05-13T23:39:43+00:00"
    assert e.client_ip == "2001:db8::7" and e.status == 302
    assert not FORMATS["elb"].matches(alb(OK).encode())
    assert not FORMATS["alb"].matches(elb(OK).encode())


# --- CloudFront ----------------------------------------------------------------------------------------


def test_cloudfront_undoes_its_own_percent_layer_once():
    # As sent: error_description=User%20denied%20access&state=a%2Fb ; CloudFront logs %2520, %252F.
    stem, q = cf_query(f"{CB}?error=access_denied&error_description=User%20denied%20access&state=a%2Fb")
    assert "%2520" in q and "%252F" in q
    e = entry("cloudfront", cloudfront(stem, q), sample=CF_HEADER.splitlines())
    assert (
        e.target == f"{CB}?error=access_denied&error_description=User%20denied%20access&state=a%2Fb".encode()
    )
    assert e.ts == "2019-12-04T21:02:31+00:00" and e.status == 302 and e.client_ip == "192.0.2.100"
    assert e.user_agent.startswith("Mozilla/5.0 (Windows NT 10.0;")


def test_cloudfront_dash_query_headers_and_fields_order():
    assert entry("cloudfront", cloudfront("/index.html", "-")).target == b"/index.html"
    assert entry("cloudfront", "#Version: 1.0") is None  # header lines are ordinary
    assert entry("cloudfront", CF_HEADER.splitlines()[1]) is None
    # An older 18-field file with its own #Fields order: the header drives the reader.
    names = "date time x-edge-location sc-bytes c-ip cs-method cs(Host) cs-uri-stem sc-status cs(Referer) cs(User-Agent) cs-uri-query".split()
    custom = ["time", "date", "cs-uri-query", "cs-uri-stem", "sc-status", "c-ip"]
    header = "#Fields: " + " ".join(custom)
    line = "\t".join(["07:08:09", "2014-01-02", f"user_id={UID}&state=old", CB, "302", "198.51.100.7"])
    e = entry("cloudfront", line, sample=["#Version: 1.0", header])
    assert e.ts == "2014-01-02T07:08:09+00:00" and e.target == f"{CB}?user_id={UID}&state=old".encode()
    assert (
        len(names) == 12
        and entry("cloudfront", "a\tb", sample=[header]) == "fewer fields than the #Fields header"
    )


# --- Heroku ----------------------------------------------------------------------------------------------


def test_heroku_router_quoted_and_bare_path_and_drain_framing():
    e = entry("heroku", heroku(OK))
    assert e.target == OK.encode() and e.ts == "2018-09-16T15:13:46+00:00"
    assert (e.method, e.status, e.client_ip, e.user_agent) == ("GET", 302, "204.204.204.204", None)
    assert entry("heroku", heroku(OK, quoted=False)).target == OK.encode()
    drain = f'<158>1 2012-10-11T03:47:20+00:00 host heroku router - at=info method=GET path="{OK}" fwd="1.2.3.4, 10.0.0.1" status=302'
    e = entry("heroku", drain)
    assert e.ts == "2012-10-11T03:47:20+00:00" and e.client_ip == "1.2.3.4"
    err = f'2018-09-16T15:13:46.677020+00:00 heroku[router]: at=error code=H12 desc="Request timeout" method=GET path="{OK}" status=503'
    assert entry("heroku", err).status == 503
    # App output (even with redirect-like text) is an ordinary line, not a reject.
    assert entry("heroku", f"2018-09-16T15:13:47+00:00 app[web.1]: callback user_id={UID}") is None
    assert isinstance(entry("heroku", "plain text user_id=1"), str)


# --- JSON formats ------------------------------------------------------------------------------------------


def test_gcp_request_log_status_as_int_or_string():
    e = entry("gcp", gcp(OK))
    assert e.target == f"https://app.example.com{OK}".encode() and _target_path(e.target) == CB
    assert (e.ts, e.method, e.status, e.client_ip) == ("2018-08-06T07:55:14+00:00", "GET", 302, "203.0.113.9")
    assert entry("gcp", gcp(OK, status="302")).status == 302
    app_log = json.dumps({"textPayload": f"got user_id={UID}", "timestamp": "2018-08-06T07:55:14Z"})
    assert entry("gcp", app_log) is None
    assert entry("gcp", "{not json") == "not a JSON object"


def test_caddy_epoch_float_and_header_arrays():
    e = entry("caddy", caddy(OK))
    assert (e.target, e.ts, e.status, e.client_ip, e.user_agent) == (
        OK.encode(),
        "2022-03-09T21:30:01+00:00",
        302,
        "203.0.113.9",
        "curl/7.82.0",
    )
    assert entry("caddy", caddy(OK, ts="2022-03-09T21:30:01.52Z")).ts == "2022-03-09T21:30:01+00:00"
    assert entry("caddy", caddy(OK, ts=1646861401524.1)).ts == "2022-03-09T21:30:01+00:00"  # unix_milli_float


def test_traefik_json_go_escaped_ampersand():
    line = traefik_json(OK)
    assert "\\u0026" in line
    e = entry("traefik-json", line)
    assert e.target == OK.encode() and e.ts == "2026-10-01T07:00:01+00:00"
    assert (e.status, e.client_ip, e.user_agent, e.method) == (302, "203.0.113.9", "Mozilla/5.0", "GET")


def test_cloudflare_timestamp_variants():
    assert entry("cloudflare", cloudflare(OK)).ts == "2017-09-29T16:28:24+00:00"  # unixnano int
    assert entry("cloudflare", cloudflare(OK, ts=1506702504)).ts == "2017-09-29T16:28:24+00:00"
    assert entry("cloudflare", cloudflare(OK, ts="2017-09-29T16:28:24Z")).ts == "2017-09-29T16:28:24+00:00"
    assert entry("cloudflare", cloudflare(OK, ts="1506702504433000200")).ts == "2017-09-29T16:28:24+00:00"
    e = entry("cloudflare", cloudflare(OK))
    assert (e.target, e.status, e.client_ip, e.method) == (OK.encode(), 302, "89.163.242.206", "GET")
    assert entry("cloudflare", cloudflare(OK, ts="yesterday")) == "bad timestamp"


def test_nginx_escape_json_raw_high_bytes_survive():
    # escape=json leaves bytes >= 0x80 raw: here valid UTF-8 (ë) and an invalid \xff.
    line = (
        nginx_json(f"{CB}?error=vehicle_incompatible&make=CitroXn&state=bad\\u0026x")
        .encode()
        .replace(b"X", "ë".encode())
        .replace(b"bad", b"b\xffd")
    )
    e = entry("json", line)
    assert e.target == f"{CB}?error=vehicle_incompatible&make=Citroën&state=b".encode() + b"\xffd&x"
    assert (e.ts, e.status, e.client_ip, e.method) == ("2026-10-01T07:00:01+00:00", 302, "203.0.113.9", "GET")


def test_json_known_fields_request_line_and_uri_plus_args():
    e = entry(
        "json",
        json.dumps(
            {"time_local": "01/Oct/2026:09:00:01 +0200", "request": f"GET {OK} HTTP/1.1", "status": 302}
        ),
    )
    assert e.target == OK.encode() and e.method == "GET" and e.ts == "2026-10-01T07:00:01+00:00"
    e = entry("json", json.dumps({"msec": "1790838001.123", "uri": CB, "args": f"user_id={UID}&state=a"}))
    assert e.target == f"{CB}?user_id={UID}&state=a".encode() and e.ts == "2026-10-01T07:00:01+00:00"
    assert entry("json", json.dumps({"msg": "no url here", "level": "info"})) is None


def test_json_url_and_time_field_options_dotted():
    line = json.dumps({"evt": {"http": {"target": OK}}, "when": {"at": 1790838001}})
    assert entry("json", line) is None  # unknown names: not a request record
    e = entry("json", line, url_field="evt.http.target", time_field="when.at")
    assert e.target == OK.encode() and e.ts == "2026-10-01T07:00:01+00:00"
    assert entry("json", json.dumps({"u": OK, "t": "soon"}), url_field="u", time_field="t") == "bad timestamp"


# --- custom LogFormat / log_format -----------------------------------------------------------------------


def test_custom_apache_logformat_with_pasted_escapes():
    fmt = r"%v:%p %a %l %u %t \"%r\" %>s %O \"%{Referer}i\" \"%{User-Agent}i\" %D"
    line = f'app.example.com:443 203.0.113.9 - - [01/Oct/2026:09:00:01 +0200] "GET {CB}?error=x&model=\\"S\\"&state=c HTTP/1.1" 302 512 "-" "UA \\"q\\"" 1234'
    e = entry("custom", line, log_format=fmt)
    assert e.target == f'{CB}?error=x&model="S"&state=c'.encode()
    assert (e.ts, e.status, e.client_ip, e.user_agent) == (
        "2026-10-01T07:00:01+00:00",
        302,
        "203.0.113.9",
        'UA "q"',
    )


def test_custom_apache_path_and_query_and_epoch():
    e = entry("custom", f"1790838001 {CB}?user_id={UID}&state=u 302", log_format="%{sec}t %U%q %>s")
    assert e.target == f"{CB}?user_id={UID}&state=u".encode() and e.ts == "2026-10-01T07:00:01+00:00"
    assert entry("custom", f"1790838001 {CB} 200", log_format="%{sec}t %U%q %>s").target == CB.encode()


def test_custom_apache_strftime_time_layouts():
    e = entry(
        "custom",
        f'1.2.3.4 [01/Oct/2026 09:00:01 +0200] "GET {OK} HTTP/1.1" 302',
        log_format='%h [%{%d/%b/%Y %T %z}t] "%r" %>s',
    )
    assert e.ts == "2026-10-01T07:00:01+00:00" and e.target == OK.encode()
    # No zone in the layout: read as UTC. The _frac part is skipped.
    e = entry(
        "custom",
        f'1.2.3.4 2026-10-01T09:00:01.123 "GET {OK} HTTP/1.1" 302',
        log_format='%h %{%Y-%m-%dT%H:%M:%S}t.%{msec_frac}t "%r" %>s',
    )
    assert e.ts == "2026-10-01T09:00:01+00:00"
    assert (
        entry(
            "custom",
            f'1.2.3.4 2026-13-01T09:00:01.1 "GET {OK} HTTP/1.1" 302',
            log_format='%h %{%Y-%m-%dT%H:%M:%S}t.%{msec_frac}t "%r" %>s',
        )
        == "bad timestamp"
    )


def test_custom_nginx_log_format_variants():
    fmt = (
        '[$time_iso8601] $remote_addr "$request" $status $body_bytes_sent "$http_user_agent" rt=$request_time'
    )
    e = entry(
        "custom",
        f'[2026-10-01T09:00:01+02:00] 203.0.113.9 "GET {OK} HTTP/1.1" 302 0 "curl/8 \\x22x\\x22" rt=0.003',
        log_format=fmt,
    )
    assert e.target == OK.encode() and e.ts == "2026-10-01T07:00:01+00:00" and e.user_agent == 'curl/8 "x"'
    e = entry(
        "custom",
        f"203.0.113.9 [01/Oct/2026:09:00:01 +0200] {CB}?user_id={UID}&state=n 302",
        log_format="$remote_addr [$time_local] $uri$is_args$args $status",
    )
    assert e.target == f"{CB}?user_id={UID}&state=n".encode()
    assert entry("custom", "garbage", log_format=fmt) == "line does not match --log-format"
    with pytest.raises(ValueError):
        F.CustomFormat("%h %t %>s")  # no request in it
    with pytest.raises(ValueError):
        get_format("custom")


# --- time helpers -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, want",
    [
        (1506702504, "2017-09-29T16:28:24+00:00"),
        (1506702504.999, "2017-09-29T16:28:24+00:00"),
        (1506702504433, "2017-09-29T16:28:24+00:00"),
        (1506702504433000, "2017-09-29T16:28:24+00:00"),
        (1506702504433000200, "2017-09-29T16:28:24+00:00"),
        ("1506702504.433", "2017-09-29T16:28:24+00:00"),
        (0.003, None),
        (True, None),
        ("abc", None),
    ],
)
def test_parse_epoch_time(value, want):
    assert F.parse_epoch_time(value) == want


def test_parse_any_time():
    assert F.parse_any_time("2018-08-06T07:55:14.708181828Z") == "2018-08-06T07:55:14+00:00"
    assert F.parse_any_time("[01/Oct/2026:09:00:01 +0200]") == "2026-10-01T07:00:01+00:00"
    assert F.parse_any_time("2026-10-01 09:00:01+02:00") == "2026-10-01T07:00:01+00:00"
    assert F.parse_any_time(None) is None and F.parse_any_time({"a": 1}) is None


# --- auto-detection end to end ----------------------------------------------------------------------------

ODD = "this line is not part of any log format\n"

# name -> (file text, format options). Each holds the three redirects below (in this order)
# plus ordinary lines; several start with an odd line that detection must shrug off.
CASES = {
    "alb": (
        ODD
        + alb("/index.html", status=200)
        + alb(OK)
        + alb(DENIED, t="2018-07-02T22:24:00.000001Z")
        + alb(INCOMPATIBLE, t="2018-07-02T22:25:00.5Z", client="2001:db8::1:443"),
        {},
    ),
    "elb": (
        elb("/", status=200)
        + elb(OK)
        + elb(DENIED, t="2015-05-13T23:40:43.945958Z")
        + elb(INCOMPATIBLE, t="2015-05-13T23:41:43Z"),
        {},
    ),
    "cloudfront": (
        CF_HEADER
        + cloudfront("/index.html", "-", status=200)
        + cloudfront(*cf_query(OK))
        + cloudfront(*cf_query(DENIED), time="21:03:31")
        + cloudfront(*cf_query(INCOMPATIBLE), time="21:04:31"),
        {},
    ),
    "heroku": (
        heroku("/", status=200)
        + heroku(OK)
        + f"2018-09-16T15:13:47+00:00 app[web.1]: Redirected with user_id={UID}\n"
        + heroku(DENIED, t="2018-09-16T16:13:46+01:00", quoted=False)
        + heroku(INCOMPATIBLE, t="2018-09-16T15:15:46Z"),
        {},
    ),
    "gcp": (
        ODD
        + gcp("/", status=200)
        + gcp(OK)
        + gcp(DENIED, status="302", ts="2018-08-06T07:56:14Z")
        + json.dumps({"textPayload": f"user_id={UID}", "timestamp": "2018-08-06T07:56:00Z"})
        + "\n"
        + gcp(INCOMPATIBLE, ts="2018-08-06T09:57:14+02:00"),
        {},
    ),
    "cloudflare": (
        cloudflare("/", status=200)
        + cloudflare(OK)
        + cloudflare(DENIED, ts=1506702564)
        + cloudflare(INCOMPATIBLE, ts="2017-09-29T16:30:24Z"),
        {},
    ),
    "traefik-json": (
        traefik_json("/", status=200)
        + traefik_json(OK)
        + traefik_json(DENIED, start="2026-10-01T07:01:01Z")
        + traefik_json(INCOMPATIBLE, start="2026-10-01T07:02:01.5Z"),
        {},
    ),
    "caddy": (
        ODD
        + caddy("/", status=200)
        + caddy(OK)
        + caddy(DENIED, ts=1646861461.0)
        + caddy(INCOMPATIBLE, ts=1646861521),
        {},
    ),
    "traefik-clf": (
        ODD
        + traefik_clf("/", status=200)
        + traefik_clf(OK)
        + traefik_clf(DENIED)
        + traefik_clf(INCOMPATIBLE),
        {},
    ),
    "combined": (ODD + clf("/", status=200) + clf(OK) + clf(DENIED) + clf(INCOMPATIBLE), {}),
    "json": (
        ODD
        + nginx_json("/", status=200)
        + nginx_json(OK)
        + nginx_json(DENIED.replace("&", "\\u0026"))
        + nginx_json(INCOMPATIBLE),
        {},
    ),
    "custom": (
        "".join(
            f"[01/Oct/2026:09:00:01 +0200] 203.0.113.9 {t} {s}\n"
            for t, s in (("/", 200), (OK, 302), (DENIED, 302), (INCOMPATIBLE, 302))
        ),
        {"log_format": "[$time_local] $remote_addr $request_uri $status"},
    ),
}
EXPECTED_TS = {
    "alb": ["2018-07-02T22:23:00+00:00", "2018-07-02T22:24:00+00:00", "2018-07-02T22:25:00+00:00"],
    "elb": ["2015-05-13T23:39:43+00:00", "2015-05-13T23:40:43+00:00", "2015-05-13T23:41:43+00:00"],
    "cloudfront": ["2019-12-04T21:02:31+00:00", "2019-12-04T21:03:31+00:00", "2019-12-04T21:04:31+00:00"],
    "heroku": ["2018-09-16T15:13:46+00:00", "2018-09-16T15:13:46+00:00", "2018-09-16T15:15:46+00:00"],
    "gcp": ["2018-08-06T07:55:14+00:00", "2018-08-06T07:56:14+00:00", "2018-08-06T07:57:14+00:00"],
    "cloudflare": ["2017-09-29T16:28:24+00:00", "2017-09-29T16:29:24+00:00", "2017-09-29T16:30:24+00:00"],
    "traefik-json": ["2026-10-01T07:00:01+00:00", "2026-10-01T07:01:01+00:00", "2026-10-01T07:02:01+00:00"],
    "caddy": ["2022-03-09T21:30:01+00:00", "2022-03-09T21:31:01+00:00", "2022-03-09T21:32:01+00:00"],
    "traefik-clf": ["2026-10-01T07:00:01+00:00"] * 3,
    "combined": ["2026-10-01T07:00:01+00:00"] * 3,
    "json": ["2026-10-01T07:00:01+00:00"] * 3,
    "custom": ["2026-10-01T07:00:01+00:00"] * 3,
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_detection_and_import_per_format(tmp_path, name):
    text, options = CASES[name]
    db = open_db(tmp_path / "t.db")
    res = import_paths(db, [write(tmp_path, f"{name}.log", text)], format_options=options)
    check_sum(res)
    f = res.files[0]
    assert f.status == "imported", f.message
    assert f.format == name
    assert 0.75 <= f.format_share <= 1.0
    assert f.rejected == 0 and f.redirects == 3
    assert f.lines == text.count("\n") and f.ordinary == f.lines - 3
    got = rows(db)
    assert [(r["outcome"], r["error_code"], r["state"], r["path"]) for r in got] == [
        ("success", None, "s1", CB),
        ("error", "access_denied", "s2", CB),
        ("error", "vehicle_incompatible", "s3", CB),
    ]
    assert [r["ts"] for r in got] == EXPECTED_TS[name]
    assert got[1]["error_description"] == "User denied access"
    assert got[2]["model"] == "Model 3" and got[2]["http_status"] == 302


def test_every_registered_format_has_docs_and_a_detection_case():
    for name, fmt in FORMATS.items():
        assert fmt.description and fmt.example, name
        # common and urls: tests/test_importer.py; the readers of issue 11: real fixtures
        fixtures = {f.rpartition("+")[2] for f, _ in FIXTURES.values()}
        assert name in CASES or name in ("common", "urls") or name in fixtures, name


def test_detection_is_by_share_not_by_the_first_line():
    lines = [b"garbage", b"more garbage"] + [alb(OK).rstrip("\n").encode()] * 3
    fmt, share = detect_format(lines)
    assert fmt.name == "alb" and share == pytest.approx(3 / 5)
    assert detect_format([b"", b"  "]) == (None, 0.0)


def test_forced_format_and_remembered_format(tmp_path):
    db = open_db(tmp_path / "t.db")
    p = write(tmp_path, "c.log", CASES["caddy"][0])
    res = import_paths(db, [p], fmt="json")  # generic JSON reads Caddy's request.uri too
    assert res.files[0].format == "json" and res.files[0].format_share is None and res.inserted == 3
    # A custom log remembered from an earlier run, imported again without --log-format.
    text, opts = CASES["custom"]
    p2 = tmp_path / "n.log"
    p2.write_text(text)
    first = import_paths(db, [str(p2)], format_options=opts)
    # The settings are the database's: the Caddy file, read as json before, is not re-read
    # with a log format that does not fit it, and keeps its rows (importer/settings.py).
    assert [f.status for f in first.files] == ["not re-read", "imported"] and first.errors == 0
    assert db.execute(
        "SELECT count(*) FROM redirects WHERE source_fp = ?", [res.files[0].fingerprint]
    ).fetchone()[0]
    with p2.open("a") as fh:
        fh.write(f"[01/Oct/2026:09:10:01 +0200] 203.0.113.9 {CB}?user_id={UID}&state=s9 302\n")
    again = import_paths(db, [str(p2)])  # the log format is remembered
    (n,) = [f for f in again.files if f.path == str(p2)]
    assert n.format == "custom" and n.inserted == 1 and n.lines == 1


# --- a JSON array document (gcloud logging read --format=json) ------------------------------------------


def test_gcp_json_array_document(tmp_path):
    elements = [
        gcp_obj("/", status=200),
        gcp_obj(OK),
        {"textPayload": f"user_id={UID}"},
        gcp_obj(DENIED, ts="2018-08-06T07:56:14Z"),
    ]
    doc = json.dumps(elements, indent=2)  # pretty-printed, many lines per element
    db = open_db(tmp_path / "t.db")
    p = write(tmp_path, "gcp.json", doc)
    res = import_paths(db, [p])
    check_sum(res)
    f = res.files[0]
    assert f.format == "gcp" and f.lines == 4 and f.redirects == 2 and f.ordinary == 2
    got = rows(db)
    assert [(r["line_no"], r["state"], r["ts"]) for r in got] == [
        (2, "s1", "2018-08-06T07:55:14+00:00"),
        (4, "s2", "2018-08-06T07:56:14+00:00"),
    ]
    again = import_paths(db, [p])  # same document: nothing new, nothing doubled
    assert again.inserted == 0 and again.lines_read == 0
    gz = write(tmp_path, "gcp.json.gz", gzip.compress(doc.encode()))
    assert import_paths(db, [gz]).inserted == 0  # same content, compressed
    assert db.execute("SELECT count(*) FROM redirects").fetchone()[0] == 2


def test_truncated_json_array_keeps_readable_elements(tmp_path):
    doc = json.dumps([gcp_obj(OK), gcp_obj(DENIED)], indent=1)
    db = open_db(tmp_path / "t.db")
    res = import_paths(db, [write(tmp_path, "cut.json", doc[: len(doc) * 3 // 4])])
    check_sum(res)
    assert res.inserted == 1 and res.lines_read == 2
    assert any("truncated or malformed" in w for w in res.files[0].warnings)


def test_json_document_lines_and_detection_helpers():
    lines, problem = F.json_document_lines(b'\xef\xbb\xbf [ {"a": "x\\ny"} ,\n {"b": [1, 2]} ]\n')
    assert lines == [b'{"a":"x\\ny"}', b'{"b":[1,2]}'] and problem is None
    # Two exports appended to one file; then junk after a complete array.
    assert F.json_document_lines(b'[{"a":1}]\n[{"b":2}]\n') == ([b'{"a":1}', b'{"b":2}'], None)
    lines, problem = F.json_document_lines(b'[{"a":1}]\ntrailing words\n')
    assert lines == [b'{"a":1}', b"trailing words"] and "after element 1" in problem
    assert F.json_document_lines(b"[")[1] is not None
    assert F.is_json_document(b'[\n  {"httpRequest": {}}\n]') and F.is_json_document(b"[]")
    assert not F.is_json_document(b"[01/Oct/2026:09:00:01 +0200] 1.2.3.4 /x 200\n")
    assert not F.is_json_document(b'{"a": 1}\n')


# --- command line --------------------------------------------------------------------------------------------


def run(*args):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_cli_log_format_url_field_and_format_choices(tmp_path):
    text, opts = CASES["custom"]
    log = write(tmp_path, "n.log", text)
    db = str(tmp_path / "x.db")
    r = run("import", "--db", db, "--json", "--log-format", opts["log_format"], log)
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["files"][0]["format"] == "custom" and out["inserted"] == 3

    jl = write(tmp_path, "app.jsonl", json.dumps({"evt": {"target": OK}, "when": 1790838001}) + "\n")
    # The log format is remembered by the database and makes custom the only candidate: a JSON
    # log in the same database takes forgetting it ('' forgets a remembered value).
    r = run(
        "import",
        "--db",
        db,
        "--json",
        "--log-format",
        "",
        "--url-field",
        "evt.target",
        "--time-field",
        "when",
        jl,
    )
    out = json.loads(r.stdout)
    (got,) = [f for f in out["files"] if f["path"] == jl]
    (kept,) = [f for f in out["files"] if f["path"] == log]  # no longer readable: keeps its rows
    assert kept["status"] == "not re-read" and r.exit_code == 0
    assert got["format"] == "json" and got["inserted"] == 1

    human = run("import", "--db", str(tmp_path / "y.db"), write(tmp_path, "h.log", CASES["heroku"][0]))
    assert "format heroku (100% of sample lines matched)" in human.stdout

    assert run("import", "--db", db, "--format", "custom", log).exit_code == 2
    assert run("import", "--db", db, "--log-format", "%h %t", log).exit_code == 2
    assert run("import", "--db", db, "--format", "alb", "--log-format", "%r", log).exit_code == 2
    help_text = run("import", "--help").stdout
    for name in FORMATS:
        assert name in help_text, name


# --- the names users type (issue 22) -----------------------------------------------------------------------


COMMON_LINE = f'203.0.113.9 - - [01/Oct/2026:09:00:01 +0200] "GET {OK} HTTP/1.1" 302 0\n'


@pytest.mark.parametrize("family", ["nginx", "apache"])
def test_server_names_read_as_combined_or_common_detected(tmp_path, family):
    combined = clf(OK).encode().splitlines()
    vhost = clf(OK, vhost="example.com:443").encode().splitlines()
    common = COMMON_LINE.encode().splitlines()
    assert F.is_format_name(family) and F.is_format_name(f"cri+{family}")
    assert get_format(family, combined).name == "combined"
    assert get_format(family, vhost).name == "combined"
    assert get_format(family, common).name == "common"
    assert get_format(family, [b"not a log line"]).name == "combined"  # then forced_note warns
    cri = (Path(__file__).parent / "data" / "formats" / "cri_nginx.log").read_bytes().splitlines()
    assert get_format(f"cri+{family}", cri).name == "cri+combined"
    db = open_db(tmp_path / "t.db")
    res = import_paths(
        db, [write(tmp_path, "c.log", clf(OK)), write(tmp_path, "k.log", COMMON_LINE)], fmt=family
    )
    assert [f.format for f in res.files] == ["combined", "common"]
    assert res.inserted == 2 and all(not f.warnings for f in res.files)
    # a file the family does not read: the warning names what the user typed, and what fits
    haproxy = (Path(__file__).parent / "data" / "formats" / "haproxy_filebeat.log").read_bytes()
    wrong = import_paths(db, [write(tmp_path, "h.log", haproxy)], fmt=family).files[0]
    assert any(
        f"--format {family} reads 0%" in w and "auto-detection would read them as syslog+haproxy" in w
        for w in wrong.warnings
    ), wrong.warnings
    r = run(
        "import",
        "--db",
        str(tmp_path / "c.db"),
        "--json",
        "--format",
        family,
        write(tmp_path, "a.log", clf(OK)),
    )
    assert r.exit_code == 0 and json.loads(r.stdout)["inserted"] == 1


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("combnied", "combined"),
        ("NGINX", "nginx"),
        ("ngnix", "nginx"),
        ("apach", "apache"),
        ("cloudfornt", "cloudfront"),
        ("sislog+haproxy", "syslog+haproxy"),
        ("docker+combind", "docker+combined"),
    ],
)
def test_a_wrong_format_name_suggests_the_closest(typed, meant):
    with pytest.raises(F.OptionError, match=rf"\(did you mean {meant.replace('+', '[+]')}\?\)") as e:
        F.check_options(typed)
    assert e.value.option == "--format" and "choose one of: auto," in str(e.value)
    with pytest.raises(ValueError, match=f"did you mean {meant.replace('+', '[+]')}"):
        get_format(typed)
    r = CliRunner().invoke(cli, ["import", "--format", typed, "x.log"])
    assert r.exit_code == 2 and f"did you mean {meant}?" in r.output and "--format" in r.output


def test_no_suggestion_for_a_name_like_none():
    with pytest.raises(F.OptionError) as e:
        F.check_options("tcpdump")
    assert "did you mean" not in str(e.value)


def test_check_options_the_rules_between_the_flags():
    assert F.check_options() == F.FormatOptions()
    # as given: '' forgets a remembered value, None leaves it (importer/settings.py)
    assert F.check_options("auto", "", "evt.target", "when") == F.FormatOptions("", "evt.target", "when")
    assert F.check_options(None, None, "evt.target") == F.FormatOptions(None, "evt.target", None)
    log_format = '%h %l %u %t "%r" %>s %b'
    assert F.check_options("custom", log_format).log_format == log_format
    assert F.check_options("auto", log_format).log_format == log_format
    for args, option, message in [
        (("custom",), "--format", "--format custom needs --log-format"),
        (("alb", log_format), "--log-format", "goes with --format custom"),
        (("nginx", log_format), "--log-format", "goes with --format custom"),
        (("auto", "%h %t"), "--log-format", "must contain the request"),
    ]:
        with pytest.raises(F.OptionError, match=message) as e:
            F.check_options(*args)
        assert e.value.option == option
    r = CliRunner().invoke(cli, ["import", "--format", "alb", "--log-format", log_format, "x.log"])
    assert r.exit_code == 2 and "Invalid value for --log-format: goes with --format custom" in r.output


def test_the_cli_keeps_no_copy_of_the_format_checks():
    import inspect

    from smartcar_logs.cli import _import as cli_module  # the import command's room

    source = inspect.getsource(cli_module)
    assert "check_options(" in source
    assert "is_format_name" not in source and "CustomFormat" not in source


def test_readme_lists_every_format_with_an_example():
    readme = (Path(__file__).parent.parent / "README.md").read_text()
    section = readme.split("## Supported log formats", 1)[1].split("\n## ", 1)[0]
    for name, fmt in FORMATS.items():
        assert f"`{name}`" in section, name
        if name != "common":  # shares the combined row
            assert fmt.example.replace("|", "\\|") in section, name
    F.CustomFormat('$remote_addr [$time_iso8601] "$request" $status "$http_user_agent"')


def test_readers_never_raise_on_mangled_lines():
    import random

    rnd = random.Random(7)
    seeds = [
        s.encode()
        for s in (
            alb(OK),
            elb(OK),
            cloudfront(*cf_query(OK)),
            heroku(OK),
            gcp(OK),
            caddy(OK),
            traefik_json(OK),
            traefik_clf(OK),
            cloudflare(OK),
            nginx_json(OK),
            clf(OK),
        )
    ]
    readers = [
        get_format(n, [], {"log_format": '%h [%{%d/%b/%Y %T %z}t] "%r" %>s'} if n == "custom" else {})
        for n in FORMATS
    ]
    readers.append(get_format("custom", [], {"log_format": "$remote_addr [$time_local] $uri$is_args$args"}))
    junk = b' "\\[]{}:,\t%?&=-09\xff\xc3/'
    for _ in range(1500):
        s = bytearray(rnd.choice(seeds).rstrip(b"\n"))
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
                for v in (e.method, e.client_ip, e.user_agent):
                    assert v is None or isinstance(v.encode("utf-8"), bytes)  # no lone surrogates
