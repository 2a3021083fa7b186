"""Offset pagination of the admin lists (partners, users): a bounded page
number and a page of rows, one query each."""

from __future__ import annotations

from dataclasses import dataclass

from portal.core.params import page_number
from portal.extensions import db

PER_PAGE = 20
#: Offset pagination stops here, so no request can ask for a huge OFFSET.
MAX_PAGE = 500


@dataclass
class Page:
    items: list
    page: int
    has_next: bool

    @property
    def has_previous(self) -> bool:
        return self.page > 1


def bounded_page(value: str | None) -> int:
    return page_number(value, MAX_PAGE)


def paged(stmt, page: int, per_page: int = PER_PAGE) -> Page:
    """The rows of `stmt` on `page`; one row more is read to know if a next page exists."""
    rows = list(db.session.execute(stmt.limit(per_page + 1).offset((page - 1) * per_page)))
    return Page(items=rows[:per_page], page=page, has_next=len(rows) > per_page)
