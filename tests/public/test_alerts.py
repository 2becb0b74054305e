"""CAP 1.2 alerts: every document validated against the OASIS schema and its signature verified."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from lxml import etree
from sqlalchemy import select
from typer.testing import CliRunner

from precinct.cli import app as cli_app
from precinct.config import Settings
from precinct.core.db import Database
from precinct.core.identity import create_user
from precinct.core.models import AuditRecord
from precinct.errors import BadInput, Conflict, Forbidden
from precinct.public import alerts as al
from precinct.public import cap
from precinct.public.areas import parse_circle, parse_polygon
from precinct.public.stations import add_station_area

NS = {"cap": cap.CAP_NS, "ds": cap.DS_NS}
TEXTS = {"zh-CN": {"event": "电信诈骗预警", "headline": "冒充客服退款诈骗高发", "description": "近期多起冒充客服诈骗。",
                   "instruction": "勿向陌生人转账。"},
         "en-US": {"event": "Fraud warning", "headline": "Fake refund calls", "description": "Several cases this week.",
                   "instruction": "Never transfer money to strangers."}}
runner = CliRunner()


def checked(document: bytes, settings: Settings) -> etree._Element:
    """The test's own check of a produced document: schema-valid and signed by the agency's key,
    each checked twice: by Precinct's code (xmlschema, signxml) and independently here (libxml2's
    schema validator, and the signature recomputed by hand with lxml's c14n and cryptography)."""
    cap.validate(document)
    cert = cap.signing_material(settings).cert_pem
    signed = cap.verify(document, cert)
    assert signed.tag == f"{{{cap.CAP_NS}}}alert"
    root = etree.fromstring(document)
    libxml2_schema = etree.XMLSchema(etree.parse(str(cap.XSD_PATH)))
    assert libxml2_schema.validate(root), libxml2_schema.error_log
    verify_by_hand(document, cert)
    return root


def verify_by_hand(document: bytes, cert_pem: bytes) -> None:
    """Enveloped signature, exclusive c14n, SHA-256 digest, RSA-SHA256 (what the documents declare)."""
    import base64
    import hashlib

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    root = etree.fromstring(document)
    sig = root.find("ds:Signature", NS)
    assert sig is not None
    algorithms = [el.get("Algorithm") for el in sig.iter() if el.get("Algorithm")]
    assert algorithms == ["http://www.w3.org/2001/10/xml-exc-c14n#",
                          "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
                          "http://www.w3.org/2000/09/xmldsig#enveloped-signature",
                          "http://www.w3.org/2001/10/xml-exc-c14n#", "http://www.w3.org/2001/04/xmlenc#sha256"]
    signed_info = sig.find("ds:SignedInfo", NS)
    value = base64.b64decode(sig.findtext("ds:SignatureValue", namespaces=NS) or "")
    digest = base64.b64decode(signed_info.findtext("ds:Reference/ds:DigestValue", namespaces=NS) or "")
    unsigned = etree.fromstring(document)
    unsigned.remove(unsigned.find("ds:Signature", NS))
    assert hashlib.sha256(etree.tostring(unsigned, method="c14n", exclusive=True)).digest() == digest
    key = x509.load_pem_x509_certificate(cert_pem).public_key()
    key.verify(value, etree.tostring(signed_info, method="c14n", exclusive=True),  # type: ignore[union-attr]
               padding.PKCS1v15(), hashes.SHA256())  # type: ignore[call-arg]


def draft(db: Database, author: str = "alice", **kw: Any) -> str:
    with db.session() as s:
        args: dict[str, Any] = dict(author=author, texts=TEXTS, area=parse_circle("32.49,119.92,3"),
                                    urgency="Immediate", severity="Severe", certainty="Likely")
        args.update(kw)
        return al.create_alert(s, **args).id


