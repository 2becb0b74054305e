"""Bulletins: personal data refused or stripped, four-eyes approval, corrections and withdrawals."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from lxml import etree
from typer.testing import CliRunner

from precinct.cli import app as cli_app
from precinct.core.db import Database
from precinct.core.identity import create_user
from precinct.errors import BadInput, Conflict, Forbidden
from precinct.public import bulletins as bl
from precinct.public import redact

TEXTS = {"title_zh": "关于城东盗窃案的通报", "title_en": "Burglary in Chengdong",
         "body_zh": "11月3日晚，城东发生一起入室盗窃，嫌疑人已被抓获。", "body_en": "On 3 November a burglary "
         "in Chengdong was reported; a suspect has been arrested."}


@pytest.mark.parametrize(("text", "kind"), [
    ("联系电话 13812345678", "phone"), ("call 138-1234-5678 now", "phone"), ("+86 139 1234 5678", "phone"),
    ("座机 029-88881234", "phone"), ("车牌 陕A12345 被盗", "plate"), ("plate 苏M·D12345 seen", "plate"),
    ("su a: 京Ab1234c", "plate"), ("身份证 61010219800101123X", "id_number"), ("mail a.b@example.cn", "email"),
    ("案卷 20261104001", "phone"),
])
def test_patterns_found(text: str, kind: str) -> None:
    assert [f.kind for f in redact.find(text)] == [kind]


@pytest.mark.parametrize("text", ["11月3日晚 3 名嫌疑人", "On 3 November at 21:30, 2 arrests", "110 接警后 5 分钟到场",
                                  "A123 road"])
def test_ordinary_text_passes(text: str) -> None:
    assert redact.find(text) == []


def test_a_draft_with_a_phone_or_plate_is_refused_with_the_reason(db: Database) -> None:
    for field, bad, kind in (("body_zh", "报警人电话13812345678", "phone number"),
                             ("body_en", "vehicle 陕A12345 fled", "plate")):
        with pytest.raises(BadInput, match=f"{field}: still contains personal data \\({kind}\\)"), db.session() as s:
            bl.draft_bulletin(s, author="sup1", source_kind="incident", source_id="INC-1",
                              texts={**TEXTS, field: TEXTS[field] + bad})
    with pytest.raises(BadInput, match=r"title_en: .*missing"), db.session() as s:
        bl.draft_bulletin(s, author="sup1", source_kind="incident", source_id="INC-1",
                          texts={k: v for k, v in TEXTS.items() if k != "title_en"})


def test_preview_and_strip_show_what_was_removed_but_not_the_values(db: Database) -> None:
    texts = {**TEXTS, "body_zh": "车主（电话 13812345678，车牌陕A12345）报警。"}
    out = bl.preview(texts)
    assert out["texts"]["body_zh"] == ("车主（电话 [电话号码已删除 phone number removed]，"
                                       "车牌[车牌号已删除 plate removed]）报警。")
    assert [(r["field"], r["kind"]) for r in out["removed"]] == [("body_zh", "phone"), ("body_zh", "plate")]
    assert "13812345678" not in json.dumps(out, ensure_ascii=False)
    with db.session() as s:
        row = bl.draft_bulletin(s, author="sup1", source_kind="case", source_id="CASE-7", texts=texts, strip=True)
        view = bl.bulletin_view(s, row)
    assert "13812345678" not in json.dumps(view, ensure_ascii=False) and "陕A12345" not in json.dumps(view)
    assert [r["kind"] for r in view["removed"]] == ["phone", "plate"]


def test_four_eyes_correction_and_withdrawal_keep_the_history(db: Database) -> None:
    with db.session() as s:
        first = bl.draft_bulletin(s, author="sup1", source_kind="incident", source_id="INC-1", texts=TEXTS).id
    with pytest.raises(Forbidden, match="four-eyes"), db.session() as s:
        bl.approve_bulletin(s, bulletin_id=first, approver="sup1")
    with db.sessionmaker() as s:
        assert bl.public_bulletins(s) == []
    with db.session() as s:
        bl.approve_bulletin(s, bulletin_id=first, approver="sup2")
        fix = bl.correct_bulletin(s, bulletin_id=first, author="sup1",
                                  texts={"body_en": "On 3 November a burglary was reported; two suspects arrested."}).id
    with db.sessionmaker() as s:
        assert [b.id for b in bl.public_bulletins(s)] == [first]  # the correction is a draft until approved
    with pytest.raises(Forbidden), db.session() as s:
        bl.approve_bulletin(s, bulletin_id=fix, approver="sup1")
    with db.session() as s:
        bl.approve_bulletin(s, bulletin_id=fix, approver="sup3")
    with db.sessionmaker() as s:
        current = bl.public_bulletins(s)
        assert [b.id for b in current] == [fix]
        view = bl.bulletin_view(s, current[0], public=True)
        assert view["title_zh"] == TEXTS["title_zh"] and "two suspects" in view["body_en"]
        assert [(v["id"], v["state"]) for v in view["versions"]] == [(first, "corrected"), (fix, "published")]
        assert "created_by" not in view and "source_id" not in view
    with db.session() as s:
        with pytest.raises(Conflict, match="corrected"):
            bl.withdraw_bulletin(s, bulletin_id=first, actor="sup2", reason="x")
        with pytest.raises(BadInput, match="personal data"):
            bl.withdraw_bulletin(s, bulletin_id=fix, actor="sup2", reason="call 13812345678")
        bl.withdraw_bulletin(s, bulletin_id=fix, actor="sup2", reason="案件移交 Case transferred")
    with db.sessionmaker() as s:
        view = bl.bulletin_view(s, bl.get_bulletin(s, fix), public=True)
        assert view["state"] == "withdrawn" and view["withdrawn_reason"] == "案件移交 Case transferred"
        assert "two suspects" not in json.dumps(view)
        staff = bl.bulletin_view(s, bl.get_bulletin(s, fix))
        assert [h["action"] for h in staff["history"]] == ["drafted", "published", "withdrawn"]


def test_api_and_public_page(client: TestClient, auth_headers: Callable[..., dict[str, str]]) -> None:
    author, approver = auth_headers("supervisor"), auth_headers("supervisor", username="second_sup")
    r = client.post("/api/v1/publishing/bulletins/preview", json={"body_en": "plate 陕A12345"}, headers=author)
    assert r.status_code == 200 and r.json()["texts"]["body_en"] == "plate [车牌号已删除 plate removed]"
    r = client.post("/api/v1/publishing/bulletins", json={**TEXTS, "source_kind": "incident", "source_id": "I-9",
                                                          "body_en": "call 13812345678"}, headers=author)
    assert r.status_code == 422 and "phone number" in r.json()["message"]
    r = client.post("/api/v1/publishing/bulletins", json={**TEXTS, "source_kind": "incident", "source_id": "I-9"},
                    headers=author)
    assert r.status_code == 201, r.text
    bid = r.json()["id"]
    assert client.get(f"/api/v1/public/bulletins/{bid}").status_code == 404
    assert client.post(f"/api/v1/publishing/bulletins/{bid}/approve", headers=author).status_code == 403
    assert client.post(f"/api/v1/publishing/bulletins/{bid}/approve", headers=approver).status_code == 200
    assert client.get(f"/api/v1/public/bulletins/{bid}").json()["title_en"] == TEXTS["title_en"]
    feed = etree.fromstring(client.get("/api/v1/public/bulletins.atom").content)
    titles = feed.xpath("//a:entry/a:title/text()", namespaces={"a": "http://www.w3.org/2005/Atom"})
    assert titles == [f"{TEXTS['title_zh']} / {TEXTS['title_en']}"]
    page = client.get("/api/v1/public/page")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert TEXTS["title_en"] in page.text and "format=csv" in page.text


def test_cli_bulletins(db: Database) -> None:
    with db.session() as s:
        for name in ("sup_x", "sup_y"):
            create_user(s, username=name, role="supervisor", password="test-password-123")
    runner = CliRunner()
    r = runner.invoke(cli_app, ["public", "bulletins", "create", "--as", "sup_x", "--source", "incident:INC-5",
                                "--title-zh", TEXTS["title_zh"], "--title-en", TEXTS["title_en"],
                                "--body-zh", TEXTS["body_zh"] + "电话13812345678", "--body-en", TEXTS["body_en"]])
    assert isinstance(r.exception, BadInput)
    r = runner.invoke(cli_app, ["public", "bulletins", "create", "--as", "sup_x", "--source", "incident:INC-5",
                                "--title-zh", TEXTS["title_zh"], "--title-en", TEXTS["title_en"], "--strip",
                                "--body-zh", TEXTS["body_zh"] + "电话13812345678", "--body-en", TEXTS["body_en"]])
    assert r.exit_code == 0, r.output
    bid = json.loads(r.stdout)["id"]
    assert isinstance(runner.invoke(cli_app, ["public", "bulletins", "approve", "--as", "sup_x", bid]).exception,
                      Forbidden)
    r = runner.invoke(cli_app, ["public", "bulletins", "approve", "--as", "sup_y", bid])
    assert r.exit_code == 0 and json.loads(r.stdout)["state"] == "published"
