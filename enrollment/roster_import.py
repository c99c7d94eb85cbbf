"""The roster import's run: a village's file read by the one reader (``core.intake``) into the
tablib.Dataset that django-import-export's RosterResource imports — as a preview (nothing
written) or for real (all rows or none). The flow around it (stored file, confirm, audit) is
``core.imports``; ``enrollment.importers`` plugs this in."""

from __future__ import annotations

import io
from dataclasses import dataclass

import tablib

from core import cells, intake
from core.access import require
from core.scoping import ensure_region_visible

from .resources import COLUMNS, Move, RosterResource, row_messages


@dataclass
class RosterRun:
    result: object  # import-export's Result
    problems: list[tuple[int, str]]  # (row in the sheet, message)
    moves: list[Move]

    @property
    def counts(self) -> dict[str, int]:
        """What the preview and the confirm report: a move is not counted as a plain update."""
        return {"new": self.result.totals["new"], "update": self.result.totals["update"] - len(self.moves), "moved": len(self.moves)}

    @property
    def failed(self) -> bool:
        return bool(self.problems) or self.result.has_errors() or self.result.has_validation_errors()


def load(data: bytes) -> tuple[tablib.Dataset, list[int]]:
    """The upload as the Dataset RosterResource imports, and each data row's number in the sheet.
    The header's known columns take the roster's names (COLUMNS); blank and totals rows are left out."""
    sheet = intake.open_upload(io.BytesIO(data))  # the door check and the guard, before calamine allocates
    try:
        rows = sheet.rows()
        header = intake.find_header(rows, COLUMNS)
        if header is None:
            # No row names every required column: the first row is taken as the header, so the
            # preview says which columns are missing.
            rows = (r for r in sheet.rows() if not all(cells.is_blank(c) for c in r[1]))
            line, first = next(rows, (1, []))
            header = intake.Header(line=line, columns=COLUMNS.map(first), cells=list(first))
        names = [cells.text(c) for c in header.cells]
        for key, index in header.columns.items():
            names[index] = key
        width = len(names)
        dataset, lines = tablib.Dataset(headers=names), []
        for line, row in intake.data_rows(rows, header, COLUMNS):
            dataset.append(list(row[:width]) + [""] * (width - len(row)))
            lines.append(line)
    finally:
        sheet.close()
    return dataset, lines


def roster_import_run(
    *, actor, village, year: int, data: bytes, dry_run: bool, previewed_moves: list[Move] | None = None, progress=None,
) -> RosterRun:
    """Preview (``dry_run``) or import a village's roster file. The import writes every row or none
    (the resource's transaction)."""
    require(actor, "roster.import")
    require(actor, "roster.edit")
    ensure_region_visible(actor, village)
    dataset, lines = load(data)
    resource = RosterResource(actor=actor, village=village, year=year, previewed_moves=previewed_moves, lines=lines, progress=progress)
    result = resource.import_data(
        dataset, dry_run=dry_run, use_transactions=True, rollback_on_validation_errors=True, raise_errors=False
    )
    return RosterRun(result=result, problems=row_messages(result, lines), moves=resource.moves)
