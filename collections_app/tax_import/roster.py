"""The county's whole roster for one benefit year, read while a large filing's sheet loads.

A county filing lists most of the county. Looking its persons up chunk by chunk costs the
database three index probes per row, in the same queue as the writes. python-calamine loads the
sheet (seconds, for 600,000 rows) with other Python threads allowed to run, so on PostgreSQL the
importer's database thread reads every person of the county with their enrollment of the year,
and their subsidy identities, in that time instead; chunks then take their persons from memory.

Kept compact (a county is ~600,000 persons, ~250 bytes each): a dict of ID number → one
tuple per person, sharing the values that repeat (dates, villages, statuses), that matching
reads directly. An ID number that is not here (a person of another county, an unknown one,
someone entered since the roster was read) is looked up in the database (``lacks``;
persons.ChunkReads has those rows matched last).
"""

from __future__ import annotations

from datetime import date

from enrollment.choices import EnrollmentStatus
from enrollment.models import Enrollment, Household, Person

# Read the whole roster when the filing looks as large as this share of the county (its rows
# estimated from the file's size: ~60 bytes a row in an xlsx, more in a csv), and this large.
SHARE_OF_COUNTY = 0.25
MIN_ROWS = 20_000
BYTES_PER_ROW = 100  # on the low side of real exports: never read the roster for a small file

_STATUSES = list(EnrollmentStatus.values)


def large_enough(size: int) -> bool:
    """Whether a filing of ``size`` bytes may be worth reading the whole roster for."""
    return size / BYTES_PER_ROW >= MIN_ROWS


def worth_reading(*, size: int, county_persons: int) -> bool:
    """Whether a filing of ``size`` bytes should read the whole roster of ``county_persons``."""
    return large_enough(size) and size / BYTES_PER_ROW >= SHARE_OF_COUNTY * county_persons


def read_if_worth(db, *, year: int, size: int, village_ids, identity_query) -> CountyRoster | None:
    """On the database thread: count the county's persons, then read its roster if the filing
    is large enough for it (None otherwise)."""
    sql = (
        f"SELECT count(*) FROM {_quote(Person)} p JOIN {_quote(Household)} h ON h.id = p.household_id "
        "WHERE h.village_id = ANY(%s)"
    )
    if not worth_reading(size=size, county_persons=db(sql, [list(village_ids)])[0][0]):
        return None
    return CountyRoster(year).load(db, village_ids=village_ids, identity_query=identity_query)


class CountyRoster:
    def __init__(self, year: int):
        self.year = year
        # ID number → the person as persons.lookup_chunk gives one — (person id, student, birth date,
        # village id, True: lives in the county) — with a sixth item, the enrollment of ``year``
        # as lookup_chunk gives enrollments (id, status, tier, voucher, due, standard, subsidy, code)
        # or None. Built on the database thread while the sheet loads; matching reads it as is
        # (a chunk copies nothing out of it).
        self.persons: dict[str, tuple] = {}
        self.identity_rows: list = []  # the roster's identity rows, in the query's order

    # -- on the database thread --
    def load(self, db, *, village_ids, identity_query) -> CountyRoster:
        """``db.stream(sql, params)`` yields rows; ``identity_query`` is (sql, params, index of
        the person-id array) from ``FilingBook.identity_query`` or None."""
        qn = _quote
        sql = (
            "SELECT p.id_number, p.id, p.is_student, (p.birth_date - DATE '0001-01-01') + 1, h.village_id, "
            "e.id, e.status, e.tier, e.tax_voucher, e.amount_due, e.standard, e.subsidy, e.subsidy_category_code "
            f"FROM {qn(Person)} p JOIN {qn(Household)} h ON h.id = p.household_id "
            f"LEFT JOIN {qn(Enrollment)} e ON e.person_id = p.id AND e.year = %s "
            "WHERE h.village_id = ANY(%s)"
        )
        persons = self.persons
        # Values repeated across a county are shared, not held once per person.
        dates: dict[int, date] = {}
        villages = {v: v for v in village_ids}
        statuses = {s: s for s in _STATUSES}
        fromordinal = date.fromordinal
        for id_number, pid, student, born, village_id, eid, status, tier, voucher, due, std, sub, code in db.stream(
            sql, [self.year, list(village_ids)]
        ):
            birth = None
            if born:
                birth = dates.get(born)
                if birth is None:
                    birth = dates[born] = fromordinal(born)
            enrollment = None
            if eid is not None:
                enrollment = (eid, statuses.get(status, status), tier, voucher or "", due, std, sub, code or "")
            persons[id_number] = (pid, bool(student), birth, villages.get(village_id, village_id), True, enrollment)
        if identity_query is not None and persons:
            sql, params, at = identity_query
            params = list(params)
            params[at] = "{" + ",".join([str(p[0]) for p in persons.values()]) + "}"  # as text: a list is dumped value by value
            self.identity_rows = list(db.stream(sql, params))
        return self

    # -- on the importer's thread --
    def lacks(self, id_numbers: set) -> set:
        """The ID numbers of a chunk that are not here (C speed: a set against the dict)."""
        return id_numbers.difference(self.persons)


def _quote(model) -> str:
    from django.db import connection

    return connection.ops.quote_name(model._meta.db_table)
