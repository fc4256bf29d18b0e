"""A small hand-built database for the analysis, plot, notebook and report tests.

Rows are inserted straight into the public schema (``store.open_db``), so these tests do not
depend on the importer.  Every expected number in the tests is worked out from the tables
below; keep the comments in step when you change a row.

Weeks (UTC, ISO weeks start Monday): A = 2026-10-05 .. 10-11, B = 2026-10-12 .. 10-18.

Redirects (``*`` = reload of the row above: same state, outcome and error code)

====  =====  ==================  ==========================  =====================================
row   state  ts                  outcome / error             notes
====  =====  ==================  ==========================  =====================================
R1    s01    10-05 09:00:10      success
R2    s02    10-05 10:00:30      success
R3    s02    10-05 10:00:35      success *
R4    s03    10-06 08:00:20      access_denied
R5    s04    10-06 09:00:00      access_denied
R6    s04    10-06 09:05:00      success                     retry after an error: recovered
R7    s05    10-07 12:00:00      vehicle_incompatible        AUDI A3 2015, VIN says AUDI 2015
R8    s06    10-07 13:00:00      vehicle_incompatible        make/model are HTML attacks, 2019
R9    NULL   10-08 14:00:00      success                     no state
R10   ''     10-08 15:00:00      access_denied               empty state
R11   s09    10-08 16:00:00      empty
R12   s10    10-09 10:00:00      vehicle_incompatible        TEST (is_test = 1, 0SC VIN)
R13   s11    10-09 11:00:00      server_error
R14   s11    10-09 11:00:05      server_error *
R15   s12    10-12 09:00:00      success
R16   s13    10-13 09:00:00      success
R17   s14    10-14 09:00:00      access_denied
R18   s15    10-14 10:00:00      vehicle_incompatible        TESLA Model 3 2020, VIN says 2021
R19   s16    10-15 10:00:00      vehicle_incompatible        AUDI A3 2016, VIN says VOLKSWAGEN
R20   s17    10-15 11:00:00      vehicle_incompatible        no make/model/year; VIN: AUDI 2017
R21   s18    10-16 10:00:00      user_manually_returned...   exited
R22   s19    10-16 11:00:00      success
R23   s19    10-16 11:10:00      access_denied               error after success: not recovered
R24   s20    10-16 12:00:00      access_denied
R25   s20    10-16 12:00:03      access_denied *
R26   s20    10-16 12:02:00      success                     recovered
R27   s23    10-16 13:00:00      weird_error (unknown)       description is an HTML attack
====  =====  ==================  ==========================  =====================================

Launches: L1 s01 10-05 09:00:00, L2 s02 10:00:00, L3 s02 10:00:05 (reload), L4 s03 10-06
08:00:00, L5 s04 08:59:00, L6 s05 10-07 11:59:00, L7 s10 10-09 09:59:00 (test state), L8 s12
10-12 08:58:00, L9 s21 10-12 10:00:00 (abandoned), L10 s22 10-13 10:00:00 (abandoned), L11 no
state 10-13 11:00:00, L12 s14 10-14 07:00:00 (returns 2 h later: late), L13 s20 10-16 11:59:00.
"""

from __future__ import annotations

from pathlib import Path

from smartcar_logs.store import open_db, rebuild_derived

SCRIPT_MAKE = "<script>alert(1)</script>"
IMG_MODEL = "<img src=x onerror=alert(1)>"
SCRIPT_DESCRIPTION = '<script>alert("desc")</script>'

_CATEGORY = {
    "access_denied": "denied",
    "vehicle_incompatible": "incompatible",
    "server_error": "system",
    "user_manually_returned_to_application": "exited",
}


def _redirect(state, ts, outcome, error_code=None, **extra):
    row = {
        "ts": f"2026-{ts}+00:00",
        "state": state,
        "outcome": outcome,
        "error_code": error_code,
        "category": (outcome if outcome in ("success", "empty") else _CATEGORY.get(error_code, "other")),
        "error_known": None if outcome != "error" else int(error_code in _CATEGORY),
        "has_code": int(outcome == "success"),
        "flow": "code" if outcome == "success" else None,
        "method": "GET",
        "path": "/callback",
        "http_status": 200,
        "is_test": 0,
    }
    row.update(extra)
    return row


