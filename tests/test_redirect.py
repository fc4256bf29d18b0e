"""Tests for smartcar_logs.redirect.

Example URLs are from Smartcar's "Handle the Response" page and its Connect error pages
(smartcar.com/docs/connect/handle-the-response, smartcar.com/docs/errors/connect-errors/*) and
from the official SDKs' test suites, as quoted in the project's reference notes.
"""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smartcar_logs.redirect import (
    CATEGORIES,
    ERROR_CODES,
    FIELDS,
    FLAGS,
    canonical_make,
    is_uuid,
    normalize,
    parse_query,
    vin_check_digit,
    vin_details,
)

SEED_SUCCESS = "https://example.com/home?user_id=725146a3-69f4-46c8-965d-54b3b6f81eb7&state=0facda3319"
SEED_ERROR = (
    "https://example.com/home?error=access_denied"
    "&error_description=User+denied+access+to+application.&state=0facda3319"
)
SECRET = "90abecb6-e7ab-4b85-864a-e1c8bf67f2ad"  # the docs' example authorization code


def assert_shape(rec: dict) -> None:
    assert tuple(rec) == FIELDS
    assert isinstance(rec["flags"], list)
    assert set(rec["flags"]) <= set(FLAGS)
    # "unparseable" only comes from the last-resort guard; seeing it means a bug was masked.
    assert "unparseable" not in rec["flags"]
    assert isinstance(rec["extras"], dict)
    assert isinstance(rec["has_code"], bool)
    assert isinstance(rec["is_test"], bool)
    assert isinstance(rec["evidence"], bool)
    assert rec["category"] in CATEGORIES
    assert rec["outcome"] in ("success", "error", "empty")


# --- the documentation's own examples -------------------------------------------------------


def test_seed_success_url():
    rec = normalize(SEED_SUCCESS)
    assert_shape(rec)
    assert rec["path"] == "/home"
    assert rec["outcome"] == "success"
    assert rec["flow"] == "user_id"
    assert rec["category"] == "success"
    assert rec["user_id"] == "725146a3-69f4-46c8-965d-54b3b6f81eb7"
    assert rec["state"] == "0facda3319"
    assert rec["has_code"] is False
    assert rec["error_code"] is None and rec["error_known"] is None
    assert rec["flags"] == [] and rec["extras"] == {}
    assert rec["evidence"] is True


def test_seed_error_url():
    rec = normalize(SEED_ERROR)
    assert_shape(rec)
    assert rec["path"] == "/home"
    assert rec["outcome"] == "error"
    assert rec["flow"] is None
    assert rec["error_code"] == "access_denied"
    assert rec["error_known"] is True
    assert rec["category"] == "denied"
    assert rec["error_description"] == "User denied access to application."
    assert rec["state"] == "0facda3319"
    assert rec["flags"] == [] and rec["extras"] == {}
    # access_denied is a generic OAuth code: not Smartcar-specific on its own.
    assert rec["evidence"] is False


def test_bytes_and_str_inputs_agree():
    assert normalize(SEED_ERROR.encode()) == normalize(SEED_ERROR)


# --- error codes -----------------------------------------------------------------------------

