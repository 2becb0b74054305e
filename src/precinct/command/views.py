"""The command domain's API: one ``router`` made of its three areas, and their background tasks.

- :mod:`.views_intake`: 110 calls and incidents (tag ``calls``);
- :mod:`.views_dispatch`: recommendations, dispatch, units, the live board (tag ``dispatch``);
- :mod:`.views_orders`: one-click orders (tag ``orders``).
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI

from precinct.command import attachments_views, views_dispatch, views_field, views_intake, views_notes, views_orders

router = APIRouter()
router.include_router(views_intake.router)
router.include_router(views_dispatch.router)
router.include_router(views_orders.router)
router.include_router(attachments_views.router)  # scene notes and photos (issue 19)
router.include_router(views_field.router)  # the route to one's dispatch (issue 19)
router.include_router(views_notes.router)  # notes on an incident (issue 21)


def setup(app: FastAPI) -> None:
    """Start the live board, the overdue monitors and the order escalation with the app."""
    views_dispatch.setup(app)
    views_orders.setup(app)
