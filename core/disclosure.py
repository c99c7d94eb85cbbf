"""How a resident's ID number and birth date are shown to a viewer: the one disclosure rule, used
by pages (template filters), the API (``core.api.fields``) and every export alike.

The mask (``idcard.mask``: area code and last four) hides exactly the eight digits of the birth
date, so the birth date goes with the ID number: a viewer who may not see full ID numbers gets the
masked number and the birth *year* only, never month and day. Roles with ``id.full`` may see both.

Where full numbers appear is a second question, per place:

* ``full_ids=ID_FULL`` (the default): full numbers for roles with ``id.full``;
* ``full_ids=DECLARATION_ID_FULL``: the declaration form (申报表) — the township that declares and
  the tax office that imports it;
* ``full_ids=None``: masked for everyone (lists of many people; a full number is then seen one
  person at a time through an audited reveal). The birth date still follows the viewer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import Q

from . import audit, idcard

ID_FULL = "id.full"
DECLARATION_ID_FULL = "declaration.id_full"


@dataclass(frozen=True)
class Disclosure:
    full_ids: bool
    full_birth: bool

    def id_number(self, number: str | None) -> str:
        """The number as this viewer may see it: full, or masked (411325********6860)."""
        if self.full_ids:
            return number or ""
        return idcard.mask(number)

    def birth_date(self, born: date | None) -> date | None:
        """The full birth date, or None where only the year may be shown (see ``birth_year``)."""
        return born if self.full_birth else None

    def birth_text(self, born: date | None) -> str:
        """1980年5月17日 in full, 1980年 where only the year may be shown."""
        if born is None:
            return ""
        if self.full_birth:
            return f"{born.year}年{born.month}月{born.day}日"
        return f"{born.year}年"

    def birth_cell(self, born: date | None) -> str:
        """For spreadsheets: 1980-05-17 in full, 1980 where only the year may be shown."""
        if born is None:
            return ""
        return born.isoformat() if self.full_birth else str(born.year)


MASKED = Disclosure(full_ids=False, full_birth=False)


def may_see_full(user, right: str = ID_FULL) -> bool:
    return user is not None and user.is_authenticated and user.can(right)


def for_viewer(user, *, full_ids: str | None = ID_FULL) -> Disclosure:
    """The disclosure for ``user`` at a place whose full numbers need the capability ``full_ids``
    (None: masked for everyone). A full number always implies the right to the full birth date."""
    full_birth = may_see_full(user)
    return Disclosure(full_ids=full_ids is not None and full_birth and may_see_full(user, full_ids), full_birth=full_birth)


def show_ids(user, items, *, page: str, obj=None, full_ids: str | None = ID_FULL, number=lambda item: item.id_number):
    """Set ``id_shown`` on each of ``items`` (objects, or dicts) as ``user`` may see it at this
    page, and record one view of full IDs when any full number was shown: the one place a page
    discloses numbers, so no page shows full numbers unrecorded. Returns the Disclosure."""
    shown = for_viewer(user, full_ids=full_ids)
    items = list(items)
    for item in items:
        text = shown.id_number(number(item))
        if isinstance(item, dict):
            item["id_shown"] = text
        else:
            item.id_shown = text
    if shown.full_ids and items:
        audit.record(actor=user, action=audit.ACTION_VIEW_FULL_ID, obj=obj, detail={"page": page, "rows": len(items)})
    return shown


def birth_year(born: date | None) -> int | None:
    """The birth year: shown to everyone who may see the person."""
    return born.year if born is not None else None


def id_lookup(field: str, number: str, shown: Disclosure, *, prefix: bool = False) -> Q:
    """Rows whose ID number (in ``field``) matches a searched ``number`` as far as the viewer may
    see it: exactly (or by ``prefix``) for a viewer of full numbers; otherwise by the parts the
    mask shows — area code and last four — so no search confirms a guess at the hidden birth date."""
    if shown.full_ids:
        return Q(**{f"{field}__startswith" if prefix else field: number})
    if prefix:
        return Q(**{f"{field}__startswith": number[:6]})
    if len(number) == 18:
        return Q(**{f"{field}__startswith": number[:6], f"{field}__endswith": number[-4:]})
    return Q(**{field: number})