EXPECTED_CATEGORY = {
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


def test_error_codes_table_is_complete():
    assert ERROR_CODES == EXPECTED_CATEGORY
    assert CATEGORIES == (
        "success",
        "denied",
        "exited",
        "incompatible",
        "account",
        "system",
        "other",
        "empty",
    )


@pytest.mark.parametrize("code,category", sorted(EXPECTED_CATEGORY.items()))
def test_each_error_code(code, category):
    rec = normalize(f"/callback?error={code}&error_description=Something+happened.&state=s1")
    assert_shape(rec)
    assert rec["outcome"] == "error"
    assert rec["error_code"] == code
    assert rec["error_known"] is True
    assert rec["category"] == category
    assert rec["error_description"] == "Something happened."
    assert rec["evidence"] is (code not in ("access_denied", "server_error"))


@pytest.mark.parametrize("code", sorted(EXPECTED_CATEGORY))
def test_error_codes_case_insensitive_and_stripped(code):
    rec = normalize(f"/cb?error=+{code.upper()}%20")
    assert rec["error_code"] == code
    assert rec["error_known"] is True
    assert rec["category"] == EXPECTED_CATEGORY[code]


def test_unknown_error_code_kept_as_sent():
    rec = normalize("/cb?error=Rate_Limited&error_description=slow+down")
    assert rec["outcome"] == "error"
    assert rec["error_code"] == "Rate_Limited"
    assert rec["error_known"] is False
    assert rec["category"] == "other"
    assert rec["evidence"] is False


def test_error_wins_over_code():
    # The JS SDK reports the error even when a code is also present.
    rec = normalize(f"/cb?code={SECRET}&error=server_error")
    assert rec["outcome"] == "error" and rec["flow"] is None
    assert rec["has_code"] is True
    assert SECRET not in str(rec)


def test_blank_error_is_not_an_error():
    rec = normalize("/cb?error=&state=x")
    assert rec["outcome"] == "empty" and rec["category"] == "empty"
    assert rec["error_code"] is None


def test_configuration_error_fields():
    url = (
        "/cb?error=configuration_error"
        "&error_description=There%20has%20been%20an%20error%20in%20the%20configuration%20of%20your%20application."
        "&status_code=400"
        "&error_message=You%20have%20entered%20a%20test%20mode%20VIN.%20Please%20enter%20a%20VIN%20that"
        "%20belongs%20to%20a%20real%20vehicle."
    )
    rec = normalize(url)
    assert rec["category"] == "system"
    assert rec["status_code"] == 400
    assert rec["error_message"] == (
        "You have entered a test mode VIN. Please enter a VIN that belongs to a real vehicle."
    )
    assert rec["error_description"].startswith("There has been an error")
    assert rec["extras"] == {}


@pytest.mark.parametrize("raw", ["abc", "4OO", "", "4.0", "1" * 40, "٤٠٠"])
def test_non_numeric_status_code(raw):
    rec = normalize(f"/cb?error=configuration_error&status_code={raw}")
    assert rec["status_code"] is None


def test_oem_cancelled_login_bare_key_description():
    # The docs' example, verbatim: the description sits in a bare key.
    url = "/cb?error=oem_cancelled_login&the%20user%20did%20not%20complete%20authorization%20with%20the%20OEM"
    rec = normalize(url)
    assert rec["error_code"] == "oem_cancelled_login"
    assert rec["category"] == "exited"
    assert rec["error_description"] == "the user did not complete authorization with the OEM"
    assert "bare_keys" in rec["flags"]
    assert "description_in_bare_key" in rec["flags"]
    assert rec["extras"] == {}


def test_bare_key_not_used_when_description_present():
    rec = normalize("/cb?error=oem_cancelled_login&error_description=real&some%20words")
    assert rec["error_description"] == "real"
    assert rec["extras"] == {"some words": ""}


# --- success flows and the secret code -------------------------------------------------------

UUID = "725146a3-69f4-46c8-965d-54b3b6f81eb7"


@pytest.mark.parametrize(
    "query,flow",
    [
        (f"user_id={UUID}&state=abc", "user_id"),
        (f"code={SECRET}&state=abc", "code"),
        (f"code={SECRET}&user_id={UUID}&state=abc", "code+user_id"),
        ("vehicle_id=sc4a1b01e5-0497-417c-a30e-6df6ba33ba46&external_id=owner-7", "reauth"),
    ],
)
def test_success_flows(query, flow):
    rec = normalize("sc8229df9f://exchange?" + query)
    assert_shape(rec)
    assert rec["outcome"] == "success"
    assert rec["category"] == "success"
    assert rec["flow"] == flow
    assert rec["path"] == "sc8229df9f://exchange"
    assert rec["has_code"] is ("code=" in query)
    assert SECRET not in str(rec)
    assert "code" not in rec["extras"]


def test_reauth_fields():
    rec = normalize("/cb?vehicle_id=sc4a1b01e5-0497-417c-a30e-6df6ba33ba46&external_id=owner%2D7")
    assert rec["vehicle_id"] == "sc4a1b01e5-0497-417c-a30e-6df6ba33ba46"
    assert rec["external_id"] == "owner-7"
    assert rec["evidence"] is True


def test_code_never_leaks_even_when_malformed():
    for url in (
        f"/cb?code={SECRET}&code=other-{SECRET}",
        f"/cb?code={SECRET}%ZZ&state=a",
        f"/cb?code={SECRET}&code",
        f"/cb?state=a&code={SECRET}#frag",
    ):
        rec = normalize(url)
        assert SECRET not in str(rec), url
        assert rec["has_code"] is True


def test_virtual_key_url_decoded():
    rec = normalize(
        f"/cb?code={SECRET}&virtual_key_url=https%3A%2F%2Fwww.tesla.com%2F_ak%2Fsmartcar.com&state=x"
    )
    assert rec["virtual_key_url"] == "https://www.tesla.com/_ak/smartcar.com"
    assert rec["flow"] == "code"
    assert rec["evidence"] is True


def test_empty_outcome():
    for url in ("/callback", "/callback?", "/callback?state=abc", "https://example.com/home"):
        rec = normalize(url)
        assert_shape(rec)
        assert rec["outcome"] == "empty" and rec["category"] == "empty" and rec["flow"] is None


def test_blank_values_are_none_but_kept_in_extras():
    rec = normalize("/cb?state=&user_id=%20&foo=")
    assert rec["state"] is None
    assert rec["user_id"] is None
    assert rec["outcome"] == "empty"
    assert rec["extras"] == {"foo": ""}


# --- vehicle attributes ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "mercedes%20benz",
        "Mercedes-Benz",
        "MERCEDES_BENZ",
        "Mercedes+Benz",
        "Mercedes",
        "MB",
        "mercedes+-+benz",
    ],
)
def test_make_aliases_mercedes(raw):
    rec = normalize(f"/cb?error=vehicle_incompatible&make={raw}")
    assert rec["make"] == "MERCEDES-BENZ"


