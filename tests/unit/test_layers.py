"""Dependencies run one way: core ← subsidies ← enrollment ← collections_app ← reporting.

A package may use the packages to its left and no other; ``config`` (the wiring) may use every
package and none may use it. Tests, bench and scripts are outside the rule. Checked over the
source with ``ast`` (migrations aside, they are generated):

* an import (absolute or relative, ``import_module("...")`` too) of a package to the right;
* an import of another package anywhere but at module level: inside a function, method or class
  body, or under try/if/with, it hides a cycle instead of removing it. The one exception is a
  module-level ``if TYPE_CHECKING:`` block, and only in the allowed direction;
* a literal ``apps.get_model(...)`` of a model of a package to the right;

and over the app registry: a model's relation (``ForeignKey("enrollment.Person")`` and the like)
to a model of a package to the right. The side of a model is the package its class lives in
(``apps.get_model`` resolves the label), not its app label: Region, User and AuditEvent live in
core/ under the label "enrollment".
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.apps import apps

ROOT = Path(__file__).resolve().parents[2]
LAYERS = ["core", "subsidies", "enrollment", "collections_app", "reporting", "config"]
RANK = {name: i for i, name in enumerate(LAYERS)}
CHECKED = LAYERS[:-1]  # config may import anything

@dataclass(frozen=True)
class Violation:
    key: str  # stable across edits: file and module, or model field and target; no line number
    where: str  # file:line, for the reader

    def __str__(self):
        return f"{self.key} (at {self.where})"


def package_of(module: str) -> str:
    return module.split(".", 1)[0]


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _literal(node: ast.expr) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


_BLOCKS = {
    ast.Try: "a try block",
    ast.TryStar: "a try block",
    ast.With: "a with block",
    ast.AsyncWith: "a with block",
    ast.For: "a loop",
    ast.AsyncFor: "a loop",
    ast.While: "a loop",
    ast.Match: "a match block",
}
_IF = "an if block"


class _Uses(ast.NodeVisitor):
    """Every module a file imports and every model label it looks up, with where it happens:
    ``scope`` is empty at module level, ["TYPE_CHECKING"] in a module-level ``if TYPE_CHECKING:``."""

    def __init__(self, package: str):
        self.package = package  # dotted package of the file, for relative imports
        self.scope: list[str] = []
        self.imports: list[tuple[int, str, tuple[str, ...]]] = []
        self.lookups: list[tuple[int, str]] = []

    def _inside(self, label, nodes):
        self.scope.append(label)
        for node in nodes:
            self.visit(node)
        self.scope.pop()

    def visit_FunctionDef(self, node):
        for dec in node.decorator_list:
            self.visit(dec)
        self._inside(node.name, node.body)

    visit_AsyncFunctionDef = visit_ClassDef = visit_FunctionDef

    def visit_If(self, node):
        self.visit(node.test)
        typing_only = not self.scope and _is_type_checking(node.test)
        self._inside("TYPE_CHECKING" if typing_only else _IF, node.body)
        self._inside(_IF, node.orelse)

    def generic_visit(self, node):
        label = _BLOCKS.get(type(node))
        if label is None:
            super().generic_visit(node)
        else:
            self._inside(label, list(ast.iter_child_nodes(node)))

    def visit_Import(self, node):
        for alias in node.names:
            self.imports.append((node.lineno, alias.name, tuple(self.scope)))

    def visit_ImportFrom(self, node):
        if node.level:
            base = self.package.split(".")
            base = base[: len(base) - node.level + 1]
            module = ".".join(base + ([node.module] if node.module else []))
        else:
            module = node.module or ""
        self.imports.append((node.lineno, module, tuple(self.scope)))

    def visit_Call(self, node):
        name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        args = [_literal(a) for a in node.args]
        if name == "import_module" and args and args[0]:
            self.imports.append((node.lineno, args[0], ("import_module",)))
        elif name == "get_model" and args and args[0]:
            label = args[0] if len(args) == 1 else f"{args[0]}.{args[1]}" if args[1] else None
            if label and "." in label:
                self.lookups.append((node.lineno, label))
        self.generic_visit(node)


def source_violations(path: str, source: str) -> list[Violation]:
    """The import violations of one file; ``path`` is relative to the repository root."""
    parts = Path(path).with_suffix("").parts
    package = ".".join(parts if parts[-1] == "__init__" else parts[:-1]).removesuffix(".__init__")
    mine = parts[0]
    uses = _Uses(package)
    uses.visit(ast.parse(source, filename=path))
    found = []
    for line, module, scope in uses.imports:
        theirs = package_of(module)
        if theirs not in RANK or theirs == mine:
            continue
        if RANK[theirs] > RANK[mine]:
            found.append(Violation(f"{path} imports {module}", f"{path}:{line}"))
        elif scope not in ((), ("TYPE_CHECKING",)):
            names = [s for s in scope if s not in {*_BLOCKS.values(), _IF, "TYPE_CHECKING"}]
            inside = ".".join(names) or scope[0]
            found.append(Violation(f"{path} imports {module} inside {inside}", f"{path}:{line}"))
    for line, label in uses.lookups:
        try:
            model = apps.get_model(label)
        except LookupError:
            continue
        theirs = package_of(model.__module__)
        if theirs in RANK and RANK[theirs] > RANK[mine]:
            found.append(Violation(f"{path} looks up {model.__module__}.{model.__name__}", f"{path}:{line}"))
    return found


def relation_violations() -> list[Violation]:
    found = []
    for model in apps.get_models():
        # A history table is its model's: simple_history files it under the app label's package.
        mine = package_of(getattr(model, "instance_type", model).__module__)
        if mine not in CHECKED:
            continue
        for field in [*model._meta.local_fields, *model._meta.local_many_to_many]:
            target = field.related_model if field.is_relation else None
            if target is None or isinstance(target, str):
                continue
            theirs = package_of(target.__module__)
            if theirs in RANK and RANK[theirs] > RANK[mine]:
                key = (
                    f"{model.__module__}.{model.__name__}.{field.name} relates to "
                    f"{target.__module__}.{target.__name__}"
                )
                found.append(Violation(key, f"{model._meta.label}.{field.name}"))
    return found


def all_violations() -> list[Violation]:
    found = []
    for package in CHECKED:
        for file in sorted((ROOT / package).rglob("*.py")):
            rel = file.relative_to(ROOT)
            if "migrations" not in rel.parts:
                found += source_violations(rel.as_posix(), file.read_text(encoding="utf-8"))
    return found + relation_violations()


def test_dependencies_run_one_way():
    found = all_violations()
    assert not found, "imports against core ← subsidies ← enrollment ← collections_app ← reporting:\n" + "\n".join(
        map(str, found)
    )


# The checker itself, on small sources: it must see what it claims to see.


@pytest.mark.parametrize(
    "path, source, keys",
    [
        ("core/x.py", "from enrollment.models import Person\n", ["core/x.py imports enrollment.models"]),
        ("core/x.py", "import reporting.selectors as s\n", ["core/x.py imports reporting.selectors"]),
        ("reporting/x.py", "import config.settings\n", ["reporting/x.py imports config.settings"]),
        ("subsidies/a/b.py", "from ...enrollment import models\n", ["subsidies/a/b.py imports enrollment"]),
        ("enrollment/x.py", "from core.models import Region\nfrom subsidies import calc\n", []),
        ("enrollment/x.py", "from . import models\nfrom .models import Person\n", []),
        ("enrollment/x.py", "def f():\n    from .models import Person\n", []),
        ("enrollment/x.py", "def f():\n    from core import audit\n", ["enrollment/x.py imports core inside f"]),
        ("enrollment/x.py", "class A:\n    def m(self):\n        import core.audit\n", ["enrollment/x.py imports core.audit inside A.m"]),
        ("enrollment/x.py", "try:\n    from core import audit\nexcept ImportError:\n    pass\n", ["enrollment/x.py imports core inside a try block"]),
        ("enrollment/x.py", "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from core.models import User\n", []),
        ("subsidies/x.py", "if TYPE_CHECKING:\n    from enrollment.models import Person\n", ["subsidies/x.py imports enrollment.models"]),
        ("subsidies/x.py", "def f():\n    if TYPE_CHECKING:\n        from core.models import User\n", ["subsidies/x.py imports core.models inside f"]),
        ("subsidies/x.py", "def f():\n    from enrollment.models import Person\n", ["subsidies/x.py imports enrollment.models"]),
        ("core/x.py", "m = importlib.import_module('subsidies.calc')\n", ["core/x.py imports subsidies.calc"]),
        # Region's label is "enrollment" but its class lives in core: subsidies may look it up.
        ("subsidies/x.py", "R = apps.get_model('enrollment.Region')\n", []),
    ],
)
def test_the_checker_sees(path, source, keys):
    assert [v.key for v in source_violations(path, source)] == keys


def test_a_lookup_is_placed_by_the_class():
    person = apps.get_model("enrollment", "Person")
    key = f"subsidies/x.py looks up {person.__module__}.Person"
    assert [v.key for v in source_violations("subsidies/x.py", "P = apps.get_model('enrollment', 'Person')\n")] == [key]


def test_a_relation_is_placed_by_the_class_not_the_label():
    """Region keeps the label "enrollment" but its class is core's: a policy year's county
    (subsidies → Region) is no violation."""
    from subsidies.models import PolicyYear

    assert PolicyYear._meta.get_field("county").related_model.__module__.startswith("core.")
    assert not [v for v in relation_violations() if ".PolicyYear.county " in v.key]
