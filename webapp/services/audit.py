"""Writing the audit log (staff actions and security events)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from webapp.models import AuditLog


def audit(
    session: Session, action: str, actor_id: int | None, *, target: str | None = None,
    reason: str | None = None, ip: str | None = None, **data: Any,
) -> AuditLog:
    row = AuditLog(
        action=action, actor_id=actor_id, target=target, reason=reason, ip=ip, data=data
    )
    session.add(row)
    session.flush()
    return row
