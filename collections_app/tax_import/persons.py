"""The matcher's reads: a chunk's persons, their enrollments and identities, in one or two queries.

``ChunkReads`` arranges them for one filing: the county's whole roster read while the sheet loads
when the filing may be as large as the county (see ``roster``), each chunk then taken from it; a
chunk of persons the roster lacks, or any chunk without a roster, read by ``lookup_chunk`` (on
PostgreSQL queued on the writer's database thread, after the writes submitted before it)."""

from __future__ import annotations

from django.db import connection

from core.money import to_money
from enrollment.models import Enrollment, Household, Person

from . import roster
from .matching import as_date

DEFER_MAX = 50_000  # rows of persons the county roster lacks kept for the end (then: read per chunk)
FROM_ROSTER = object()  # in place of a chunk's reads: the county roster holds all its persons


def _q(name):
    return connection.ops.quote_name(name)


_PERSON_COLUMNS = (
    "p.id, p.id_number, p.is_student, p.birth_date, h.village_id, e.id, e.year, e.status, e.tier, e.tax_voucher, "
    "e.amount_due, e.standard, e.subsidy, e.subsidy_category_code"
)
PERSON_SQL = (
    f"SELECT {_PERSON_COLUMNS} FROM {{person}} p JOIN {{household}} h ON h.id = p.household_id "
    "LEFT JOIN {enrollment} e ON e.person_id = p.id AND e.year IN ({years}) WHERE p.id_number IN ({ids})"
)
# PostgreSQL: the chunk's ID numbers as one array, each looked up by index (OFFSET 0 keeps the
# planner from hashing whole tables: its cost must not grow with the county's size).
PERSON_SQL_PG = (
    f"SELECT {_PERSON_COLUMNS} FROM unnest(%s::text[]) AS k(id_number) "
    "CROSS JOIN LATERAL (SELECT id, id_number, is_student, birth_date, household_id FROM {person} "
    "WHERE id_number = k.id_number OFFSET 0) p "
    "CROSS JOIN LATERAL (SELECT village_id FROM {household} WHERE id = p.household_id OFFSET 0) h "
    "LEFT JOIN LATERAL (SELECT id, year, status, tier, tax_voucher, amount_due, standard, subsidy, subsidy_category_code "
    "FROM {enrollment} WHERE person_id = p.id AND year IN ({years}) OFFSET 0) e ON true"
)


def select_persons(execute, id_numbers, years) -> list[tuple]:
    """The persons with these ID numbers, each with its enrollments of ``years`` (one row per
    enrollment, or one with NULLs): one query on PostgreSQL, one per ~900 IDs elsewhere. Raw SQL:
    the ORM's per-value preparation costs more than the query."""
    id_numbers = list(id_numbers)
    if not id_numbers:
        return []
    tables = {
        "person": _q(Person._meta.db_table), "household": _q(Household._meta.db_table),
        "enrollment": _q(Enrollment._meta.db_table), "years": ", ".join(str(int(y)) for y in years) or "0",
    }
    if connection.vendor == "postgresql":  # normalised ID numbers need no quoting in an array literal
        return execute(PERSON_SQL_PG.format(**tables), ["{" + ",".join(id_numbers) + "}"])
    out = []
    step = max(100, (connection.features.max_query_params or 999) - 10)
    for start in range(0, len(id_numbers), step):
        part = id_numbers[start : start + step]
        out.extend(execute(PERSON_SQL.format(ids=", ".join(["%s"] * len(part)), **tables), part))
    return out


def lookup_chunk(execute, ids, years, villages, identity_queries, dates_as_text):
    """A chunk's persons {ID number: (id, student, birth date, village id, local)}, their
    enrollments {(person id, year): (id, status, tier, voucher, due, standard, subsidy, code)}
    and, with ``identity_queries`` ({year: (sql, params, index)}, PostgreSQL), the rows of their
    identities for ``FilingBook.set_identities``."""
    persons, enrollments = {}, {}
    for (
        pid, id_number, student, birth, village_id, eid, year, status, tier, voucher, due, std, sub, code,
    ) in select_persons(execute, ids, years):
        if dates_as_text:  # SQLite: text dates, float or text amounts (PostgreSQL: date, Decimal of 2 places)
            birth, due, std, sub = as_date(birth), _money(due), _money(std), _money(sub)
        persons[id_number] = (pid, bool(student), birth, village_id, village_id in villages)
        if eid is not None:
            enrollments[(pid, year)] = (eid, status, tier, voucher, due, std, sub, code)
    identities = None
    if identity_queries is not None:
        local = [p[0] for p in persons.values() if p[4]]
        identities = {}
        for year, (sql, params, index) in identity_queries.items():
            params = list(params)
            params[index] = local
            identities[year] = execute(sql, params) if local else []
    return persons, enrollments, identities


