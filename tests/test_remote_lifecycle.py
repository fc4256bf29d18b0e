"""A bucket's life, modelled: objects written, grown, replaced, copied and deleted between imports.

Invariant after every import: the database holds exactly the redirect lines that were in some
object at the time of some import, each once; and an import right after it lists the bucket and
reads nothing (every object skipped from the listing). The store is fsspec's in-memory
filesystem (its own test double: same listing, tags and reads as s3fs, in-process), so the
model can run many steps; tests/test_cloud_import.py covers the real S3, GCS and Azure servers.

Objects are small (most under the 1 KiB head), so copies that are prefixes of content
imported before them are exercised too. Copies are snapshots: only originals grow or are
replaced, because two objects that share a beginning and then grow apart are, by design,
two contents (a shared head that disagrees later is a new generation, read from the start),
and the lines they share would count in both.
"""

from __future__ import annotations

import gzip
import uuid

import fsspec
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from cloud import CB, UID, combined_line
from smartcar_logs.importer import import_paths
from smartcar_logs.store import open_db


def lines(states: list[str], noise: int) -> bytes:
    out = []
    for n, s in enumerate(states):
        out += [combined_line(f"/p/{s}/{k}", k) for k in range(noise)]
        out.append(combined_line(f"{CB}?user_id={UID}&state={s}", n))
    return "".join(out).encode()


class Bucket(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self.fs = fsspec.filesystem("memory", use_listings_cache=False)
        self.root = f"bucket-{uuid.uuid4().hex[:10]}"
        self.db = open_db(None)
        # key -> (redirect states, gzip, the log text before compression)
        self.objects: dict[str, tuple[list[str], bool, bytes]] = {}
        self.expected: set[str] = set()
        self.counter = 0
        self.imported_once = False

    def _states(self, n: int) -> list[str]:
        self.counter += n
        return [f"s{self.counter - i}" for i in range(n - 1, -1, -1)]

    def _put(self, key: str, states: list[str], gz: bool, plain: bytes) -> None:
        self.fs.pipe(f"/{self.root}/{key}", gzip.compress(plain, mtime=0) if gz else plain)
        self.objects[key] = (states, gz, plain)

    @rule(n=st.integers(1, 4), gz=st.booleans())
    def write_new_object(self, n, gz):
        states = self._states(n)
        self._put(f"logs/2026/10/{self.counter:04d}.log", states, gz, lines(states, 2))

    def _originals(self) -> list[str]:
        return sorted(k for k in self.objects if not k.startswith("copies/"))

    @precondition(lambda self: self._originals())
    @rule(data=st.data(), n=st.integers(1, 3))
    def grow_an_object(self, data, n):
        key = data.draw(st.sampled_from(self._originals()))
        states, gz, plain = self.objects[key]
        new = self._states(n)
        self._put(key, states + new, gz, plain + lines(new, 1))  # same key, old lines first: a new tag

    @precondition(lambda self: self._originals())
    @rule(data=st.data(), n=st.integers(1, 3))
    def replace_an_object(self, data, n):
        key = data.draw(st.sampled_from(self._originals()))
        states = self._states(n)
        self._put(key, states, self.objects[key][1], lines(states, 0))

    @precondition(lambda self: self.objects)
    @rule(data=st.data())
    def copy_an_object(self, data):
        key = data.draw(st.sampled_from(sorted(self.objects)))
        states, gz, plain = self.objects[key]  # the same content under another key
        self._put(f"copies/{self.counter:04d}-{len(self.objects)}.log", list(states), gz, plain)

    @precondition(lambda self: self.objects)
    @rule(data=st.data())
    def delete_an_object(self, data):
        key = data.draw(st.sampled_from(sorted(self.objects)))
        self.fs.rm(f"/{self.root}/{key}")
        del self.objects[key]

    @rule()
    def import_the_bucket(self):
        res = import_paths(self.db, [f"memory://{self.root}/"])
        assert res.errors == 0, [f.message for f in res.files]
        for states, _, _ in self.objects.values():
            self.expected.update(states)
        self.imported_once = True
        again = import_paths(self.db, [f"memory://{self.root}/"])
        assert (again.objects_listed, again.objects_skipped, again.files) == (
            len(self.objects),
            len(self.objects),
            [],
        )

    @invariant()
    def every_redirect_seen_at_an_import_stored_once(self):
        if not self.imported_once:
            return
        got = [r[0] for r in self.db.execute("SELECT state FROM redirects")]
        assert len(got) == len(set(got)), "a redirect was stored twice"
        assert set(got) == self.expected

    def teardown(self):
        if self.fs.exists(f"/{self.root}"):
            self.fs.rm(f"/{self.root}", recursive=True)
        self.db.conn.close()


Bucket.TestCase.settings = settings(
    max_examples=60, stateful_step_count=15, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
TestBucket = Bucket.TestCase
