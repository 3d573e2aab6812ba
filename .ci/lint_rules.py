"""House rules that ruff, mypy and import-linter cannot state, checked on the AST.

1. Roles are tested only in permissions modules. A comparison with a user's ``role`` or with a
   ``UserRole`` member, or a call of a role predicate (``is_monitor`` and the others of
   :mod:`monitoring.core.roles`), belongs in a feature's ``permissions.py``; handlers, services
   and operations ask a ``can_*`` function or a visibility scope instead.
2. One place commits. ``commit()``, ``rollback()`` and ``begin_nested()`` appear only in
   :mod:`monitoring.core.transactions` and in the modules that are transactions of their own
   (command-line commands, background jobs, demo loaders, the session store).
3. Pages and API import no other feature's pages or API: features share services.

Usage: ``python .ci/lint_rules.py [root]``; prints each breach as ``path:line: message`` and
exits 1 if there is one.
"""

from __future__ import annotations

import ast
import re
import sys
from collections.abc import Iterator
from pathlib import Path

ROLE_PREDICATES = frozenset(
    {
        "is_admin",
        "is_coordinator",
        "is_monitor",
        "is_affiliate",
        "is_supplier",
        "is_staff",
        "role_of",
        "has_role",
    }
)
# Where a role may be tested: the permissions modules, the predicates themselves, the access
# declarations of routes, the model property that says whether a membership is approved, and
# the demo loaders that make accounts of each role.
ROLE_ALLOWED = re.compile(
    r"(^|/)permissions\.py$|^monitoring/core/(roles|auth)\.py$|^monitoring/accounts/models\.py$"
    r"|(^|/)demo\.py$"
)
# Transactions of their own: command-line commands, jobs run by `flask jobs run`, demo loaders,
# the server-side session store (it saves after the request's own transaction), the error
# handlers (an error raised before a view ran is rolled back there) and the file store's garbage
# collection (`flask files gc`: each batch's records go once their objects are deleted).
COMMIT_ALLOWED = re.compile(
    r"^monitoring/core/(transactions|sessions|errors|storage)\.py$"
    r"|(^|/)(cli|demo|jobs|delivery)\.py$"
    r"|^monitoring/(cli|demo)\.py$|^monitoring/cli/"
)
COMMIT_CALLS = frozenset({"commit", "rollback", "begin_nested"})
HANDLER = re.compile(r"(^|/)(views|api|public|[a-z_]+_views|[a-z_]+_api)\.py$")


def feature_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 2 and parts[0] == "monitoring" else None


def is_handler_module(module: str) -> bool:
    return bool(HANDLER.search(module.replace(".", "/") + ".py"))


def _is_model(node: ast.AST) -> bool:
    return isinstance(node, ast.Name) and node.id[:1].isupper()


def mentions_role(node: ast.Compare) -> bool:
    """A comparison with a user's role (``user.role is ...``, ``... in (UserRole.x, ...)``).

    A query's clause on the column (``User.role == UserRole.supplier``, choosing recipients)
    tests no user and is left alone.
    """
    instance_role = member = column = False
    for child in ast.walk(node):
        if isinstance(child, ast.Attribute):
            if child.attr == "role":
                column = column or _is_model(child.value)
                instance_role = instance_role or not _is_model(child.value)
            elif isinstance(child.value, ast.Name) and child.value.id == "UserRole":
                member = True
    return instance_role or (member and not column)


def called_name(node: ast.Call) -> str | None:
    func = node.func
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def check(path: Path, rel: str) -> Iterator[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=rel)
    module = rel.removesuffix(".py").replace("/", ".").removesuffix(".__init__")
    role_ok = bool(ROLE_ALLOWED.search(rel))
    commit_ok = bool(COMMIT_ALLOWED.search(rel))
    for node in ast.walk(tree):
        if not role_ok and isinstance(node, ast.Compare) and mentions_role(node):
            yield node.lineno, "role test outside a permissions module: ask a can_* function"
        if isinstance(node, ast.Call):
            name = called_name(node)
            if not role_ok and name in ROLE_PREDICATES:
                yield node.lineno, f"role predicate {name}() outside a permissions module"
            if not commit_ok and name in COMMIT_CALLS and isinstance(node.func, ast.Attribute):
                yield node.lineno, f"{name}() outside monitoring.core.transactions: the request commits once"
        if isinstance(node, ast.ImportFrom | ast.Import) and feature_of(module) and is_handler_module(module):
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names]
            if isinstance(node, ast.ImportFrom) and node.module:
                names += [f"{node.module}.{a.name}" for a in node.names]
            for target in names:
                other = feature_of(target)
                if other and other not in ("core", feature_of(module)) and is_handler_module(target):
                    yield node.lineno, f"imports {target}: pages and API use other features' services only"


def main(root: Path) -> int:
    breaches = 0
    for path in sorted((root / "monitoring").rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        for line, message in check(path, rel):
            print(f"{rel}:{line}: {message}")
            breaches += 1
    if breaches:
        print(f"{breaches} breach(es) of the house rules (see .ci/lint_rules.py)", file=sys.stderr)
    return 1 if breaches else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else ".").resolve()))
