"""What an importer declares, and the registry the flow finds it in.

Apps register their importers when they load (``AppConfig.ready``): core does not import them.
"""

from __future__ import annotations

import abc
from collections.abc import Callable
from dataclasses import dataclass, field

ERROR = "error"  # the one outcome every importer shares: the row is not written
ERROR_LABEL = "有错误"
MSG_PREVIEWED = "预检完成：共{rows}行。确认后才会写入。"
MSG_DONE = "导入完成：{rows}行。"


@dataclass
class Outcome:
    """What the check found for one row of the sheet."""

    line: int
    status: str  # one of the importer's ``statuses``
    message: str = ""
    name: str = ""
    id_number: str = ""


@dataclass
class Checked:
    """A check's outcome: the rows' outcomes, and what must be kept from the preview for the
    apply to compare against (``keep``, stored on the run's options)."""

    outcomes: list[Outcome]  # every row's, or only the rows that say something when ``counts`` is given
    counts: dict[str, int] | None = None  # rows by outcome; by default counted from ``outcomes``
    total: int | None = None  # data rows in the file; by default len(outcomes)
    keep: dict = field(default_factory=dict)

    def __post_init__(self):
        if self.counts is None:
            self.counts = {}
            for o in self.outcomes:
                self.counts[o.status] = self.counts.get(o.status, 0) + 1
        if self.total is None:
            self.total = len(self.outcomes)

    @property
    def has_errors(self) -> bool:
        return bool(self.counts and self.counts.get(ERROR))


Progress = Callable[[int, int], None]  # (rows done, rows in all)


class ApplyRefused(Exception):
    """The apply found what the preview did not (the data changed meanwhile): nothing was
    written; ``checked`` says which rows."""

    def __init__(self, checked: Checked):
        super().__init__("refused")
        self.checked = checked


class TargetError(ValueError):
    """An API upload's field that names no region, year or list the actor may import into."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field, self.message = field, message


class Importer(abc.ABC):
    kind: str = ""
    label: str = ""  # e.g. "花名册"
    capabilities: tuple[str, ...] = ()  # all of them are needed to upload, preview and confirm
    statuses: dict[str, str] = {}  # outcome → label, in the order pages show them
    # True: one row with an error stops the whole file (the roster). False: rows with errors are
    # skipped and said so, the others are written (a department's list).
    all_or_none: bool = True

    @abc.abstractmethod
    def check(self, run, *, actor, progress: Progress) -> Checked:
        """Read the stored file and judge every row; writes nothing."""

    @abc.abstractmethod
    def apply(self, run, *, actor, progress: Progress) -> tuple[Checked, dict]:
        """Check the file again and write the rows it allows, inside the flow's transaction: the
        outcomes and the counts written. Raise ApplyRefused when the rows are no longer what the
        preview showed (for an ``all_or_none`` importer, the flow refuses any error row itself)."""

    @abc.abstractmethod
    def target(self, actor, data) -> tuple:
        """(region, year, options) of a new run from an API request's fields (``data``); raise
        ``TargetError`` with a Chinese message for a field that names nothing the actor may use."""

    def done_url(self, run) -> str:
        """Where the user goes once the rows are written."""
        return ""

    def summary(self, run) -> str:
        """One line saying what the run imports into (shown above its rows)."""
        return ""

    def preview_message(self, run) -> str:
        return MSG_PREVIEWED.format(rows=run.total_rows)

    def done_message(self, run) -> str:
        return MSG_DONE.format(rows=sum(run.result.values()) if run.result else 0)

    def labels(self) -> dict[str, str]:
        return {**self.statuses, ERROR: ERROR_LABEL}


_REGISTRY: dict[str, Importer] = {}


def register(importer: Importer) -> Importer:
    _REGISTRY[importer.kind] = importer
    return importer


def importer_for(kind: str) -> Importer:
    """The importer of ``kind``; LookupError for a kind no app registers (a run left by an
    importer since removed)."""
    try:
        return _REGISTRY[kind]
    except KeyError:
        raise LookupError(kind) from None


def kinds() -> list[str]:
    return list(_REGISTRY)


def kinds_for(user) -> list[str]:
    """The kinds whose every capability ``user`` has."""
    if user is None or not user.is_authenticated:
        return []
    return [kind for kind, importer in _REGISTRY.items() if all(user.can(c) for c in importer.capabilities)]