@pytest.mark.parametrize(
    "raw,canon",
    [
        ("VW", "VOLKSWAGEN"),
        ("vw", "VOLKSWAGEN"),
        ("Volkswagen", "VOLKSWAGEN"),
        ("Chevy", "CHEVROLET"),
        ("chevrolet", "CHEVROLET"),
        ("Land Rover", "LAND ROVER"),
        ("LAND_ROVER", "LAND ROVER"),
        ("landrover", "LAND ROVER"),
        ("Range Rover", "RANGE ROVER"),
        ("alfa romeo", "ALFA ROMEO"),
        ("Aston-Martin", "ASTON MARTIN"),
        ("Rolls Royce", "ROLLS-ROYCE"),
        ("rolls-royce", "ROLLS-ROYCE"),
        ("Mini", "MINI"),
        ("Citroën", "CITROEN"),
        ("Citroen", "CITROEN"),
        ("Škoda", "SKODA"),
        ("GM", "GM"),
        ("Tesla", "TESLA"),
        ("ford", "FORD"),
        ("  Harley   davidson ", "HARLEY-DAVIDSON"),
        ("Some_New  brand", "SOME NEW BRAND"),
        ("", None),
        ("   ", None),
        (None, None),
    ],
)
def test_canonical_make(raw, canon):
    assert canonical_make(raw) == canon


def test_vehicle_attributes_from_url():
    rec = normalize(
        "/cb?error=vehicle_incompatible&vin=1FDKE30G4JHA04964&make=mercedes%20benz&model=Model+3&year=2019"
    )
    assert rec["make_raw"] == "mercedes benz"
    assert rec["make"] == "MERCEDES-BENZ"
    assert rec["model"] == "Model 3"
    assert rec["year"] == 2019 and rec["year_raw"] == "2019"
    assert rec["evidence"] is True
    assert rec["extras"] == {}


