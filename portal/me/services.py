from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from portal.auth.models import User
from portal.extensions import db
from portal.needs.models import Need


def submissions_of(user: User, limit: int = 50) -> list[Need]:
    return list(
        db.session.scalars(
            sa.select(Need)
            .options(joinedload(Need.category))
            .where(Need.submitter_id == user.id)
            .order_by(Need.id.desc())
            .limit(limit)
        )
    )
