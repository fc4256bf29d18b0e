"""Object storage listing: the same answers from S3 (moto), GCS (emulator) and Azure (Azurite).

Contract: a prefix lists every object under it, oldest key first; a quoted glob lists the
matches; each object carries a version tag that changes when the object is rewritten; the
key dates of the ALB, CloudFront, GCS-sink and Azure layouts prune objects before any read;
markers and folder placeholders are never listed; no credential appears in a label.
"""

from __future__ import annotations

from datetime import date

import pytest

from smartcar_logs.importer.remote import (
    RemoteError,
    is_remote,
    key_date,
    list_objects,
    open_object,
    safe_url,
)

ALB = "AWSLogs/123456789012/elasticloadbalancing/eu-west-1/{}/123456789012_elasticloadbalancing_eu-west-1_app.x_{}.log.gz"


def _alb_keys():
    return [
        ALB.format(d, d.replace("/", "") + f"T0{h}05Z")
        for d in ("2026/09/30", "2026/10/01", "2026/10/02")
        for h in (0, 1)
    ]


@pytest.fixture(params=["s3", "gs", "az"])
def store(request):
    """(filesystem, scheme, bucket) on a real local server for each cloud."""
    fs, bucket = request.getfixturevalue({"s3": "s3", "gs": "gcs", "az": "azure"}[request.param])
    return fs, request.param, bucket


def test_prefix_glob_tags_and_key_date_pruning(store):
    fs, scheme, bucket = store
    keys = _alb_keys()
    for k in keys:
        fs.pipe(f"{bucket}/{k}", k.encode() + b"\n")
    fs.pipe(f"{bucket}/AWSLogs/123456789012/ELBAccessLogTestFile", b"Enable AccessLog for ELB: x\n")

    listed = list_objects(f"{scheme}://{bucket}/AWSLogs/")
    assert [o.url for o in listed] == [f"{scheme}://{bucket}/{k}" for k in sorted(keys)]
    assert all(o.tag and o.size == len(k) + 1 for o, k in zip(listed, sorted(keys)))

    window = list_objects(f"{scheme}://{bucket}/AWSLogs/", since=date(2026, 10, 1), until=date(2026, 10, 2))
    assert [key_date(o.url) for o in window] == [date(2026, 10, 1)] * 2

    glob = list_objects(f"{scheme}://{bucket}/AWSLogs/*/elasticloadbalancing/*/2026/10/*/*T010*.log.gz")
    assert [o.url.rsplit("_", 1)[1] for o in glob] == ["20261001T0105Z.log.gz", "20261002T0105Z.log.gz"]

    # Rewriting an object changes its tag; the untouched ones keep theirs.
    before = {o.url: o.tag for o in listed}
    fs.pipe(f"{bucket}/{keys[0]}", b"rewritten\n")
    after = {o.url: o.tag for o in list_objects(f"{scheme}://{bucket}/AWSLogs/")}
    changed = [u for u in before if before[u] != after[u]]
    assert changed == [f"{scheme}://{bucket}/{keys[0]}"]

    with open_object(f"{scheme}://{bucket}/{keys[1]}") as f:
        assert f.peek(3)[:3] == b"AWS"
        assert f.read() == keys[1].encode() + b"\n"


def test_missing_bucket_is_a_clear_error(s3):
    with pytest.raises(RemoteError, match=r"s3://no-such-bucket-x/: no such bucket"):
        list_objects("s3://no-such-bucket-x/")


def test_key_dates_of_each_layout():
    assert key_date(ALB.format("2026/10/01", "20261001T0005Z")) == date(2026, 10, 1)
    assert key_date("cloudfront/E2EXAMPLE.2026-10-01-12.abcd1234.gz") == date(2026, 10, 1)
    assert key_date("E2EXAMPLE.2026-02-30-12.abcd1234.gz") is None  # not a date
    assert key_date("requests/2026/10/02/00:00:00_00:59:59_S0.json") == date(2026, 10, 2)
    assert key_date("resourceId=/X/y=2026/m=10/d=03/h=00/m=00/PT1H.json") == date(2026, 10, 3)
    assert key_date("nginx/access.log.2.gz") is None


def test_urls_are_printed_without_credentials():
    assert is_remote("s3://b/k") and is_remote("ABFS://c/k") and not is_remote("/var/log/x")
    assert safe_url("s3://AKIA:secret@bucket/key?x=1") == "s3://bucket/key"
    assert safe_url("az://c/p/file.log?sv=2024&sig=SECRET") == "az://c/p/file.log"
