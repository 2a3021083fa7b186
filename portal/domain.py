"""The one error a business rule raises. It imports nothing of the portal, so
every area's services can use it."""

from __future__ import annotations


class DomainError(Exception):
    """A rule of the domain refused the change. `message` is translated and
    shown to the person; `field` names the form field to show it next to (else
    it is shown above the form). Services raise it (or an area's subclass, which
    only names the area); `portal.forms.submit_form` shows it."""

    def __init__(self, message: object = "", field: str | None = None):
        super().__init__(str(message))
        self.message = message
        self.field = field

    def __str__(self) -> str:
        return str(self.message)
