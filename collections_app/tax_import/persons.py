"""The matcher's reads: a chunk's persons, their enrollments and identities, in one or two queries."""

from __future__ import annotations

from django.db import connection

from core.money import to_money
from enrollment.models import Enrollment, Household, Person

from .matching import as_date


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


def _money(value):
    return None if value is None else to_money(value)
