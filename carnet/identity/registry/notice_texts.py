"""The notices of one run: rendered once per kind with placeholders, then filled in for each person.

(Named apart from carnet.identity.notices, which holds the texts themselves.)
"""

import datetime as dt
import re

from .. import notices
from ..models import Person


class _Named:
    """Who a notice names when it is not a row of this file: a parent already in the database."""

    __slots__ = ("pk", "nir", "given_names", "family_name", "email", "account_email", "address", "postal_code",
                 "city")
    first_name = Person.first_name
    full_name = Person.full_name

    def __init__(self, pk, nir, given_names, family_name, email="", account_email="", address="", postal_code="",
                 city=""):
        self.pk, self.nir, self.given_names, self.family_name = pk, nir, given_names, family_name
        self.email, self.account_email = email, account_email or ""
        self.address, self.postal_code, self.city = address, postal_code, city


class _Placeholder:
    """Stands for a person in a notice template: names only, so that a notice reading anything else
    about a person (which the template could not vary) fails to become a template."""

    __slots__ = ("nir", "given_names", "family_name")
    first_name = Person.first_name
    full_name = Person.full_name

    def __init__(self, nir: str, given_names: str, family_name: str):
        self.nir, self.given_names, self.family_name = nir, given_names, family_name


class NoticeTexts:
    """notices.provisional_code_notice for a whole run, without formatting its dates a million times.

    The dates are the same for everyone in a run, and formatting them costs more than the rest of the
    notice; so each kind of notice (one's own space, a child's) is rendered once with placeholders for
    the names and the code, then filled in (in one pass: a name is never read as a placeholder). That
    holds while the notice depends on names, code and dates only: one that reads any other attribute
    of a person cannot be made a template, and the first notice of each kind is also rendered the
    ordinary way and compared. Either way, should they differ, every notice of the run is rendered the
    ordinary way.
    """

    _SLOT = re.compile("\x00([0-4])\x00")

    def __init__(self, deadline: dt.date | None):
        self.deadline = deadline
        self.templates: dict[tuple[dt.date, bool], tuple[str, ...] | None] = {}

    def render(self, person, recipient, code: str, expires: dt.date) -> tuple[str, str]:
        for_child = recipient.nir != person.nir
        key = (expires, for_child)
        if key not in self.templates:
            self.templates[key] = self._template(expires, for_child)
            direct = self._direct(person, recipient, code, expires)
            if self.templates[key] is not None and self._fill(key, person, recipient, code) != direct:
                self.templates[key] = None
            return direct
        if self.templates[key] is None:
            return self._direct(person, recipient, code, expires)
        return self._fill(key, person, recipient, code)

    def _direct(self, person, recipient, code: str, expires: dt.date) -> tuple[str, str]:
        return notices.provisional_code_notice(person, recipient, code, expires=expires,
                                               opposition_deadline=self.deadline)

    def _template(self, expires: dt.date, for_child: bool) -> tuple[str, ...] | None:
        person = _Placeholder("P", "\x000\x00", "\x001\x00")
        recipient = _Placeholder("R", "\x002\x00", "\x003\x00") if for_child else person
        try:
            texts = self._direct(person, recipient, "\x004\x00", expires)
        except AttributeError:
            return None
        # As str.format templates: braces in the text doubled, placeholders numbered.
        return tuple(self._SLOT.sub(r"{\1}", text.replace("{", "{{").replace("}", "}}")) for text in texts)

    def _fill(self, key, person, recipient, code: str) -> tuple[str, str]:
        # Called only once templates[key] is known not to be None; no check in this per-row path.
        subject, body = self.templates[key]  # type: ignore[misc]
        values = (person.first_name, person.family_name, recipient.first_name, recipient.family_name, code)
        return subject.format(*values), body.format(*values)