def approve(db: Database, settings: Settings, alert_id: str, approver: str = "bob") -> bytes:
    with db.session() as s:
        al.approve_alert(s, alert_id=alert_id, approver=approver, settings=settings)
    with db.sessionmaker() as s:
        return al.cap_document(s, alert_id=alert_id, settings=settings)


def test_approved_alert_is_valid_signed_cap_with_one_info_per_language(db: Database, settings: Settings) -> None:
    alert_id = draft(db)
    doc = checked(approve(db, settings, alert_id), settings)
    assert doc.findtext("cap:identifier", namespaces=NS) == alert_id
    assert doc.findtext("cap:msgType", namespaces=NS) == "Alert"
    assert [i.findtext("cap:language", namespaces=NS) for i in doc.findall("cap:info", NS)] == ["zh-CN", "en-US"]
    assert doc.findtext("cap:info/cap:area/cap:circle", namespaces=NS) == "32.490000,119.920000 3"
    assert doc.findtext("cap:info[2]/cap:headline", namespaces=NS) == "Fake refund calls"
    assert doc.find("ds:Signature", NS) is not None and doc[-1].tag == f"{{{cap.DS_NS}}}Signature"
    # the stored document is what is served: the same bytes on every read
    with db.sessionmaker() as s:
        assert al.cap_document(s, alert_id=alert_id, settings=settings) == approve_bytes(db, alert_id)


def approve_bytes(db: Database, alert_id: str) -> bytes:
    with db.sessionmaker() as s:
        return (al.get_alert(s, alert_id).cap_xml or "").encode()


def test_tampered_or_foreign_signed_documents_do_not_verify(db: Database, settings: Settings,
                                                            tmp_path: Any) -> None:
    document = approve(db, settings, draft(db))
    with pytest.raises(BadInput, match="signature"):
        cap.verify(document.replace(b"Severe", b"Minor", 1), cap.signing_material(settings).cert_pem)
    with pytest.raises(AssertionError):  # the independent check fails too
        verify_by_hand(document.replace(b"Severe", b"Minor", 1), cap.signing_material(settings).cert_pem)
    other = Settings(data_dir=tmp_path / "other-agency")
    with pytest.raises(BadInput, match="signature"):
        cap.verify(document, cap.signing_material(other).cert_pem)


def test_the_author_may_not_approve_and_drafts_are_not_published(db: Database, settings: Settings) -> None:
    alert_id = draft(db, author="alice")
    with pytest.raises(Forbidden, match="four-eyes"), db.session() as s:
        al.approve_alert(s, alert_id=alert_id, approver="alice", settings=settings)
    with db.sessionmaker() as s:
        assert al.get_alert(s, alert_id).state == "draft"
        assert al.active_alerts(s) == []
        with pytest.raises(Conflict, match="not been approved"):
            al.cap_document(s, alert_id=alert_id, settings=settings)
        preview = al.cap_document(s, alert_id=alert_id, settings=settings, preview=True)
    cap.validate(preview)
    assert etree.fromstring(preview).findtext("cap:status", namespaces=NS) == "Draft"
    approve(db, settings, alert_id)
    with pytest.raises(Conflict, match="not a draft"), db.session() as s:
        al.approve_alert(s, alert_id=alert_id, approver="carol", settings=settings)


@pytest.mark.parametrize("missing", ["event", "headline", "description"])
def test_missing_required_element_is_refused_with_its_name(db: Database, missing: str) -> None:
    texts = {"en-US": {k: v for k, v in TEXTS["en-US"].items() if k != missing}}
    with pytest.raises(BadInput, match=f"<{missing}> is missing"):
        draft(db, texts=texts)


@pytest.mark.parametrize(("field", "value"), [("urgency", "Soon"), ("severity", "Bad"), ("certainty", "Sure"),
                                              ("category", "Police")])
def test_unknown_cap_codes_are_refused(db: Database, field: str, value: str) -> None:
    with pytest.raises(BadInput, match=f"{field}: '{value}' is not one of"):
        draft(db, **{field: value})


