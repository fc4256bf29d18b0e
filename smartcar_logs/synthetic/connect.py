"""Connect attempts and look-alikes: planned as packed ints, rendered hour by hour, counted.

Two phases keep memory small for 10M-line files: *planning* decides every special line's
time and role as one packed int per line (``T << 35 | id << 3 | role``), so the exact number
of special lines is known before any ordinary line is placed; *rendering* builds each
special line's text only when its hour is written.
"""

from __future__ import annotations

import random
from array import array
from bisect import bisect_right
from collections.abc import Callable
from functools import cache
from itertools import accumulate
from urllib.parse import quote, quote_plus

from .catalogue import (
    CONFIG_ERROR_MESSAGES,
    DESCRIPTIONS,
    DOC_TEST_VINS,
    GOOGLE_CALLBACK_PATH,
    MODELS,
    OUTCOME_MIX,
    P_ABANDON,
    P_NO_STATE,
    P_OEM_MALFORMED,
    P_ORPHAN,
    P_RELOAD,
    P_RETRY,
    RETRYABLE,
    SUCCESS_FLOWS,
    TEST_VIN_MAKES,
    spelling,
    vehicle_pool,
)
from .launches import LAUNCH_MODES, empty_truth, instance_id, launch_target, pick_mode, redirect_state
from .traffic import BROWSER_UAS, clients
from .writers import Request

_LAUNCH, _REDIRECT, _RELOAD, GOOGLE, _NOISE_CODE, _NOISE_ERROR, _NOISE_USER_ID = range(7)
NOISE_KEYS = {_NOISE_CODE: "code", _NOISE_ERROR: "error", _NOISE_USER_ID: "user_id"}
_MODE_LAUNCHED, _MODE_NO_STATE, _MODE_ORPHAN = range(3)
_ID_BITS = 32
T_SHIFT = _ID_BITS + 3
_ID_MASK = (1 << _ID_BITS) - 1
_OUTCOMES = OUTCOMES = tuple(code for code, _ in OUTCOME_MIX)
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
# What an attempt is: a redirect alone (no state; a state whose launch is not in the file), or
# a launch, which may come back.
_ATTEMPT_KIND_PICK = _Picker(
    [(_MODE_NO_STATE, P_NO_STATE), (_MODE_ORPHAN, P_ORPHAN), (_MODE_LAUNCHED, 1 - P_NO_STATE - P_ORPHAN)]
)
_FLOW_PICK = _Picker(SUCCESS_FLOWS)
_DESC_PICK = {code: _Picker(variants) for code, variants in DESCRIPTIONS.items()}


@cache
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


def expected_redirects_per_attempt() -> float:
    p_retry = sum(w for c, w in OUTCOME_MIX if c in RETRYABLE) * P_RETRY
    standalone = (P_NO_STATE + P_ORPHAN) * (1 + P_RELOAD)
    launched = (1 - P_NO_STATE - P_ORPHAN) * (1 - P_ABANDON) * (1 + P_RELOAD) * (1 + p_retry)
    return standalone + launched


def expected_lines_per_attempt() -> float:
    p_retry = sum(w for c, w in OUTCOME_MIX if c in RETRYABLE) * P_RETRY
    launches = (1 - P_NO_STATE - P_ORPHAN) * (1 + (1 - P_ABANDON) * p_retry)
    return launches + expected_redirects_per_attempt()


