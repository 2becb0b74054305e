"""Request bodies are cut as they arrive (before authentication) and compressed uploads are bounded."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable, Iterator
from typing import Any

import pyarrow as pa
import pytest
from fastapi.testclient import TestClient

from precinct.anpr import parse
from precinct.core.limits import MIB, gunzip_bounded
from precinct.errors import BadInput


def _rss_bytes() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def _chunks(total: int, size: int = 64 * 1024) -> Iterator[bytes]:
    block = b"x" * size
    sent = 0
    while sent < total:
        yield block
        sent += size


def test_big_body_without_token_is_cut_at_the_default_limit(client: TestClient) -> None:
    # 5 MB with a Content-Length: refused before a byte is read
    r = client.post("/api/v1/calls", content=b"{" + b" " * (5 * MIB) + b"}",
                    headers={"content-type": "application/json"})
    assert r.status_code == 413
    assert r.json()["error"] == "payload_too_large"
    assert set(r.json()) == {"error", "message", "detail"}


def _asgi_post(app: Any, path: str, total: int, chunk: int = 64 * 1024) -> tuple[int, int]:
    """POST ``total`` bytes to ``app`` as an un-sized stream, chunk by chunk (as a socket delivers
    them; TestClient would buffer the whole body first). Returns (status, bytes the app pulled)."""
    block = b"x" * chunk
    pulled = 0
    status = 0

    async def receive() -> dict[str, Any]:
        nonlocal pulled
        if pulled >= total:
            return {"type": "http.disconnect"}
        pulled += chunk
        return {"type": "http.request", "body": block, "more_body": pulled < total}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
             "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"",
             "root_path": "", "headers": [(b"content-type", b"application/json"), (b"host", b"test")],
             "client": ("127.0.0.1", 1), "server": ("test", 80), "app": app}
    asyncio.run(app(scope, receive, send))
    return status, pulled


def test_streamed_body_without_length_is_cut_and_memory_stays_bounded(client: TestClient) -> None:
    app = client.app
    _asgi_post(app, "/api/v1/calls", 1024)  # warm up
    before = _rss_bytes()
    for _ in range(3):
        status, pulled = _asgi_post(app, "/api/v1/calls", 128 * MIB)
        assert status == 413
        assert pulled <= 2 * MIB  # reading stopped at the limit
    # 384 MiB were offered; the server's memory grew by at most a few MiB
    assert _rss_bytes() - before < 32 * MIB


def test_bulk_route_big_limit_only_for_an_allowed_caller(
    client: TestClient, auth_headers: Callable[..., dict[str, str]],
) -> None:
    body = b"plate,ts\n" + b"A" * (2 * MIB)
    anon = client.post("/api/v1/anpr/reads", content=body, headers={"content-type": "text/csv"})
    assert anon.status_code == 413
    forged = client.post("/api/v1/anpr/reads", content=body,
                         headers={"content-type": "text/csv", "Authorization": "Bearer not-a-token"})
    assert forged.status_code == 413
    refused_role = client.post("/api/v1/anpr/reads", content=body,
                               headers={"content-type": "text/csv", **auth_headers("call_taker")})
    assert refused_role.status_code == 413
    ok = client.post("/api/v1/anpr/reads", content=body,
                     headers={"content-type": "text/csv", **auth_headers("admin")})
    assert ok.status_code != 413  # past the size gate: the CSV itself is judged by the route


def test_small_bodies_pass(client: TestClient) -> None:
    r = client.post("/api/v1/calls", json={"x": 1})
    assert r.status_code == 401  # the size gate let it through; authentication refused it


def _bomb(rows: int) -> bytes:
    """An Arrow IPC stream of zeros, zstd-compressed: a few KiB that decompress to rows * 8 bytes."""
    table = pa.table({"plate": pa.array([""], pa.string()).take(pa.array([0] * rows)),
                      "ts": pa.array([0] * rows, pa.int64())})
    sink = io.BytesIO()
    with pa.ipc.new_stream(sink, table.schema,
                           options=pa.ipc.IpcWriteOptions(compression="zstd")) as writer:
        for batch in table.to_batches(max_chunksize=rows // 8):
            writer.write_batch(batch)
    return sink.getvalue()


def test_arrow_ipc_bomb_is_refused_by_decompressed_size(monkeypatch: pytest.MonkeyPatch) -> None:
    data = _bomb(2_000_000)  # ~30 MB decompressed
    assert len(data) < 1 * MIB
    monkeypatch.setenv("PRECINCT_MAX_DECOMPRESSED_BYTES", str(4 * MIB))
    with pytest.raises(BadInput) as err:
        parse.parse_arrow_ipc(data)
    assert err.value.detail["limit"] == "max_decompressed_bytes"
    assert "PRECINCT_MAX_DECOMPRESSED_BYTES" in err.value.message


def test_arrow_ipc_rows_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRECINCT_MAX_ROWS", "1000")
    with pytest.raises(BadInput) as err:
        parse.parse_arrow_ipc(_bomb(80_000))
    assert err.value.detail["limit"] == "max_rows"


def test_arrow_bomb_over_http_is_refused(
    client: TestClient, auth_headers: Callable[..., dict[str, str]], monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PRECINCT_MAX_DECOMPRESSED_BYTES", str(4 * MIB))
    r = client.post("/api/v1/anpr/reads", content=_bomb(2_000_000),
                    headers={"content-type": "application/vnd.apache.arrow.stream", **auth_headers("admin")})
    assert r.status_code == 422
    assert r.json()["detail"]["limit"] == "max_decompressed_bytes"


def test_gzip_bomb_is_bounded() -> None:
    import gzip

    data = gzip.compress(b"\0" * (16 * MIB))
    assert len(data) < 100_000
    with pytest.raises(BadInput):
        gunzip_bounded(data, max_bytes=2 * MIB)
    assert gunzip_bounded(gzip.compress(b"hello")) == b"hello"


def test_security_headers_on_browser_pages(client: TestClient) -> None:
    for path in ("/ui/", "/m/", "/"):
        r = client.get(path, follow_redirects=False)
        csp = r.headers.get("content-security-policy", "")
        assert "frame-ancestors 'none'" in csp, path
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["referrer-policy"] == "no-referrer"
    api = client.get("/api/v1/health")
    assert api.headers["x-content-type-options"] == "nosniff"


def test_larger_limits_name_real_routes_and_policy_actions(client: TestClient) -> None:
    from precinct.app import iter_routes
    from precinct.core.limits import BULK_ROUTES, LARGE_ROUTES
    from precinct.core.policy import rule_for

    posts = {p for p, methods, _r in iter_routes(client.app) if methods & {"POST", "PUT"}}  # type: ignore[arg-type]
    for path, action in {**BULK_ROUTES, **LARGE_ROUTES}.items():
        assert path in posts, path
        assert rule_for(action).roles, action


def test_batch_size_is_read_from_the_header_before_decompressing(monkeypatch: pytest.MonkeyPatch) -> None:
    from precinct.core.limits import record_batch_size

    data = _bomb(400_000)
    reader = pa.ipc.MessageReader.open_stream(pa.BufferReader(data))
    schema = pa.ipc.read_schema(reader.read_next_message())
    for msg in reader:
        rows, size = record_batch_size(msg.metadata.to_pybytes(), msg.body.to_pybytes())
        batch = pa.ipc.read_record_batch(msg, schema)  # the reference: actually decompressed
        assert rows == batch.num_rows
        assert size == sum(b.size for col in batch.columns for b in col.buffers() if b is not None)
    # one huge batch is refused on its header alone: the limit is far below its size
    one = io.BytesIO()
    table = pa.table({"ts": pa.array([0] * 3_000_000, pa.int64())})
    with pa.ipc.new_stream(one, table.schema, options=pa.ipc.IpcWriteOptions(compression="zstd")) as w:
        w.write_table(table, max_chunksize=3_000_000)
    monkeypatch.setenv("PRECINCT_MAX_DECOMPRESSED_BYTES", str(1 * MIB))
    seen: list[int] = []
    real = pa.ipc.read_record_batch
    monkeypatch.setattr(pa.ipc, "read_record_batch", lambda *a, **k: seen.append(1) or real(*a, **k))
    with pytest.raises(BadInput):
        parse.parse_arrow_ipc(one.getvalue())
    assert seen == []  # refused before anything was decompressed


# --- gzip and Parquet request bodies (issue 15) ---------------------------------------------------


def _gzip_bomb(decompressed: int) -> bytes:
    """A JSON-looking gzip body (``[`` then spaces) of ``decompressed`` bytes, built 1 MiB at a time
    so the test itself never holds the decompressed data."""
    import zlib

    c = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    parts = [c.compress(b"[")]
    block = b" " * MIB
    for _ in range(decompressed // MIB):
        parts.append(c.compress(block))
    parts.append(c.compress(b"]"))
    parts.append(c.flush())
    return b"".join(parts)


class _PeakRss:
    """Samples this process's RSS (the TestClient's server runs in it) every few ms; ``peak``."""

    def __init__(self) -> None:
        import threading

        self.peak = _rss_bytes()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, _rss_bytes())
            self._stop.wait(0.002)

    def __enter__(self) -> _PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss_bytes())


@pytest.mark.parametrize("path", ["/api/v1/anpr/reads", "/api/v1/anpr/links"])
def test_gzip_bomb_over_http_is_refused_and_memory_stays_bounded(
    client: TestClient, auth_headers: Callable[..., dict[str, str]], monkeypatch: pytest.MonkeyPatch,
    path: str,
) -> None:
    bomb = _gzip_bomb(384 * MIB)
    assert len(bomb) < 1 * MIB  # a small body ...
    monkeypatch.setenv("PRECINCT_MAX_DECOMPRESSED_BYTES", str(8 * MIB))
    h = {"content-type": "application/json", "content-encoding": "gzip", **auth_headers("admin")}
    client.post(path, content=_gzip_bomb(1 * MIB), headers=h)  # warm up the route
    before = _rss_bytes()
    with _PeakRss() as rss:
        r = client.post(path, content=bomb, headers=h)
    assert r.status_code == 422, r.text
    assert r.json()["detail"]["limit"] == "max_decompressed_bytes"
    assert "PRECINCT_MAX_DECOMPRESSED_BYTES" in r.json()["message"]
    # ... that decompresses to 384 MiB: the server never held more than the 8 MiB limit and change
    assert rss.peak - before < 48 * MIB, (rss.peak - before) / MIB


def test_gzip_errors_name_the_problem(
    client: TestClient, auth_headers: Callable[..., dict[str, str]],
) -> None:
    import gzip

    h = {"content-type": "application/json", "content-encoding": "gzip", **auth_headers("admin")}
    for bad in (b'[{"plate": "A"}]', gzip.compress(b'[{"plate": "A"}]' * 100)[:-30]):  # not gzip; truncated
        r = client.post("/api/v1/anpr/reads", content=bad, headers=h)
        assert r.status_code == 422, r.text
        assert r.json()["detail"] == {"field": "body", "encoding": "gzip"}
        assert "not valid gzip" in r.json()["message"]
    # concatenated gzip members are one body
    assert gunzip_bounded(gzip.compress(b"ab") + gzip.compress(b"cd")) == b"abcd"


@pytest.mark.parametrize("encoding", ["br", "deflate", "compress", "gzip, br"])
def test_unknown_content_encoding_is_415(
    client: TestClient, auth_headers: Callable[..., dict[str, str]], encoding: str,
) -> None:
    for path in ("/api/v1/anpr/reads", "/api/v1/anpr/links"):
        r = client.post(path, content=b"[]", headers={"content-type": "application/json",
                                                       "content-encoding": encoding, **auth_headers("admin")})
        assert r.status_code == 415, (path, r.text)
        assert r.json()["error"] == "unsupported_media_type"
        assert r.json()["detail"]["field"] == "content-encoding"
        assert encoding in r.json()["message"]


def _reads(n: int, prefix: str) -> list[dict[str, Any]]:
    """``n`` reads (seeded, the same for every prefix but the read ids), one exact in-batch repeat
    and one read without a plate."""
    import random

    rng = random.Random(15)
    t0 = 1_772_323_200  # 2026-03-01T00:00:00Z
    out = [{"plate": f"GZ{rng.randrange(500):04d}",
            "ts": _iso(t0 + rng.randrange(86_400 * 5)),
            "lat": round(31.3 + rng.uniform(-0.1, 0.1), 6), "lon": round(120.6 + rng.uniform(-0.1, 0.1), 6),
            "camera_id": f"CAM{rng.randrange(20):02d}", "read_id": f"{prefix}{i}"} for i in range(n)]
    return [*out, dict(out[7]), {**out[3], "plate": "", "read_id": f"{prefix}bad"}]


def _iso(seconds: int) -> str:
    import datetime as dt

    return dt.datetime.fromtimestamp(seconds, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parquet(rows: list[dict[str, Any]], row_group_size: int) -> bytes:
    import pyarrow.parquet as pq

    sink = io.BytesIO()
    pq.write_table(pa.Table.from_pylist(rows), sink, row_group_size=row_group_size)
    return sink.getvalue()


def test_gzip_and_parquet_batches_store_the_same_reads_as_plain_json(
    client: TestClient, auth_headers: Callable[..., dict[str, str]], settings: Any,
) -> None:
    import csv
    import datetime as dt
    import gzip
    import json

    from precinct.anpr import service

    def csv_body(rows: list[dict[str, Any]]) -> bytes:
        out = io.StringIO()
        w = csv.DictWriter(out, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
        return out.getvalue().encode()

    n = 1500
    bodies = {
        "J": ("application/json", None, lambda rows: json.dumps({"reads": rows}).encode()),
        "GJ": ("application/json", "gzip", lambda rows: gzip.compress(json.dumps(rows).encode())),
        "GC": ("text/csv", "gzip", lambda rows: gzip.compress(csv_body(rows))),
        "P": ("application/vnd.apache.parquet", None, lambda rows: _parquet(rows, 400)),
        "GP": ("application/x-parquet", "gzip", lambda rows: gzip.compress(_parquet(rows, 1000))),
    }
    answers = {}
    for prefix, (ctype, enc, make) in bodies.items():
        h = {"content-type": ctype, **({"content-encoding": enc} if enc else {}), **auth_headers("admin")}
        r = client.post("/api/v1/anpr/reads", content=make(_reads(n, prefix + "-")), headers=h)
        assert r.status_code == 200, (prefix, r.text)
        answers[prefix] = (r.json()["stored"], r.json()["duplicates"], r.json()["rejected"])
    # brute force from the input: every read with a plate, once per (read_id, ts)
    expected = set()
    for row in _reads(n, ""):
        if row["plate"]:
            ts_us = int(dt.datetime.strptime(row["ts"], "%Y-%m-%dT%H:%M:%SZ")
                        .replace(tzinfo=dt.UTC).timestamp()) * 1_000_000
            expected.add((row["read_id"], row["plate"], ts_us, row["camera_id"]))
    assert len(expected) == n
    assert set(answers.values()) == {(n, 1, 1)}
    stored = service.warehouse(settings).query("SELECT read_id, plate, ts_us, camera_id FROM anpr_reads")
    by_prefix: dict[str, set[tuple[str, str, int, str]]] = {p: set() for p in bodies}
    for read_id, plate, ts_us, camera in stored:
        prefix, _, rid = read_id.partition("-")
        by_prefix[prefix].add((rid, plate, ts_us, camera))
    for prefix in bodies:
        assert by_prefix[prefix] == expected, prefix


@pytest.mark.parametrize(("env", "limit"), [("PRECINCT_MAX_ROWS", "max_rows"),
                                            ("PRECINCT_MAX_DECOMPRESSED_BYTES", "max_decompressed_bytes")])
def test_parquet_footer_over_the_limits_is_refused_before_reading(
    client: TestClient, auth_headers: Callable[..., dict[str, str]], monkeypatch: pytest.MonkeyPatch,
    env: str, limit: str,
) -> None:
    import pyarrow.parquet as pq

    body = _parquet(_reads(5000, "F-"), 1000)
    monkeypatch.setenv(env, "2000" if limit == "max_rows" else str(16 * 1024))
    read: list[str] = []
    for name in ("iter_batches", "read_row_group", "read_row_groups", "read"):
        real = getattr(pq.ParquetFile, name)
        monkeypatch.setattr(pq.ParquetFile, name,
                            lambda self, *a, _n=name, _r=real, **k: read.append(_n) or _r(self, *a, **k))
    r = client.post("/api/v1/anpr/reads", content=body,
                    headers={"content-type": "application/vnd.apache.parquet", **auth_headers("admin")})
    assert r.status_code == 422, r.text
    assert r.json()["detail"]["limit"] == limit
    assert read == []  # refused on the footer: no row group was read
    assert service_count(client) == 0


def service_count(client: TestClient) -> int:
    from precinct.anpr import service

    return int(service.warehouse(client.app.state.settings)  # type: ignore[attr-defined]
               .query("SELECT count(*) FROM anpr_reads")[0][0])


def test_malformed_parquet_is_422_naming_the_problem(
    client: TestClient, auth_headers: Callable[..., dict[str, str]],
) -> None:
    h = {"content-type": "application/vnd.apache.parquet", **auth_headers("admin")}
    good = _parquet(_reads(50, "M-"), 10)
    for bad in (b"not parquet at all", good[: len(good) // 2], good[:4] + b"\0" * 200 + good[204:]):
        r = client.post("/api/v1/anpr/reads", content=bad, headers=h)
        assert r.status_code == 422, r.text
        assert r.json()["detail"]["field"] == "body"
        assert "Parquet" in r.json()["message"]
    r = client.post("/api/v1/anpr/reads", content=_parquet([{"plate": "A1"}], 10), headers=h)
    assert r.status_code == 422 and "ts" in r.json()["message"]  # a missing required column is named


def test_parquet_footer_that_understates_is_caught_as_batches_are_read(
    client: TestClient, auth_headers: Callable[..., dict[str, str]], monkeypatch: pytest.MonkeyPatch,
) -> None:
    from precinct.core import limits

    # a footer that lies is simulated by skipping the footer check: the batches read are counted too,
    # and the batch is refused as a whole (nothing of it stored)
    monkeypatch.setattr(limits, "parquet_budget_check", lambda *_a, **_k: None)
    monkeypatch.setenv("PRECINCT_MAX_ROWS", "2500")
    body = _parquet(_reads(5000, "U-"), 1000)
    r = client.post("/api/v1/anpr/reads", content=body,
                    headers={"content-type": "application/vnd.apache.parquet", **auth_headers("admin")})
    assert r.status_code == 422, r.text
    assert r.json()["detail"]["limit"] == "max_rows"
    assert service_count(client) == 0
