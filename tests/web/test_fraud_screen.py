"""The anti-fraud centre screen (反诈中心): reports imported from a CSV with planted identifier
variants are shown as linked clusters; the cluster's graph has one node per report and identifier
and one edge per mention (the known answer is the grouping the variants were planted to make);
the reads go through the case prompt and are audited under that case; both languages show no raw
keys."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from tests.web.conftest import shot
from tests.web.server import Server

pytestmark = pytest.mark.browser


def planted(tag: str) -> tuple[str, dict[str, set[str]]]:
    """A CSV and, per report, the identifiers it names in canonical form (written by hand)."""
    phone = "13800" + str(int(tag, 16) % 1_000_000).zfill(6)
    acct = "6222" + str(int(tag, 16) % 10**12).zfill(12)
    other = "139" + str(int(tag, 16) % 10**8).zfill(8)
    rows = [
        (f"W{tag}-1", "2026-11-03T09:00:00+08:00", "fake_customer_service", "3000",
         "", f"+86 {phone[:3]}-{phone[3:7]}-{phone[7:]}", f"HTTP://Pay.Fraud-{tag}.com/x"),
        (f"W{tag}-2", "2026-11-04T10:00:00+08:00", "fake_customer_service", "5000.50",
         " ".join(acct[i:i + 4] for i in range(0, 16, 4)), phone, ""),
        (f"W{tag}-3", "2026-11-05T11:00:00+08:00", "task_rebate", "1200", acct, "", f"pay.fraud-{tag}.com"),
        (f"W{tag}-4", "2026-11-06T12:00:00+08:00", "task_rebate", "800", "", other, ""),
    ]
    canon = {f"W{tag}-1": {f"phone:+86{phone}", f"url:fraud-{tag}.com"},
             f"W{tag}-2": {f"account:{acct}", f"phone:+86{phone}"},
             f"W{tag}-3": {f"account:{acct}", f"url:fraud-{tag}.com"},
             f"W{tag}-4": {f"phone:+86{other}"}}
    text = "report_id,ts,type,loss,accounts,phones,urls\n" + "".join(",".join(r) + "\n" for r in rows)
    return text, canon


def components(canon: dict[str, set[str]]) -> list[set[str]]:
    """Brute force: reports linked when they share an identifier, grown to a fixed point."""
    groups = [{r} for r in canon]
    changed = True
    while changed:
        changed = False
        for i in range(len(groups)):
            for j in range(i + 1, len(groups)):
                ids_i = set().union(*(canon[r] for r in groups[i]))
                ids_j = set().union(*(canon[r] for r in groups[j]))
                if ids_i & ids_j:
                    groups[i] |= groups.pop(j)
                    changed = True
                    break
            if changed:
                break
    return groups


def test_imported_csv_shows_a_cluster_with_its_graph_in_zh_and_en(
        page: Any, server: Server, login: Callable[[Any, str], None]) -> None:
    tag = uuid.uuid4().hex[:8]
    text, canon = planted(tag)
    case_id = server.open_case("analyst", f"电信诈骗专案 {tag}", "fraud")
    with server.api("analyst") as c:
        r = c.post("/fraud/reports/import", params={"case": case_id}, content=text.encode("utf-8"),
                   headers={"Content-Type": "text/csv"})
        assert r.status_code == 200, r.text
        assert r.json()["stored"] == 4, r.json()
    biggest = max(components(canon), key=len)
    assert biggest == {f"W{tag}-1", f"W{tag}-2", f"W{tag}-3"}
    idents = set().union(*(canon[x] for x in biggest))
    mentions = sum(len(canon[x]) for x in biggest)

    login(page, "analyst")
    page.click("#nav a[data-view=fraud]")
    page.wait_for_selector("#fr-load")
    page.click("#fr-load")
    page.wait_for_selector("#case-id")  # the case prompt: a personal-data read needs case + purpose
    page.fill("#case-id", case_id)
    page.select_option("#case-purpose", "investigation")
    page.click("#case-ok")
    page.wait_for_selector("#fr-cluster-table")
    rows = page.locator("#fr-cluster-table tbody tr", has_text=case_id)
    sizes = sorted(int(rows.nth(i).locator("td[data-col=reports]").inner_text()) for i in range(rows.count()))
    assert sizes == sorted(len(g) for g in components(canon))
    rows.filter(has=page.locator("td[data-col=reports]", has_text=re.compile(r"^3$"))).click()
    page.wait_for_selector("#fr-graph svg g.fr-node")
    page.wait_for_function(f"() => (document.querySelector('#fr-timeline')?.textContent ?? '').includes('W{tag}-1')")
    kinds = page.eval_on_selector_all("#fr-graph g.fr-node", "els => els.map(e => e.getAttribute('data-kind'))")
    assert kinds.count("report") == len(biggest)
    assert len(kinds) - kinds.count("report") == len(idents)
    assert page.locator("#fr-graph line").count() == mentions
    titles = page.eval_on_selector_all("#fr-graph g.fr-node:not([data-kind=report]) title",
                                       "els => els.map(e => e.textContent)")
    assert {re.sub(r" \(\d+\)$", "", x).replace(": ", ":", 1) for x in titles} == idents
    ranked = page.eval_on_selector_all("#fr-idents td[data-col=reports]", "els => els.map(e => +e.textContent)")
    assert ranked == sorted(ranked, reverse=True) and ranked[0] == 2
    assert f"W{tag}-4" not in page.inner_text("#fr-timeline")
    shot(page, "fraud-centre")

    page.click("#lang-switch")
    page.click("#nav a[data-view=fraud]")
    page.wait_for_selector("#fr-load")
    assert page.inner_text("#nav a[data-view=fraud]") == "Anti-fraud"
    page.click("#fr-load")  # the case context is kept for the tab: no prompt this time
    page.wait_for_selector("#fr-graph svg g.fr-node")
    panel = page.inner_text("#panel")
    assert "Linked clusters" in panel and "Identifiers ranked" in panel
    assert not re.search(r"\b(fr|pub|nav)\.[a-zA-Z_]+", panel), "a raw translation key is visible"

    with server.api("auditor") as c:
        recs = c.get("/audit/records", params={"case_id": case_id, "limit": 50},
                     headers=server.review_headers()).json()["records"]
    reads = {x["resource"] for x in recs if x["outcome"] == "ok"}
    assert {"fraud.clusters", "fraud.reports"} <= reads, reads