REDIRECTS = [
    _redirect("s01", "10-05T09:00:10", "success"),
    _redirect("s02", "10-05T10:00:30", "success"),
    _redirect("s02", "10-05T10:00:35", "success"),
    _redirect("s03", "10-06T08:00:20", "error", "access_denied"),
    _redirect("s04", "10-06T09:00:00", "error", "access_denied"),
    _redirect("s04", "10-06T09:05:00", "success"),
    _redirect(
        "s05",
        "10-07T12:00:00",
        "error",
        "vehicle_incompatible",
        make="AUDI",
        make_raw="Audi",
        model="A3",
        year=2015,
        vin="WAUZZZ8V0FA000001",
        vin_valid=0,
        vin_make="AUDI",
        vin_year=2015,
    ),
    _redirect(
        "s06",
        "10-07T13:00:00",
        "error",
        "vehicle_incompatible",
        make=SCRIPT_MAKE,
        make_raw=SCRIPT_MAKE,
        model=IMG_MODEL,
        year=2019,
    ),
    _redirect(None, "10-08T14:00:00", "success"),
    _redirect("", "10-08T15:00:00", "error", "access_denied"),
    _redirect("s09", "10-08T16:00:00", "empty"),
    _redirect(
        "s10",
        "10-09T10:00:00",
        "error",
        "vehicle_incompatible",
        make="AUDI",
        vin="0SCAUDI012FE3B132",
        is_test=1,
    ),
    _redirect("s11", "10-09T11:00:00", "error", "server_error"),
    _redirect("s11", "10-09T11:00:05", "error", "server_error"),
    _redirect("s12", "10-12T09:00:00", "success"),
    _redirect("s13", "10-13T09:00:00", "success"),
    _redirect("s14", "10-14T09:00:00", "error", "access_denied"),
    _redirect(
        "s15",
        "10-14T10:00:00",
        "error",
        "vehicle_incompatible",
        make="TESLA",
        model="Model 3",
        year=2020,
        vin="5YJ3E1EA0MF000001",
        vin_valid=0,
        vin_make="TESLA",
        vin_year=2021,
    ),
    _redirect(
        "s16",
        "10-15T10:00:00",
        "error",
        "vehicle_incompatible",
        make="AUDI",
        model="A3",
        year=2016,
        vin="WVWZZZ1KZGW000001",
        vin_valid=0,
        vin_make="VOLKSWAGEN",
        vin_year=2016,
    ),
    _redirect(
        "s17",
        "10-15T11:00:00",
        "error",
        "vehicle_incompatible",
        vin="WAUZZZ8V0HA000001",
        vin_valid=0,
        vin_make="AUDI",
        vin_year=2017,
    ),
    _redirect("s18", "10-16T10:00:00", "error", "user_manually_returned_to_application"),
    _redirect("s19", "10-16T11:00:00", "success"),
    _redirect("s19", "10-16T11:10:00", "error", "access_denied"),
    _redirect("s20", "10-16T12:00:00", "error", "access_denied"),
    _redirect("s20", "10-16T12:00:03", "error", "access_denied"),
    _redirect("s20", "10-16T12:02:00", "success"),
    _redirect(
        "s23",
        "10-16T13:00:00",
        "error",
        "weird_error",
        error_description=SCRIPT_DESCRIPTION,
    ),
]

LAUNCHES = [
    ("s01", "10-05T09:00:00"),
    ("s02", "10-05T10:00:00"),
    ("s02", "10-05T10:00:05"),
    ("s03", "10-06T08:00:00"),
    ("s04", "10-06T08:59:00"),
    ("s05", "10-07T11:59:00"),
    ("s10", "10-09T09:59:00"),
    ("s12", "10-12T08:58:00"),
    ("s21", "10-12T10:00:00"),
    ("s22", "10-13T10:00:00"),
    (None, "10-13T11:00:00"),
    ("s14", "10-14T07:00:00"),
    ("s20", "10-16T11:59:00"),
]


def build_analysis_db(path: str | Path) -> Path:
    """Write the hand-built dataset described in the module docstring to *path*."""
    path = Path(path)
    db = open_db(path)
    fp = "fixture-analysis"
    db["sources"].insert({"fingerprint": fp, "path": "fixture.log", "format": "combined", "lines": 40})
    db["redirects"].insert_all(
        [
            {"source_fp": fp, "line_no": i + 1, "byte_offset": 100 * i, **row}
            for i, row in enumerate(REDIRECTS)
        ]
    )
    db["launches"].insert_all(
        [
            {
                "source_fp": fp,
                "line_no": 1000 + i,
                "byte_offset": 100_000 + 100 * i,
                "ts": f"2026-{ts}+00:00",
                "state": state,
                "method": "GET",
                "path": "/connect",
                "http_status": 302,
            }
            for i, (state, ts) in enumerate(LAUNCHES)
        ]
    )
    db["rejects"].insert(
        {
            "source_fp": fp,
            "path": "fixture.log",
            "line_no": 2000,
            "byte_offset": 200_000,
            "reason": "unparseable",
            "raw": '=HYPERLINK("http://evil")',
        }
    )
    rebuild_derived(db.conn)  # rows written outside the importer: derive the events by hand
    db.conn.close()
    return path