class Specials:
    """Plans, then renders, every non-pooled line; keeps the ground-truth counters."""

    def __init__(self, rng, site, redirect_path, launch_path, t_hi, sample_time, modes=((1.0, 0),)) -> None:
        self.rng = rng
        self.rnd = rng.random
        self.site = site
        self.redirect_path = redirect_path
        self.launch_path = launch_path
        self.t_hi = t_hi
        self.sample_time = sample_time
        # Enough distinct clients that two people rarely share an address and browser within
        # minutes: a retry after an error is the same client (same user index), and
        # retries across states are linked by exactly that.
        self.users = clients(rng, 20_000, BROWSER_UAS, ("HTTP/1.1", "HTTP/2.0", "HTTP/2.0"))
        self.vehicles = vehicle_pool(rng)
        self.state_key = rng.getrandbits(40)
        # per attempt: user index, mode, outcome index (255 = none yet), retry flag
        self.a_user = array("H")
        self.a_mode = bytearray()
        self.a_outcome = bytearray()
        self.a_retry = bytearray()
        self.a_reload = bytearray()
        # per attempt: launch mode (launches.LAUNCH_MODES), and a JS SDK page's instance id
        self.modes = modes
        self.a_launch = bytearray()
        self.instances: dict[int, str] = {}
        self.funnel = empty_truth()
        self.events = array("Q")  # packed: T << T_SHIFT | id << 3 | role
        self.n_look = 0
        self.pending_reload: dict[int, tuple[Request, tuple]] = {}  # only attempts with a reload
        self.c = {
            "redirects": 0,
            "reloads": 0,
            "launches": 0,
            "retries": 0,
            "matched": 0,
            "orphans": 0,
            "no_state": 0,
            "vehicle_info": 0,
            "test_vins": 0,
            "google_callbacks": 0,
            "google_errors": 0,
        }
        self.by_outcome = dict.fromkeys(_OUTCOMES, 0)
        self.by_outcome_unique = dict.fromkeys(_OUTCOMES, 0)
        self.by_flow = {"user_id": 0, "code": 0, "code+user_id": 0}
        self.by_status: dict[int, int] = {}
        self.noise = {"code": 0, "error": 0, "user_id": 0}
        self.incidents = None  # an incidents.Plan, set by the driver when there are incidents

    # -- planning -----------------------------------------------------------------------------
    def _event(self, t: int, ident: int, role: int) -> None:
        self.events.append((t << T_SHIFT) | (ident << 3) | role)

    def _new_attempt(self, mode: int, outcome: int, retry: bool, user: int) -> int:
        self.a_user.append(user)
        self.a_mode.append(mode)
        self.a_outcome.append(outcome)
        self.a_retry.append(retry)
        self.a_reload.append(0)
        self.a_launch.append(0)
        return len(self.a_mode) - 1

    def _plan_redirect(self, t: int, aid: int) -> bool:
        if t >= self.t_hi or (self.incidents is not None and self.incidents.drops(t)):
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
        kind = _ATTEMPT_KIND_PICK(rnd)
        if kind != _MODE_LAUNCHED:
            self._plan_redirect(t, self._new_attempt(kind, _OUTCOME_PICK(rnd), False, user))
            return
        aid = self._new_attempt(_MODE_LAUNCHED, 255, False, user)
        self._launch_mode(aid, pick_mode(self.modes, rnd))
        self._event(t, aid, _LAUNCH)
        if rnd() < P_ABANDON:
            return
        outcome = _OUTCOME_PICK(rnd)
        self.a_outcome[aid] = outcome
        t_back = t + self._delay()
        if self.incidents is not None:
            outcome = self.a_outcome[aid] = self.incidents.outcome(aid, t_back, outcome)
        if not self._plan_redirect(t_back, aid):
            self.a_outcome[aid] = 255  # came back after the end of the file: abandoned here
            return
        if outcome in _RETRYABLE_IDX and rnd() < P_RETRY:
            t_retry = t_back + 10 + int(rnd() * 290)
            if t_retry < self.t_hi:
                aid2 = self._new_attempt(_MODE_LAUNCHED, _OUTCOME_INDEX["success"], True, user)
                # the same site, and for the JS SDK the same page, retries
                self._launch_mode(aid2, self.a_launch[aid], self.instances.get(aid))
                self._event(t_retry, aid2, _LAUNCH)
                if not self._plan_redirect(t_retry + self._delay(), aid2):
                    self.a_outcome[aid2] = 255

    def _launch_mode(self, aid: int, mode: int, instance: str | None = None) -> None:
        self.a_launch[aid] = mode
        if LAUNCH_MODES[mode] == "js-sdk":
            self.instances[aid] = instance or instance_id(self.rng)

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
        if role == GOOGLE:
            return self._google()
        return self._noise(NOISE_KEYS[role])

    def _launch(self, aid: int) -> Request:
        user = self.users[self.a_user[aid]]
        state = _state_of(aid, self.state_key)
        ref = (
            f"https://{self.site}"
            + ("/vehicles/connect", "/settings/vehicles", "/dashboard")[int(self.rnd() * 3)]
        )
        self.c["launches"] += 1
        self.c["retries"] += self.a_retry[aid]
        mode = self.a_launch[aid]
        self.funnel[LAUNCH_MODES[mode]]["launched"] += 1
        target = launch_target(self.launch_path, mode, state)
        return Request(user.ip, "GET", target, user.proto, 302, 154, ref, user.ua)

    def _redirect(self, aid: int) -> Request:
        rnd = self.rnd
        user = self.users[self.a_user[aid]]
        mode = self.a_mode[aid]
        state = None if mode == _MODE_NO_STATE else _state_of(aid, self.state_key)
        if mode == _MODE_LAUNCHED:
            state = redirect_state(self.a_launch[aid], state, self.instances.get(aid, ""))
        changed = self.incidents.query(aid, self.vehicles, state) if self.incidents is not None else None
        query, meta = changed or self._redirect_query(_OUTCOMES[self.a_outcome[aid]], state)
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
            truth = self.funnel[LAUNCH_MODES[self.a_launch[aid]]]
            truth["returned"] += 1
            truth["succeeded"] += outcome == "success"
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
                    vin, make, model = v.vin, v.make, v.model
                    if y < 0.90 and rnd() < 0.12:  # a test-mode VIN: Smartcar's simulated vehicles
                        test_vin = True
                        vin = (
                            r.choice(DOC_TEST_VINS)
                            if rnd() < 0.5
                            else (
                                "0SC"
                                + r.choice(("AUDI", "TSLA", "FORD", "BMW0"))
                                + f"{r.getrandbits(40):010X}"
                            )
                        )
                        make = TEST_VIN_MAKES[vin[3:7]]
                        model = r.choice(MODELS[make])  # a model of the test VIN's own make
                    make = _enc(spelling(r, make), plus)
                    model = _enc(model, plus)
                    if y < 0.70:  # vin + make (iOS/Android style)
                        params += [f"vin={vin}", f"make={make}"]
                    elif y < 0.90:  # all four
                        params += [f"vin={vin}", f"make={make}", f"model={model}", f"year={v.year}"]
                    else:  # make/model/year without a VIN (JS SDK test style)
                        params += [f"make={make}", f"model={model}", f"year={v.year}"]
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
        return Request(
            user.ip,
            "GET",
            f"{GOOGLE_CALLBACK_PATH}?{query}",
            user.proto,
            302,
            154,
            "https://accounts.google.com/",
            user.ua,
        )

    def _noise(self, key: str) -> Request:
        r = self.rng
        user = self.users[int(self.rnd() * len(self.users))]
        if key == "code":
            target = r.choice(
                (
                    f"/promo?code=FALL{r.randrange(10, 99)}",
                    f"/invite?code={_token(r, 8)}",
                    f"/verify-email?code={r.randrange(100000, 999999)}"
                    f"&email=user{r.randrange(1000)}%40example.com",
                    f"/api/v1/coupons/apply?code=SAVE{r.randrange(5, 30)}",
                    f"/oauth/github/callback?code={r.getrandbits(80):020x}",
                )
            )
        elif key == "error":
            target = r.choice(
                (
                    "/login?error=invalid_credentials",
                    "/checkout?error=card_declined",
                    "/signup?error=email_taken",
                    "/settings?error=session_expired",
                )
            )
        else:
            target = r.choice((f"/admin/users?user_id={_uuid4(r)}", f"/api/v1/profile?user_id={_uuid4(r)}"))
        self.noise[key] += 1
        status = 302 if target.startswith("/oauth") else 200
        return Request(
            user.ip,
            "GET",
            target,
            user.proto,
            status,
            500 + int(self.rnd() * 19_500),
            f"https://{self.site}/",
            user.ua,
        )
