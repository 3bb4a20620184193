"""Saved views of the overview: a name and the overview's URL query string.
Personal by default; a shared view is listed for every coworker of the
tenant. Only its owner or an administrator deletes it. Plain logic."""
from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from .exceptions import Forbidden, NotFound
from .models import SavedView, User
from .schemas import ViewIn


def _dump(v: SavedView, owner_name: str, user_id: int | None) -> dict:
    return {"id": v.id, "name": v.name, "query": v.query, "shared": v.shared,
            "owner": {"id": v.user_id, "name": owner_name}, "mine": v.user_id == user_id}


def list_views(session: Session, tenant_id: int, user_id: int | None) -> list[dict]:
    rows = session.execute(
        select(SavedView, User.name).join(User, User.id == SavedView.user_id)
        .where(SavedView.tenant_id == tenant_id, or_(SavedView.user_id == user_id, SavedView.shared.is_(True)))
        .order_by(SavedView.name, SavedView.id)
    ).all()
    return [_dump(v, name, user_id) for v, name in rows]


def save_view(session: Session, tenant_id: int, user_id: int | None, data: ViewIn) -> dict:
    """Save a view; saving again under a name the user already has replaces it."""
    if user_id is None:
        raise Forbidden("Saving a view needs a signed-in coworker")
    user = session.scalar(select(User).where(User.id == user_id, User.tenant_id == tenant_id))
    if user is None:
        raise Forbidden("Unknown coworker")
    view = session.scalar(select(SavedView).where(SavedView.tenant_id == tenant_id, SavedView.user_id == user_id,
                                                  SavedView.name == data.name))
    if view is None:
        view = SavedView(tenant_id=tenant_id, user_id=user_id, name=data.name)
        session.add(view)
    view.query, view.shared = data.query, data.shared
    session.commit()
    return _dump(view, user.name, user_id)


def delete_view(session: Session, tenant_id: int, user_id: int | None, view_id: int) -> dict:
    view = session.scalar(select(SavedView).where(SavedView.id == int(view_id), SavedView.tenant_id == tenant_id))
    if view is None or (view.user_id != user_id and not view.shared):
        raise NotFound("No such view", id=view_id)
    if view.user_id != user_id:
        user = session.scalar(select(User).where(User.id == user_id, User.tenant_id == tenant_id)) if user_id else None
        if user is None or user.role != "admin":
            raise Forbidden("Only its owner or an administrator can delete this view")
    session.delete(view)
    session.commit()
    return {"deleted": True}