class ChunkReads:
    """The reads of one filing's chunks, queued one chunk ahead of the matching (``queue``, then
    ``result``). ``writer`` runs them (``Writer.read``); ``book`` (``matching.FilingBook``) gets
    the identities of each chunk's persons; ``villages`` are the county's (by id)."""

    def __init__(self, *, writer, book, villages: dict):
        self.writer = writer
        self.book = book
        self.villages = villages
        self.roster: roster.CountyRoster | None = None
        self.later: list = []  # rows of persons the roster lacks, matched after all others (see queue)
        self._dates_as_text = connection.vendor != "postgresql"

    def read_roster(self, *, size: int, year: int | None):
        """Queue the read of the county's whole roster (see tax_import.roster) when the filing of
        ``size`` bytes may be large enough; it runs on the database thread while the sheet loads.
        A future (of a roster or None) for ``hold_roster``, or None."""
        book = self.book
        if not self.writer.pg or year is None or book.policy(year) is None or not roster.large_enough(size):
            return None
        query = book.identity_query(year)
        return self.writer.read(
            lambda db: roster.read_if_worth(db, year=year, size=size, village_ids=self.villages, identity_query=query)
        )

    def hold_roster(self, reading) -> None:
        """The roster read (if it was worth reading), for every chunk after."""
        self.roster = reading.result()
        if self.roster is not None:
            self.book.hold_identities({self.roster.year: self.roster.identity_rows})

    def queue(self, chunk, from_roster: bool = True):
        """Queue the reads of a chunk: (a future giving (persons, enrollments, identities), or
        FROM_ROSTER; the rows of the chunk to match now). With the roster of the chunk's year,
        the rows of persons it lacks are kept in ``later`` (up to DEFER_MAX of them)."""
        valid = [r for r in chunk if r.errors is None]
        ids = {r.id_number for r in valid}
        years = {r.year for r in valid}
        book = self.book
        for year in years:
            book.policy(year)  # read here, in this thread, before the chunk is matched
        queries = None
        if self.writer.pg:
            queries = {y: q for y in years if (q := book.identity_query(y)) is not None}
        county_roster = self.roster
        if from_roster and county_roster is not None and years == {county_roster.year}:
            missing = county_roster.lacks(ids)
            if not missing:
                return FROM_ROSTER, chunk
            if len(self.later) < DEFER_MAX:
                # Not in the roster (another county, not registered, entered since): their rows
                # are matched after all others, so that no chunk waits for a read.
                self.later.extend(r for r in valid if r.id_number in missing)
                return FROM_ROSTER, [r for r in chunk if r.errors is not None or r.id_number not in missing]
            # Past DEFER_MAX such rows, the chunk is read from the database like any other.
        return self.writer.read(lookup_chunk, ids, years, self.villages, queries, self._dates_as_text), chunk

    def result(self, reading):
        """(rows, persons, enrollments) of a queued chunk, once read, with the identities of its
        persons handed to the book; enrollments None: the persons are the roster's."""
        future, chunk = reading
        if future is FROM_ROSTER:
            return chunk, self.roster.persons, None  # identities: held since it was read
        try:
            persons, enrollments, identities = future.result()
        except Exception:
            self.writer.wait()  # a failed write makes the reads after it fail: report the write
            raise
        if identities is not None:
            self.book.set_identities(identities)
        else:
            years = {r.year for r in chunk if r.errors is None}
            self.book.load_identities([p[0] for p in persons.values() if p[4]], years)
        return chunk, persons, enrollments


def _money(value):
    return None if value is None else to_money(value)