def test_the_schema_itself_refuses_a_document_missing_a_required_element() -> None:
    """Independent of Precinct's own checks: the OASIS XSD names what is missing."""
    fields = {"id": "X-1", "msg_type": "Alert", "cap_status": "Actual", "category": "Safety", "urgency": "Immediate",
              "severity": "Severe", "certainty": "Likely", "texts": {"en-US": {"headline": "h"}},
              "area": parse_circle("1,2,3"), "onset": None, "expires": None}
    root = cap.build(fields, sender="s@x", sender_name="S", sent=dt.datetime(2026, 11, 1, tzinfo=dt.UTC),
                     references=[])
    for el in root.iter(f"{{{cap.CAP_NS}}}event"):
        el.getparent().remove(el)  # type: ignore[union-attr]
    with pytest.raises(BadInput, match=r"not a valid CAP 1\.2 document") as err:
        cap.validate(root)
    assert any("event" in r for r in err.value.detail["schema_errors"])
    fields["cap_status"] = "Rumour"
    with pytest.raises(BadInput):
        cap.validate(cap.build(fields, sender="s@x", sender_name="S", sent=dt.datetime(2026, 11, 1, tzinfo=dt.UTC),
                               references=[]))


@pytest.mark.parametrize(("polygon", "reason"), [
    ("32.0,119.0 32.1,119.0 32.1,119.1 32.0,119.1", "not closed"),
    ("32.0,119.0 32.1,119.1 32.1,119.0 32.0,119.1 32.0,119.0", "Self-intersection"),
    ("32.0,119.0 32.1,119.0 32.0,119.0", "at least 4 points"),
    ("95.0,119.0 32.1,119.0 32.1,119.1 95.0,119.0", "latitude 95.0 is outside"),
    ("32.0,200.0 32.1,119.0 32.1,119.1 32.0,200.0", "longitude 200.0 is outside"),
    ("32.0,119.0 32.1 32.1,119.1 32.0,119.0", "point 2"),
    ('{"type": "Point", "coordinates": [1, 2]}', "must be a Polygon"),
])
def test_invalid_polygons_are_refused_with_the_reason(polygon: str, reason: str) -> None:
    with pytest.raises(BadInput, match=reason):
        parse_polygon(polygon)


@pytest.mark.parametrize(("circle", "reason"), [("32,119", "LAT,LON,KM"), ("32,119,0", "radius"),
                                                ("91,119,1", "latitude"), ("32,x,1", "not a number")])
def test_invalid_circles_are_refused(circle: str, reason: str) -> None:
    with pytest.raises(BadInput, match=reason):
        parse_circle(circle)


def test_polygon_and_station_areas_make_valid_documents(db: Database, settings: Settings) -> None:
    ring = "32.48,119.90 32.50,119.90 32.50,119.93 32.48,119.93 32.48,119.90"
    doc = checked(approve(db, settings, draft(db, area=parse_polygon(ring))), settings)
    assert doc.findtext("cap:info/cap:area/cap:polygon", namespaces=NS).startswith("32.480000,119.900000 ")
    geo = json.dumps({"type": "Polygon", "coordinates": [[[119.90, 32.48], [119.93, 32.48], [119.93, 32.50],
                                                          [119.90, 32.48]]]})
    assert parse_polygon(geo)["points"][1] == [32.48, 119.93]
    with db.session() as s:
        add_station_area(s, station_id="ST-1", name_zh="城东派出所", name_en="Chengdong",
                         points=parse_polygon(ring)["points"])
        area = al.resolve_area(s, station="ST-1")
    doc = checked(approve(db, settings, draft(db, area=area)), settings)
    assert doc.findtext("cap:info/cap:area/cap:areaDesc", namespaces=NS) == "城东派出所辖区"
    assert doc.findtext("cap:info[2]/cap:area/cap:areaDesc", namespaces=NS) == "Chengdong station area"
    with pytest.raises(BadInput, match="exactly one"), db.session() as s:
        al.resolve_area(s, circle="1,2,3", station="ST-1")


