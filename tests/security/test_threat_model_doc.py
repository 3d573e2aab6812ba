"""The threat model names its tests: every test it cites exists, and every attack module is cited.

A claim in docs/threat-model.md stands on the test named next to it; a renamed or deleted test, or a
new attack module the document does not mention, fails here.
"""

import ast
import re
from pathlib import Path

from monitoring.config import ROOT

DOC = ROOT / "docs" / "threat-model.md"
# `tests/x/test_y.py::test_z`, `tests/x/test_y.py`, or `::test_z` after a cited module.
CITATION = re.compile(r"`(tests/[\w/]+\.py)?(?:::(test_\w+))?`")


def _test_names(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)}


def _citations() -> list[tuple[str, str | None]]:
    cited, module = [], None
    for match in CITATION.finditer(DOC.read_text(encoding="utf-8")):
        path, name = match.groups()
        if path is None and name is None:
            continue
        module = path or module
        assert module is not None, f"::{name} follows no module"
        cited.append((module, name))
    return cited


def test_every_cited_test_exists():
    missing = []
    for module, name in _citations():
        path = ROOT / module
        if not path.exists():
            missing.append(module)
        elif name is not None and name not in _test_names(path):
            missing.append(f"{module}::{name}")
    assert missing == []


def test_every_attack_module_is_cited():
    cited = {module for module, _name in _citations()}
    attacks = {
        str(path.relative_to(ROOT))
        for path in (ROOT / "tests" / "security").glob("test_*.py")
        if path.name != Path(__file__).name
    }
    assert sorted(attacks - cited) == []
