"""Seeded generator of SYNTHETIC web-server access logs containing Smartcar Connect traffic.

**Everything this package writes is synthetic.** Client addresses come from the documentation
ranges (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32, plus 10.0.0.0/8 for probes),
the site is ``example.com``, crawler user agents point at ``example.org``, and every state,
user_id, code and VIN is drawn from a seeded ``random.Random``. Access logs cannot carry a
comment line, so the "synthetic" label lives here and in ``data/sample/README.md``.

What is in a file
    * Ordinary traffic: pages, static assets, API calls (GET/POST/PUT/PATCH/DELETE), health
      checks, HEAD requests, crawlers, vulnerability scanners (404s), logins.  These lines come
      from a precomputed pool, so they never touch the redirect or launch path and never carry
      ``code=``, ``error=``, ``user_id=`` or ``state=``.
    * Connect attempts: a launch ``GET {launch_path}?state=<10 hex>`` (the app's own endpoint
      that 302s to connect.smartcar.com), then seconds to minutes later, from the same client,
      the redirect ``GET {redirect_path}?...&state=<same>``.  Some launches are abandoned (no
      redirect), some errors are retried with a new state (and succeed), some redirects are
      reloaded (same line again seconds later), a few redirects carry no state at all (e.g. a
      Connect link shared from the Dashboard) and a few carry a state whose launch is not in
      the file ("orphans").
    * Look-alikes for an importer to reject: other OAuth callbacks of the same app
      (``/auth/google/callback?code=4/0AX4Xf...&state=...``) and ``code=`` / ``error=`` /
      ``user_id=`` query parameters on unrelated paths.

:func:`generate_log` returns the exact ground truth (see its docstring), so tests of an importer
can compare against it; :func:`generate_file` writes a file (gzip when it ends in ``.gz``).

Where things live: ``catalogue`` (the outcome mix and other labelled assumptions, vehicles and
VINs), ``writers`` (``Request``, ``CLOCKS``, the line ``WRITERS``; adding a format is described
there), ``traffic`` (clients and the ordinary-request pool), ``connect`` (Connect attempts and
look-alikes, planned then rendered, with the ground-truth counters), ``driver`` (time axis,
hour-by-hour merge, the public functions).

Speed: ordinary lines are pooled and pre-rendered; timestamps are an hour prefix plus a
precomputed ``MM:SS`` table (no ``strftime`` per line); output is written in large batches.

The writer-side names (``WRITERS``, ``LineWriter``, ``GENERATED_ERRORS``) differ on purpose from
the reader-side ``formats.FORMATS`` / ``formats.LineFormat`` / ``redirect.ERROR_CODES``.
"""

# Independent oracle: nothing in this package imports from the rest of smartcar_logs, so a bug
# in the readers or the normaliser cannot reproduce itself in the ground truth tests compare to.

from __future__ import annotations

from .catalogue import DEFAULT_HOST, GENERATED_ERRORS, OUTCOME_MIX
from .driver import generate_file, generate_log
from .writers import CLOCKS, WRITERS, LineWriter, Request

__all__ = [
    "generate_log",
    "generate_file",
    "Request",
    "LineWriter",
    "WRITERS",
    "CLOCKS",
    "OUTCOME_MIX",
    "GENERATED_ERRORS",
    "DEFAULT_HOST",
]
