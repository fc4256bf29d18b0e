"""How a site's launch and redirect carry ``state``: the generator's launch modes.

A table of ``(weight, mode)`` rows says which share of the Connect attempts each mode has (a
log of several sites, or one site that changed its code); one mode alone is that mode for
every attempt. The modes, as apps really build them:

``state``
    The launch URL carries the app's state, ``GET {launch_path}?state=<s>``, and the redirect
    echoes it: the funnel pairs them exactly.
``stateless``
    The app makes ``state`` on the server (the SDKs' ``getAuthUrl(scope, {state})``) and its
    launch endpoint answers ``GET {launch_path}`` (no query) with a 302 to Connect; the redirect
    carries a state the launch never showed. Only the client (IP and user agent) ties them.
``js-sdk``
    A self-hosted JavaScript-SDK redirect page: the launch carries the app's state, Connect
    gets the SDK's ``state``, base64 of ``{"instanceId": ..., "originalState": <the app's>}``
    (smartcar/javascript-sdk ``src/sdk.js`` ``getAuthUrl``: ``window.btoa(JSON.stringify(...))``),
    and the redirect echoes that, percent-encoded.
"""

from __future__ import annotations

import base64
import json
import random
from urllib.parse import quote

#: The launch modes, in the order of their index in the generator's per-attempt arrays.
LAUNCH_MODES = ("state", "stateless", "js-sdk")
_STATE, _STATELESS, _JS_SDK = range(3)


def mode_table(launch_modes: str | tuple | list) -> tuple[tuple[float, int], ...]:
    """``((weight, mode index), ...)`` of a mode name or a ``(weight, mode)`` table."""
    rows = [(1.0, launch_modes)] if isinstance(launch_modes, str) else list(launch_modes)
    table = []
    for weight, mode in rows:
        if mode not in LAUNCH_MODES:
            raise ValueError(f"unknown launch mode {mode!r}; choose from {', '.join(LAUNCH_MODES)}")
        if not weight >= 0:
            raise ValueError("launch mode weights must be >= 0")
        table.append((float(weight), LAUNCH_MODES.index(mode)))
    if not table or sum(w for w, _ in table) <= 0:
        raise ValueError("launch_modes needs a mode with a positive weight")
    return tuple(table)


def pick_mode(table: tuple[tuple[float, int], ...], rnd) -> int:
    """One attempt's mode; a table of one mode draws nothing (older seeds write the same bytes)."""
    if len(table) == 1:
        return table[0][1]
    x = rnd() * sum(w for w, _ in table)
    for weight, mode in table:
        if x < weight:
            return mode
        x -= weight
    return table[-1][1]


def launch_target(launch_path: str, mode: int, app_state: str) -> str:
    """The launch line's target: the app's state in the URL except in the stateless mode."""
    return launch_path if mode == _STATELESS else f"{launch_path}?state={app_state}"


def redirect_state(mode: int, app_state: str, instance_id: str) -> str:
    """The ``state`` value on the redirect (already encoded for the query)."""
    if mode != _JS_SDK:
        return app_state  # stateless: the server's state, which the launch never showed
    raw = json.dumps({"instanceId": instance_id, "originalState": app_state}, separators=(",", ":"))
    return quote(base64.b64encode(raw.encode()).decode("ascii"), safe="")


def instance_id(rng: random.Random) -> str:
    """A JS SDK instance id (the SDK uses a UUID v4 per page load)."""
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-{h[20:]}"


def empty_truth() -> dict[str, dict[str, int]]:
    """Per mode: ``launched`` (launch lines, one per attempt), ``returned`` (of them, those whose
    redirect is in the file), ``succeeded`` (of those, a success)."""
    return {m: {"launched": 0, "returned": 0, "succeeded": 0} for m in LAUNCH_MODES}