def test_update_and_cancel_reference_the_earlier_messages(db: Database, settings: Settings) -> None:
    first = draft(db)
    first_doc = checked(approve(db, settings, first), settings)
    first_ref = ",".join([first_doc.findtext("cap:sender", namespaces=NS) or "", first,
                          first_doc.findtext("cap:sent", namespaces=NS) or ""])
    with db.session() as s:
        upd = al.update_alert(s, alert_id=first, author="alice",
                              changes={"severity": "Extreme", "texts": {"en-US": {"headline": "Worse now"}}}).id
    with pytest.raises(Conflict, match="awaiting approval"), db.session() as s:
        al.cancel_alert(s, alert_id=first, author="alice", reason="x")
    upd_doc = checked(approve(db, settings, upd, approver="carol"), settings)
    assert upd_doc.findtext("cap:msgType", namespaces=NS) == "Update"
    assert upd_doc.findtext("cap:references", namespaces=NS) == first_ref
    assert upd_doc.findtext("cap:info[2]/cap:headline", namespaces=NS) == "Worse now"
    assert upd_doc.findtext("cap:info[2]/cap:description", namespaces=NS) == TEXTS["en-US"]["description"]
    with db.sessionmaker() as s:
        assert al.get_alert(s, first).state == "superseded"
        assert [a.id for a in al.active_alerts(s)] == [upd]
    with db.session() as s:
        with pytest.raises(Conflict, match="superseded"):
            al.cancel_alert(s, alert_id=first, author="alice", reason="x")
        cancel = al.cancel_alert(s, alert_id=upd, author="alice", reason="Suspects arrested / 嫌疑人已抓获").id
    cancel_doc = checked(approve(db, settings, cancel, approver="bob"), settings)
    assert cancel_doc.findtext("cap:msgType", namespaces=NS) == "Cancel"
    refs = (cancel_doc.findtext("cap:references", namespaces=NS) or "").split()
    assert refs[0] == first_ref and refs[1].split(",")[1] == upd and len(refs) == 2
    assert cancel_doc.findtext("cap:note", namespaces=NS) == "Suspects arrested / 嫌疑人已抓获"
    with db.sessionmaker() as s:
        assert al.active_alerts(s) == []
        assert al.get_alert(s, upd).state == "cancelled"


def _users(db: Database, *names: tuple[str, str]) -> None:
    with db.session() as s:
        for name, role in names:
            create_user(s, username=name, role=role, password="test-password-123")


def test_cli_contract(db: Database, settings: Settings) -> None:
    _users(db, ("sup_a", "supervisor"), ("sup_b", "supervisor"))
    r = runner.invoke(cli_app, ["public", "alerts", "create", "--as", "sup_a", "--event", "Road closure",
                                "--headline", "Bridge closed", "--description", "The east bridge is closed.",
                                "--circle", "32.49,119.92,2", "--urgency", "Immediate", "--severity", "Severe",
                                "--certainty", "Likely", "--format", "json"])
    assert r.exit_code == 0, r.output
    alert_id = json.loads(r.stdout)["id"]
    assert list(json.loads(r.stdout)) == ["id"]
    r = runner.invoke(cli_app, ["public", "alerts", "approve", "--as", "sup_a", alert_id])
    assert isinstance(r.exception, Forbidden) and "four-eyes" in r.exception.message
    with db.sessionmaker() as s:  # the refusal is in the audit log
        refused = s.scalars(select(AuditRecord).where(AuditRecord.outcome == "refused",
                                                      AuditRecord.resource == "public.alerts")).all()
    assert [(a.actor, a.action) for a in refused] == [("sup_a", "refusal")]
    r = runner.invoke(cli_app, ["public", "alerts", "cap", alert_id])
    assert isinstance(r.exception, Conflict)
    r = runner.invoke(cli_app, ["public", "alerts", "approve", "--as", "sup_b", alert_id])
    assert r.exit_code == 0, r.output
    r = runner.invoke(cli_app, ["public", "alerts", "cap", alert_id])
    assert r.exit_code == 0, r.output
    doc = checked(r.stdout.strip().encode("utf-8"), settings)
    assert doc.findtext("cap:info/cap:language", namespaces=NS) == "en-US"
    assert doc.findtext("cap:info/cap:event", namespaces=NS) == "Road closure"


