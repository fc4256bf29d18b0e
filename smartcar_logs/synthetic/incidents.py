"""Incidents injected into a SYNTHETIC log, so that ``smartcar-logs check`` has something to find.

``KIND@OFFSET`` (``generate --incident``) starts an incident at OFFSET and lets it run to the
end of the log: ``-1h`` is one hour before the end, ``+3d`` three days after the start (units
s, m, h, d). The kinds are what breaks Connect in practice (issue 24):

``server_error``
    a Smartcar or OEM outage: a quarter of the redirects turn into ``server_error``;
``denial``
    a scope or consent-screen change: a quarter of the redirects turn into ``access_denied``;
``config_break``
    a broken redirect URI after a deploy: no redirect arrives any more, while launches and
    ordinary traffic go on (the attempts are abandoned as far as the log can tell);
``incompatible[:MAKE]``
    a marketing push to an unsupported fleet: a sixth of the redirects turn into
    ``vehicle_incompatible`` for MAKE (default FIAT), with the vehicle's details sent.

Which redirects an incident changes is drawn from a random stream of its own; the log is
not the clean log of the same seed with a few lines changed (a changed outcome changes what
else the generator draws, e.g. a retry), but the same rates with the incident from its start.
The ground truth counts the redirects each incident changed or dropped (``incidents``).
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from urllib.parse import quote_plus

__all__ = ["Incident", "parse_incident", "KINDS"]

KINDS = ("server_error", "denial", "config_break", "incompatible")
#: Share of the redirects an incident turns into its error (an assumption: big enough to
#: matter, small enough that most logins still work, as in a partial outage).
SHARE = {"server_error": 0.25, "denial": 0.25, "incompatible": 1 / 6}
_CODE = {"server_error": "server_error", "denial": "access_denied", "incompatible": "vehicle_incompatible"}
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_OFFSET = re.compile(r"^([+-])(\d+(?:\.\d+)?)([smhd])$")


@dataclass(frozen=True)
class Incident:
    """One incident: *kind* (see :data:`KINDS`), *offset* seconds (negative: from the end of
    the log, else from its start), *make* for ``incompatible``."""

    kind: str
    offset: float
    make: str | None = None

    def __str__(self) -> str:
        kind = f"{self.kind}:{self.make}" if self.make else self.kind
        sign = "-" if self.offset < 0 else "+"
        return f"{kind}@{sign}{abs(self.offset):g}s"


def parse_incident(text: str) -> Incident:
    """``server_error@-1h``, ``incompatible:MAZDA@-2h``, ``denial@+3d`` -> :class:`Incident`."""
    kind, at, offset = text.strip().partition("@")
    if not at:
        raise ValueError(f"incident {text!r}: expected KIND@OFFSET, e.g. server_error@-1h")
    kind, _, make = kind.partition(":")
    if kind not in KINDS:
        raise ValueError(f"incident {text!r}: kind is one of {', '.join(KINDS)}")
    if make and kind != "incompatible":
        raise ValueError(f"incident {text!r}: only incompatible takes a :MAKE")
    m = _OFFSET.match(offset.strip())
    if not m:
        raise ValueError(f"incident {text!r}: offset like -1h (before the end) or +2d (after the start)")
    seconds = float(m.group(2)) * _UNITS[m.group(3)]
    return Incident(kind, -seconds if m.group(1) == "-" else seconds, make.upper() if make else None)


class Plan:
    """The incidents of one log, on the generator's time axis (seconds ``t_lo`` .. ``t_hi``).

    The generator calls :meth:`outcome` for each attempt's redirect, :meth:`drops` before it
    plans a redirect, and :meth:`query` when it renders one this plan changed.
    """

    def __init__(self, incidents, t_lo: int, t_hi: int, seed: int, outcomes: tuple[str, ...]) -> None:
        self.rng = random.Random(f"{seed}:incidents")
        self.spans = []
        for inc in incidents:
            start = t_hi + inc.offset if inc.offset < 0 else t_lo + inc.offset
            self.spans.append((max(t_lo, int(start)), inc))
        self.index = {code: i for i, code in enumerate(outcomes)}
        self.makes: dict[int, str] = {}  # attempt id -> the make its incompatible redirect names
        self.counts = {str(inc): 0 for _, inc in self.spans}

    def drops(self, t: int) -> bool:
        """Whether a redirect at *t* never reaches the log (a config break is on)."""
        for start, inc in self.spans:
            if inc.kind == "config_break" and t >= start:
                self.counts[str(inc)] += 1
                return True
        return False

    def outcome(self, aid: int, t: int, outcome: int) -> int:
        """The outcome (index) of attempt *aid*'s redirect at *t*: *outcome*, or an incident's."""
        for start, inc in self.spans:
            share = SHARE.get(inc.kind)
            if share and t >= start and self.rng.random() < share:
                self.counts[str(inc)] += 1
                if inc.kind == "incompatible":
                    self.makes[aid] = inc.make or "FIAT"
                return self.index[_CODE[inc.kind]]
        return outcome

    def query(self, aid: int, vehicles, state: str | None) -> tuple[str, tuple] | None:
        """The query of an incompatible-surge redirect (vehicle details always sent), and the
        counters' (flow, vehicle info, test VIN); None for a redirect this plan did not change."""
        make = self.makes.get(aid)
        if make is None:
            return None
        r = self.rng
        fleet = [v for v in vehicles if v.make == make]
        params = [
            "error=vehicle_incompatible",
            "error_description=" + quote_plus("The user's vehicle is not compatible."),
        ]
        if fleet:
            v = fleet[int(r.random() * len(fleet))]
            params += [f"vin={v.vin}", f"make={quote_plus(make)}", f"model={quote_plus(v.model)}"]
        else:
            params.append(f"make={quote_plus(make)}")
        if state is not None:
            params.append(f"state={state}")
        return "&".join(params), (None, True, False)