@pytest.mark.parametrize("raw", ["Model+3", "Model%20%203", "+Model%09%203+", "Model%20%0A3"])
def test_model_whitespace_normalised(raw):
    rec = normalize(f"/cb?error=vehicle_incompatible&model={raw}")
    assert rec["model"] == "Model 3"


def test_model_keeps_case_and_blank_is_none():
    assert normalize("/cb?model=e-tron")["model"] == "e-tron"
    assert normalize("/cb?model=+")["model"] is None


@pytest.mark.parametrize(
    "raw,year,year_raw",
    [
        ("2019", 2019, "2019"),
        ("+2019+", 2019, " 2019 "),
        ("abc", None, "abc"),
        ("1899", None, "1899"),
        ("2101", None, "2101"),
        ("19", None, "19"),
        ("２０１９", None, "２０１９"),  # fullwidth digits are not ASCII digits
        ("", None, None),
    ],
)
def test_year(raw, year, year_raw):
    rec = normalize(f"/cb?error=vehicle_incompatible&year={raw}")
    assert rec["year"] == year
    assert rec["year_raw"] == year_raw


def test_make_only_is_evidence_and_simulated_is_test():
    rec = normalize("/cb?error=vehicle_incompatible&make=Simulated&model=BEV&year=2023")
    assert rec["make"] == "SIMULATED"
    assert rec["is_test"] is True
    assert rec["vin"] is None and rec["vin_valid"] is None


# --- VINs ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "vin,digit",
    [
        ("1M8GDM9AXKP042788", "X"),  # the textbook example VIN
        ("1FDKE30G4JHA04964", "4"),  # android-sdk test VIN
        ("5YJ3E1EA7KF317000", "2"),  # made-up Tesla VIN: its "7" is wrong
    ],
)
def test_vin_check_digit(vin, digit):
    assert vin_check_digit(vin) == digit


@pytest.mark.parametrize(
    "vin,valid",
    [
        ("1M8GDM9AXKP042788", True),
        ("1FDKE30G4JHA04964", True),
        ("1fdke30g4jha04964", True),  # case does not matter
        ("5YJ3E1EA7KF317000", False),  # wrong check digit
        ("1M8GDM9A1KP042788", False),
        ("WVWZZZ1JZXW000001", True),  # European: check digit not mandated
        ("12345678901234", False),  # 14 chars, like the iOS SDK test
        ("1M8GDM9AXKP04278O", False),  # letter O is not in the VIN alphabet
    ],
)
def test_vin_validity(vin, valid):
    rec = normalize(f"/cb?error=vehicle_incompatible&vin={vin}")
    assert rec["vin"] == vin.upper()
    assert rec["vin_valid"] is valid
    assert rec["is_test"] is False


def test_vin_stripped_and_decoded():
    v, valid, make, year = vin_details(" 1fdke30g4jha04964 ")
    assert v == "1FDKE30G4JHA04964" and valid is True
    assert make == "FORD"
    assert year in (1988, 2018)  # 30-year cycle: the most recent not after next year
    assert vin_details(None) == (None, None, None, None)
    assert vin_details("  ") == (None, None, None, None)


def test_vin_make_and_year_from_vininfo():
    rec = normalize("/cb?error=vehicle_incompatible&vin=5YJ3E1EA7KF317000&make=TESLA")
    assert rec["vin_make"] == "TESLA"
    assert rec["vin_year"] == 2019
    rec = normalize("/cb?error=vehicle_incompatible&vin=WVWZZZ1JZXW000001")
    assert rec["vin_make"] == "VOLKSWAGEN"