def test_api_drafting_approval_feed_and_public_cap(client: TestClient, auth_headers: Callable[..., dict[str, str]],
                                                  settings: Settings) -> None:
    author, approver = auth_headers("dispatcher"), auth_headers("supervisor")
    body = {"zh": {"event": "道路封闭", "headline": "东桥封闭", "description": "东桥今日封闭。"},
            "en": {"event": "Road closure", "headline": "East bridge closed", "description": "Closed today."},
            "circle": "32.49,119.92,2", "urgency": "Expected", "severity": "Moderate", "certainty": "Observed"}
    r = client.post("/api/v1/publishing/alerts", json=body, headers=author)
    assert r.status_code == 201, r.text
    alert_id = r.json()["id"]
    assert client.get(f"/api/v1/public/alerts/{alert_id}/cap").status_code == 404  # a draft is not public
    assert client.post(f"/api/v1/publishing/alerts/{alert_id}/approve", headers=author).status_code == 403
    r = client.get(f"/api/v1/publishing/alerts/{alert_id}/preview", headers=author)
    assert r.status_code == 200 and b"<status>Draft</status>" in r.content
    r = client.post(f"/api/v1/publishing/alerts/{alert_id}/approve", headers=approver)
    assert r.status_code == 200 and r.json()["state"] == "published"
    r = client.get(f"/api/v1/public/alerts/{alert_id}/cap")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/cap+xml")
    checked(r.content, settings)
    feed = etree.fromstring(client.get("/api/v1/public/alerts.atom").content)
    atom = {"a": "http://www.w3.org/2005/Atom"}
    links = feed.xpath("//a:entry/a:link/@href", namespaces=atom)
    assert links == [f"http://testserver/api/v1/public/alerts/{alert_id}/cap"]
    assert feed.xpath("//a:entry/a:title/text()", namespaces=atom) == ["东桥封闭 / East bridge closed"]
    public = client.get("/api/v1/public/alerts").json()["alerts"]
    assert [a["id"] for a in public] == [alert_id] and "created_by" not in public[0]
    bad = {**body, "circle": None, "polygon": "32.0,119.0 32.1,119.1 32.1,119.0 32.0,119.1 32.0,119.0"}
    r = client.post("/api/v1/publishing/alerts", json=bad, headers=author)
    assert r.status_code == 422 and "Self-intersection" in r.json()["message"]


def test_alert_and_bulletin_flow_on_both_engines(any_db: Database, settings: Settings) -> None:
    from precinct.public import bulletins as bl

    alert_id = draft(any_db)
    checked(approve(any_db, settings, alert_id), settings)
    with any_db.session() as s:
        upd = al.update_alert(s, alert_id=alert_id, author="alice", changes={"urgency": "Expected"}).id
    checked(approve(any_db, settings, upd), settings)
    with any_db.session() as s:
        row = bl.draft_bulletin(s, author="sup1", source_kind="case", source_id="C-1",
                                texts={"title_zh": "通报", "title_en": "Bulletin", "body_zh": "正文。",
                                       "body_en": "Text."})
        bid = row.id
    with any_db.session() as s:
        bl.approve_bulletin(s, bulletin_id=bid, approver="sup2")
    with any_db.sessionmaker() as s:
        assert [a.id for a in al.active_alerts(s)] == [upd]
        assert [b.id for b in bl.public_bulletins(s)] == [bid]
