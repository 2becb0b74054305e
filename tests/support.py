"""Small helpers shared by tests that start real server processes."""

from __future__ import annotations

import socket


def free_port() -> int:
    """A loopback port nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def ensure_test_case(database: object, case_id: str, username: str, purpose: str | None = None) -> None:
    """Make the invented case id a test uses a real open case with ``username`` on it.

    Personal-data reads need an open case the caller works on (``precinct.cases``); the suite's
    fixtures (``auth_headers(role, case=..., purpose=...)``) call this so tests can keep naming cases
    like ``"CASE-1"``. A ``missing_person`` purpose makes it a missing-person case; an
    ``incident_response`` or ``callback`` purpose links an incident (the case id) to it.
    """
    from sqlalchemy import select

    from precinct.cases import service as cases
    from precinct.cases.models import Case, CaseLink

    with database.session() as s:  # type: ignore[attr-defined]
        cases.import_case(s, case_id=case_id, title=f"test case {case_id}"[:200],
                          type="missing_person" if purpose == "missing_person" else "other",
                          lead=username, members=[username], by="tests", origin="test")
        case = s.get(Case, case_id)
        if purpose == "missing_person" and case.type != "missing_person":
            case.type = "missing_person"
        if purpose in ("incident_response", "callback") and s.scalar(select(CaseLink.id).where(
                CaseLink.case_id == case_id, CaseLink.kind == "incident")) is None:
            s.add(CaseLink(case_id=case_id, kind="incident", ref_id=case_id[:64], linked_by="tests"))