def test_test_vin():
    rec = normalize("/cb?error=vehicle_incompatible&vin=0SCAUDI012FE3B132&make=AUDI")
    assert rec["vin"] == "0SCAUDI012FE3B132"
    assert rec["is_test"] is True
    # Test VINs contain I and O, so they are not structurally valid VINs.
    assert rec["vin_valid"] is False
    assert rec["vin_make"] is None and rec["vin_year"] is None
    assert rec["make"] == "AUDI"


def test_unknown_wmi_gives_no_vin_make():
    assert vin_details("ZZZZZZZZZZZZZZZZZ")[2] is None


# --- query decoding --------------------------------------------------------------------------


def test_parse_query_basic():
    values, bare, flags = parse_query(b"a=1&b=&c=x+y%20z")
    assert values == {"a": "1", "b": "", "c": "x y z"}
    assert bare == [] and flags == []


def test_parse_query_accepts_leading_question_mark_and_str():
    assert parse_query("?a=%C3%A9")[0] == {"a": "é"}


def test_percent_26_stays_inside_value():
    rec = normalize("/cb?error=access_denied&error_description=a%26b")
    assert rec["error_description"] == "a&b"
    assert rec["extras"] == {}
    values, _, _ = parse_query("error_description=a%26b%3Dc")
    assert values == {"error_description": "a&b=c"}


def test_percent_2b_is_a_literal_plus():
    assert parse_query("s=a%2Bb+c")[0] == {"s": "a+b c"}


def test_bare_keys():
    values, bare, flags = parse_query("state&a=1&flag&flag")
    assert values == {"a": "1"}
    assert bare == ["state", "flag"]
    assert "bare_keys" in flags and "duplicate_keys" in flags
    rec = normalize("/cb?user_id=u1&debug")
    assert rec["extras"] == {"debug": ""}
    assert rec["flags"] == ["bare_keys"]


def test_duplicate_keys_keep_first():
    rec = normalize("/cb?error=access_denied&error=server_error&state=1&state=2")
    assert rec["error_code"] == "access_denied"
    assert rec["state"] == "1"
    assert rec["flags"] == ["duplicate_keys"]


@pytest.mark.parametrize(
    "query,value,flag",
    [
        ("state=%ZZ", "%ZZ", "bad_escape"),
        ("state=abc%", "abc%", "bad_escape"),
        ("state=%", "%", "bad_escape"),
        ("state=%4", "%4", "bad_escape"),
        ("state=%FF", "\ufffd", "invalid_utf8"),
        ("state=%2520", "%20", "double_encoded"),
    ],
)
def test_malformed_escapes_flagged(query, value, flag):
    rec = normalize("/cb?" + query)
    assert rec["state"] == value
    assert flag in rec["flags"]


def test_raw_invalid_utf8_bytes():
    rec = normalize(b"/cb?state=ab\xffc&user_id=u%C3%A9")
    assert rec["state"] == "ab\ufffdc"
    assert rec["user_id"] == "u\u00e9"
    assert "invalid_utf8" in rec["flags"]
    rec = normalize(b"/cb\xff?state=a")
    assert rec["path"] == "/cb\ufffd"
    assert "invalid_utf8" in rec["flags"]


def test_lone_surrogates_in_str_do_not_raise():
    for s in ("/cb?state=\udcff", "/cb?state=\ud800"):
        rec = normalize(s)
        assert_shape(rec)
        assert "invalid_utf8" in rec["flags"]


@pytest.mark.parametrize("target", ["", "?", "&&&", "/cb?&&=&", "=", "#", "?#?", "%", b"\xff", b"/cb?\xff"])
def test_degenerate_targets(target):
    rec = normalize(target)
    assert_shape(rec)


def test_empty_segments_ignored():
    values, bare, flags = parse_query("&&a=1&&")
    assert values == {"a": "1"} and bare == [] and flags == []


def test_empty_key():
    values, bare, _ = parse_query("=x")
    assert values == {"": "x"}


