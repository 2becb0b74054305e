"""Person–vehicle links ingest: POST /api/v1/anpr/links (JSON and CSV) and the CSV import.

Idempotent on link_id (or on person, plate and ts without one), rejects located by item/line,
one collection audit record per batch, the role rule of the reads ingest route, and the stored
links are what the person–vehicles query reads (compared against a brute-force count).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from precinct.anpr import analysis, links, service
from precinct.anpr.queries import DuckEngine
from precinct.config import Settings
from precinct.core.db import Database
from precinct.core.models import AuditRecord
from precinct.core.roles import Role
from precinct.core.warehouse import Warehouse
from precinct.errors import BadInput

from .conftest import DAY_US, HOUR_US, T0_US, iso

Headers = Callable[..., dict[str, str]]
URL = "/api/v1/anpr/links"


def stored_links(settings: Settings) -> list[tuple[Any, ...]]:
    return service.warehouse(settings).query(
        "SELECT link_id, person_id, plate, ts_us, source FROM anpr_links ORDER BY person_id, ts_us, plate"
    )


def collections(app: FastAPI) -> list[AuditRecord]:
    with app.state.db.sessionmaker() as s:
        q = select(AuditRecord).where(
            AuditRecord.resource == "anpr.links", AuditRecord.action == "collection"
        )
        return list(s.scalars(q.order_by(AuditRecord.seq)))


def thief_links() -> list[dict[str, Any]]:
    """P1 on 7 e-bikes in 9 days (the story), P2 on one bike many times."""
    out = []
    for i in range(7):
        out.append({"link_id": f"L1-{i}", "person_id": "P1", "plate": f"tag-{i:03d}",
                    "ts": iso(T0_US + int(i * 1.2 * DAY_US)), "source": "tag-reader"})
        out.append({"link_id": f"L2-{i}", "person_id": "P2", "plate": "苏E·00001",
                    "ts": iso(T0_US + i * HOUR_US), "source": "checkpoint"})
    return out


def test_json_batch_is_stored_once_and_audited(
    app: FastAPI, client: TestClient, auth_headers: Headers, settings: Settings
) -> None:
    h = auth_headers("patrol")
    rows = thief_links()
    r = client.post(URL, json={"links": rows}, headers=h)
    assert r.status_code == 200, r.text
    assert {k: r.json()[k] for k in ("stored", "duplicates", "rejected")} == {
        "stored": 14, "duplicates": 0, "rejected": 0}
    # a retry of the same batch (plus one new link) stores only the new one
    again = [*rows, {"link_id": "L3", "person_id": "P3", "plate": "A1", "ts": iso(T0_US)}]
    r = client.post(URL, json=again, headers=h)
    assert {k: r.json()[k] for k in ("stored", "duplicates")} == {"stored": 1, "duplicates": 14}
    got = stored_links(settings)
    assert len(got) == 15 and len({g[0] for g in got}) == 15
    assert ("L2-0", "P2", "苏E00001", T0_US, "checkpoint") in got  # plate normalised
    assert [a.result_count for a in collections(app)] == [14, 1]
    params = [json.loads(a.params) if isinstance(a.params, str) else a.params for a in collections(app)]
    assert [p["duplicates"] for p in params] == [0, 14]
    # what the person–vehicles query reads: P1 has 7 distinct vehicles within 9 days
    found = analysis.person_many_vehicles(DuckEngine(service.warehouse(settings)), min_vehicles=5, days=9)
    assert [(p["person_id"], p["vehicles"]) for p in found["people"]] == [("P1", 7)]


def test_without_link_id_the_same_person_plate_and_time_is_one_link(
    client: TestClient, auth_headers: Headers, settings: Settings
) -> None:
    h = auth_headers("analyst")
    row = {"person_id": "P9", "plate": "苏M 12345", "ts": "2026-03-01T08:00:00+08:00"}
    same = {"person_id": "P9", "plate": "苏M-12345", "ts": "2026-03-01T00:00:00Z", "source": "x"}
    later = {**row, "ts": "2026-03-01T09:00:00+08:00"}
    r = client.post(URL, json=[row, same, later], headers=h)
    assert (r.json()["stored"], r.json()["duplicates"]) == (2, 1)
    r = client.post(URL, json=[row], headers=h)
    assert (r.json()["stored"], r.json()["duplicates"]) == (0, 1)
    assert len(stored_links(settings)) == 2


def test_rejects_name_item_field_and_reason_and_the_rest_is_stored(
    client: TestClient, auth_headers: Headers, settings: Settings
) -> None:
    good = {"person_id": "P1", "plate": "A1", "ts": iso(T0_US)}
    batch = [
        good,
        {"plate": "A2", "ts": iso(T0_US)},  # 2: no person
        {"person_id": "P1", "plate": " ·- ", "ts": iso(T0_US)},  # 3: nothing left of the plate
        {"person_id": "P1", "plate": "A3", "ts": "2026-03-01T08:00:00"},  # 4: no offset
        {"person_id": "P1", "plate": "A4", "ts": "yesterday"},  # 5
        "not an object",  # 6
        {"person_id": "P1", "plate": "A5", "ts": iso(T0_US), "link_id": "x" * 129},  # 7
        {"person_id": True, "plate": "A6", "ts": iso(T0_US)},  # 8: wrong JSON type
        {"person_id": 42, "plate": "A7", "ts": iso(T0_US)},  # 9: a number id is fine
    ]
    r = client.post(URL, json={"links": batch}, headers=auth_headers("admin"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["stored"], body["rejected"]) == (2, 7)
    where = [(x["item"], x["field"]) for x in body["rejects"]]
    assert where == [(2, "person_id"), (3, "plate"), (4, "ts"), (5, "ts"), (6, "item"),
                     (7, "link_id"), (8, "person_id")]
    assert all(x["reason"] for x in body["rejects"])
    assert {g[1] for g in stored_links(settings)} == {"P1", "42"}


def test_csv_body_and_whole_batch_errors(client: TestClient, auth_headers: Headers, settings: Settings) -> None:
    h = {**auth_headers("supervisor"), "Content-Type": "text/csv"}
    text = (
        "person_id,plate,ts,source\n"
        f"P1,A1,{iso(T0_US)},s\n"
        "P1,A2,not-a-time,s\n"
        "P1,A3\n"
        f"P2,A4,{iso(T0_US + HOUR_US)},\n"
    )
    r = client.post(URL, content=text.encode(), headers=h)
    assert r.status_code == 200, r.text
    assert (r.json()["stored"], r.json()["rejected"]) == (2, 2)
    assert [(x["line"], x["field"]) for x in r.json()["rejects"]] == [(3, "ts"), (4, "row")]
    # wrong columns, not JSON, wrong content type: the whole batch is refused, nothing stored
    r = client.post(URL, content=b"person,plate\nP1,A1\n", headers=h)
    assert r.status_code == 422 and r.json()["detail"]["field"] == "person_id"
    r = client.post(URL, content=b"{not json", headers={**h, "Content-Type": "application/json"})
    assert r.status_code == 422 and r.json()["detail"]["field"] == "body"
    r = client.post(URL, json={"reads": []}, headers=auth_headers("supervisor"))
    assert r.status_code == 422 and r.json()["detail"]["field"] == "links"
    r = client.post(URL, content=b"x", headers={**h, "Content-Type": "application/xml"})
    assert r.status_code == 422 and r.json()["detail"]["field"] == "content-type"
    assert len(stored_links(settings)) == 2


@pytest.mark.parametrize("role", list(Role))
def test_role_rule_matches_the_reads_ingest_route(
    client: TestClient, auth_headers: Headers, role: Role
) -> None:
    row = [{"person_id": "P1", "plate": "A1", "ts": iso(T0_US)}]
    links_status = client.post(URL, json=row, headers=auth_headers(role.value)).status_code
    reads_status = client.post("/api/v1/anpr/reads", json=[], headers=auth_headers(role.value)).status_code
    assert (links_status == 403) == (reads_status == 403), (role, links_status, reads_status)
    assert client.post(URL, json=row).status_code == 401


def test_cli_import_shares_the_store_and_is_idempotent(db: Database, wh: Warehouse, tmp_path: Path) -> None:
    path = tmp_path / "links.csv"
    path.write_text(
        "\ufeffperson_id,plate,ts,source\n"
        f"P1,苏E·1,{iso(T0_US)},a\n"
        f"P1,苏e1,{iso(T0_US)},b\n"  # the same link (person, plate after normalisation, time)
        f"P2,B2,{iso(T0_US)},a\n",
        encoding="utf-8",
    )
    first = service.import_links(db=db, wh=wh, path=path, actor="t", role="admin")
    assert (first["stored"], first["duplicates"], first["rejected"]) == (2, 1, 0)
    second = service.import_links(db=db, wh=wh, path=path, actor="t", role="admin")
    assert (second["stored"], second["duplicates"]) == (0, 3)
    with pytest.raises(BadInput) as err:
        links.parse_csv(tmp_path / "missing.csv")
    assert err.value.detail["field"] == "path"
