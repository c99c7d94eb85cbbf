"""The county's whole roster for one benefit year, read while a large filing's sheet loads.

A county filing lists most of the county. Looking its persons up chunk by chunk costs the
database three index probes per row, in the same queue as the writes. python-calamine loads the
sheet (seconds, for 600,000 rows) with other Python threads allowed to run, so on PostgreSQL the
importer's database thread reads every person of the county with their enrollment of the year,
and their subsidy identities, in that time instead; chunks then take their persons from memory.

Kept compact (a county is ~600,000 persons): a dict of ID number → position and one array per
column, plus the few enrollments that already hold a voucher or amounts. An ID number that is not
here (a person of another county, an unknown one, someone entered since the roster was read) is
looked up in the database as before (``missing`` of ``take``).
"""

from __future__ import annotations

from array import array
from datetime import date

from enrollment.choices import EnrollmentStatus
from enrollment.models import Enrollment, Household, Person

# Read the whole roster when the filing looks as large as this part of the county (estimated
# from the file's size: ~60 bytes per row in an xlsx, more in a csv), and at least this large.
SHARE_OF_COUNTY = 0.25
MIN_ROWS = 20_000
BYTES_PER_ROW = 100  # on the low side of real exports: never read the roster for a small file

_STATUSES = list(EnrollmentStatus.values)
_STATUS_CODE = {s: i + 1 for i, s in enumerate(_STATUSES)}  # 0: no enrollment


def worth_reading(*, size: int, county_persons) -> bool:
    """Whether a filing of ``size`` bytes should read the whole roster (``county_persons``: a
    callable giving the county's person count, asked only for a large file)."""
    rows = size / BYTES_PER_ROW
    return rows >= MIN_ROWS and rows >= SHARE_OF_COUNTY * county_persons()


class CountyRoster:
    def __init__(self, year: int):
        self.year = year
        self.index: dict[str, int] = {}
        self.pid = array("q")
        self.village = array("q")
        self.born = array("l")  # date ordinal, 0: unknown
        self.student = bytearray()
        self.eid = array("q")  # 0: no enrollment of the year
        self.status = bytearray()
        self.tier = bytearray()
        self.extra: dict[int, tuple] = {}  # position → (voucher, due, standard, subsidy, code) when any is set
        self.identities: dict[int, list] = {}  # person id → identity rows, in the query's order

    # -- on the database thread --
    def load(self, db, *, village_ids, identity_query) -> CountyRoster:
        """``db.stream(sql, params)`` yields rows; ``identity_query`` is (sql, params, index of
        the person-id array) from ``OwedBook.identity_query`` or None."""
        qn = _quote
        sql = (
            "SELECT p.id_number, p.id, p.is_student, (p.birth_date - DATE '0001-01-01') + 1, h.village_id, "
            "e.id, e.status, e.tier, e.tax_voucher, e.amount_due, e.standard, e.subsidy, e.subsidy_category_code "
            f"FROM {qn(Person)} p JOIN {qn(Household)} h ON h.id = p.household_id "
            f"LEFT JOIN {qn(Enrollment)} e ON e.person_id = p.id AND e.year = %s "
            "WHERE h.village_id = ANY(%s)"
        )
        index, extra = self.index, self.extra
        add_pid, add_village, add_born = self.pid.append, self.village.append, self.born.append
        add_student, add_eid, add_status, add_tier = self.student.append, self.eid.append, self.status.append, self.tier.append
        codes = _STATUS_CODE
        for id_number, pid, student, born, village_id, eid, status, tier, voucher, due, std, sub, code in db.stream(
            sql, [self.year, list(village_ids)]
        ):
            at = len(index)
            index[id_number] = at
            add_pid(pid)
            add_village(village_id)
            add_born(born or 0)
            add_student(1 if student else 0)
            add_eid(eid or 0)
            add_status(codes[status] if eid else 0)
            add_tier(tier or 0)
            if voucher or code or due is not None or std is not None or sub is not None:
                extra[at] = (voucher or "", due, std, sub, code or "")
        if identity_query is not None and self.pid:
            sql, params, at = identity_query
            params = list(params)
            params[at] = list(self.pid)
            for row in db.stream(sql, params):
                self.identities.setdefault(row[0], []).append(row)
        return self

    # -- on the importer's thread --
    def take(self, id_numbers):
        """(persons, enrollments, identity rows {year: rows}, missing ID numbers) for a chunk,
        in the shapes of services._lookup (every person here lives in the county)."""
        persons, enrollments, held, missing = {}, {}, [], []
        index_get, year, extra_get, identities_get = self.index.get, self.year, self.extra.get, self.identities.get
        pids, villages, borns, students = self.pid, self.village, self.born, self.student
        eids, statuses, tiers = self.eid, self.status, self.tier
        fromordinal = date.fromordinal
        for id_number in id_numbers:
            at = index_get(id_number)
            if at is None:
                missing.append(id_number)
                continue
            pid = pids[at]
            born = borns[at]
            persons[id_number] = (pid, students[at] == 1, fromordinal(born) if born else None, villages[at], True)
            eid = eids[at]
            if eid:
                voucher, due, std, sub, code = extra_get(at, _NOTHING)
                enrollments[(pid, year)] = (eid, _STATUSES[statuses[at] - 1], tiers[at], voucher, due, std, sub, code)
            rows = identities_get(pid)
            if rows:
                held.extend(rows)
        return persons, enrollments, {year: held}, missing


_NOTHING = ("", None, None, None, "")


def _quote(model) -> str:
    from django.db import connection

    return connection.ops.quote_name(model._meta.db_table)