# --- path handling ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "target,path",
    [
        ("https://example.com/home?user_id=a", "/home"),
        ("http://localhost:8000/cb?user_id=a", "/cb"),
        ("HTTPS://Example.com/a/b/?user_id=a", "/a/b/"),
        ("https://example.com?user_id=a", "/"),
        ("sc123://exchange?user_id=a", "sc123://exchange"),
        ("sc123://exchange/more?user_id=a", "sc123://exchange/more"),
        ("/callback?user_id=a", "/callback"),
        ("/callback#x?user_id=a", "/callback"),
        ("callback?user_id=a", "callback"),
    ],
)
def test_paths(target, path):
    assert normalize(target)["path"] == path


def test_fragment_stripped():
    rec = normalize(f"{SEED_SUCCESS}#section?error=access_denied")
    assert rec["outcome"] == "success"
    assert rec["state"] == "0facda3319"
    assert rec["extras"] == {}


# --- Smartcar-specific evidence --------------------------------------------------------------


@pytest.mark.parametrize(
    "query,evidence",
    [
        (f"user_id={UUID}&state=abc", True),
        (f"user_id={UUID.upper()}&state=", True),
        (f"user_id={UUID}", False),  # an app page such as /admin/users?user_id=<uuid>
        ("user_id=12345&state=abc", False),
        ("error=vehicle_incompatible&error_description=x", True),
        ("error=no_vehicles", True),
        ("error=vehicle_incompatible&make=Tesla", True),
        ("error=access_denied&make=Tesla", True),
        ("make=Tesla", False),  # a search page, not an error redirect
        ("year=2020", False),
        ("error=unknown_code&year=2020", True),
        ("error=x&vin=1FDKE30G4JHA04964", True),
        ("vehicle_id=abc", True),
        ("code=abc&virtual_key_url=https%3A%2F%2Fwww.tesla.com%2F_ak%2Fsmartcar.com", True),
        ("code=4/0AX4XfWh&state=abc&scope=email", False),  # Google OAuth callback
        ("error=access_denied&state=x", False),
        ("error=server_error", False),
        ("error=invalid_request", False),
        ("make=&model=+", False),
    ],
)
def test_evidence(query, evidence):
    assert normalize("/auth/callback?" + query)["evidence"] is evidence


def test_google_like_callback_is_still_classified():
    rec = normalize("/auth/google/callback?code=4/0AX4XfWh&state=abc&scope=email")
    assert rec["outcome"] == "success" and rec["flow"] == "code"
    assert rec["extras"] == {"scope": "email"}
    assert "4/0AX4XfWh" not in str(rec)


def test_is_uuid():
    assert is_uuid(UUID)
    assert is_uuid(UUID.upper())
    assert not is_uuid(UUID + "0")
    assert not is_uuid("")
    assert not is_uuid(None)


# --- properties ------------------------------------------------------------------------------


@settings(max_examples=500, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=300))
def test_normalize_never_raises_on_bytes(data):
    assert_shape(normalize(data))


_URL_BYTES = st.lists(
    st.sampled_from(
        [
            b"&",
            b"=",
            b"%",
            b"%2",
            b"%25",
            b"%41",
            b"%C3",
            b"%A9",
            b"%FF",
            b"+",
            b"#",
            b"?",
            b"\xff",
            b"\xc3",
            b"code",
            b"error",
            b"user_id",
            b"vin",
            b"make",
            b"year",
            b"model",
            b"state",
            b"status_code",
            b"1",
            b"a",
            b"0SC",
            b"vehicle_incompatible",
            b"https://",
            b"sc1://",
            b"/",
        ]
    ),
    max_size=40,
).map(b"".join)


@settings(max_examples=500)
@given(_URL_BYTES)
def test_normalize_never_raises_on_url_like_bytes(data):
    assert_shape(normalize(data))


@settings(max_examples=200)
@given(st.text(max_size=200))
def test_normalize_never_raises_on_text(text):
    assert_shape(normalize(text))
    values, bare, flags = parse_query(text)
    assert isinstance(values, dict) and isinstance(bare, list) and isinstance(flags, list)


_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)


def _blank_to_none(s: str) -> str | None:
    return s if s.strip() else None


@settings(max_examples=300)
@given(
    state=_TEXT,
    make=_TEXT,
    model=_TEXT,
    description=_TEXT,
    sep=st.sampled_from(["/cb?", "https://a.example/cb?"]),
)
def test_urlencode_round_trip(state, make, model, description, sep):
    query = urlencode(
        {
            "error": "vehicle_incompatible",
            "error_description": description,
            "state": state,
            "make": make,
            "model": model,
        }
    )
    rec = normalize(sep + query)
    # A literal "%41" in the text legitimately looks double-encoded once encoded ("%2541").
    assert set(rec["flags"]) <= {"double_encoded"}
    assert rec["error_code"] == "vehicle_incompatible"
    assert rec["state"] == _blank_to_none(state)
    assert rec["error_description"] == _blank_to_none(description)
    assert rec["make_raw"] == _blank_to_none(make)
    assert rec["make"] == canonical_make(make)
    assert rec["model"] == (" ".join(model.split()) or None)
    assert rec["extras"] == {}


@settings(max_examples=200)
@given(st.dictionaries(_TEXT, _TEXT, max_size=6))
def test_parse_query_round_trip(pairs):
    values, bare, flags = parse_query(urlencode(pairs))
    assert values == pairs
    assert bare == [] and set(flags) <= {"double_encoded"}


def test_last_resort_record_has_the_contract_keys():
    from smartcar_logs.redirect import _empty_record

    assert tuple(_empty_record()) == FIELDS


# --- the JavaScript SDK's state: base64 JSON {"instanceId", "originalState"} -----------------

_JS = "eyJpbnN0YW5jZUlkIjoiYWJjIiwib3JpZ2luYWxTdGF0ZSI6InMxIn0"  # {"instanceId":"abc","originalState":"s1"}


@pytest.mark.parametrize(
    "sent", [_JS + "=", _JS + "%3D", _JS]
)  # padded, padding encoded, unpadded (fast path)
def test_js_sdk_state_pairs_on_original_state_and_keeps_the_raw(sent):
    rec = normalize(f"/cb?user_id=725146a3-69f4-46c8-965d-54b3b6f81eb7&state={sent}")
    assert rec["state"] == "s1"
    assert rec["extras"]["js_sdk_instance"] == "abc"
    assert rec["extras"]["state_raw"].rstrip("=") == _JS
    assert "js_sdk_state" in rec["flags"]


def test_js_sdk_state_plus_decoded_as_space_is_put_back():
    import base64 as b64

    raw = b64.b64encode(b'{"instanceId":"i>>>","originalState":"a~~~b"}').decode()
    assert "+" in raw
    rec = normalize(f"/cb?error=access_denied&state={raw}")  # + read as a space by the form decoding
    assert rec["state"] == "a~~~b" and rec["extras"]["state_raw"] == raw.replace("+", " ")


@pytest.mark.parametrize(
    "state",
    [
        "eyJub3QganNvbg",  # base64 of '{"not json' truncated: not JSON
        "eyJhIjoxfQ==",  # {"a":1}: no instanceId
        "eyJ!!",  # not base64
        "abc123",
    ],
)
def test_other_states_are_kept_as_sent(state):
    rec = normalize(f"/cb?code=x&state={state}")
    assert rec["state"] == state and "js_sdk_state" not in rec["flags"]


def test_js_sdk_state_without_an_original_state_is_its_page():
    from smartcar_logs.redirect import js_sdk_state

    raw = "eyJpbnN0YW5jZUlkIjoicGFnZSJ9"  # {"instanceId":"page"}
    assert js_sdk_state(raw) == ("page", None)
    assert normalize(f"/cb?code=x&state={raw}")["state"] == "js-sdk-instance:page"
