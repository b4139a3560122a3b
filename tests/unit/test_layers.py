"""The layers import downwards only, so the flow stays readable and each layer can be reused on its own.

Read from the source with ``ast`` (function-level imports count too): a new import that runs up the layers,
or an HTTP framework imported below the HTTP layer, fails here and names the line.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

APP = Path(__file__).resolve().parents[2] / "app"

# Lowest first. A package may import its own modules and those of any package listed before it.
LAYERS = ["models", "wire", "settings", "telemetry", "translate", "upstream", "store", "service", "api", "cli"]
# Packages side by side in one layer do not import each other.
SIBLINGS = {
    "translate": {"upstream", "store"},
    "upstream": {"translate", "store"},
    "store": {"translate", "upstream", "telemetry"},
    "wire": {"settings"},
    "settings": {"wire"},
}
# The HTTP framework belongs to the HTTP layer (and the emulator, which is an HTTP server of its own).
FRAMEWORKS = ("litestar", "uvicorn")
FRAMEWORK_FREE = {"models", "wire", "settings", "translate", "upstream", "store", "service"}


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "app":  # `from app import x` imports the subpackage x
                found += [(node.lineno, f"app.{alias.name}") for alias in node.names]
            else:
                found.append((node.lineno, node.module))
    return found


def _package(path: Path) -> str:
    parts = path.relative_to(APP).parts
    return parts[0] if len(parts) > 1 else ""


def _violations() -> list[str]:
    bad: list[str] = []
    for path in sorted(APP.rglob("*.py")):
        package = _package(path)
        if package not in LAYERS:
            continue
        rank = LAYERS.index(package)
        where = path.relative_to(APP.parent)
        for line, module in _imports(path):
            top = module.split(".")[0]
            if package in FRAMEWORK_FREE and top in FRAMEWORKS:
                bad.append(f"{where}:{line} imports {module}: no HTTP framework below app/api")
            if top != "app" or module == "app":
                continue
            target = module.split(".")[1]
            if target == package or (target not in LAYERS and target != "emulator"):
                continue
            if target == "emulator":
                if package != "cli":  # only the command line starts the emulator; the gateway never uses it
                    bad.append(f"{where}:{line} imports {module}: app/{package} may not import the emulator")
                continue
            if LAYERS.index(target) > rank or target in SIBLINGS.get(package, ()):
                bad.append(f"{where}:{line} imports {module}: app/{package} may not import app/{target}")
    return bad


def test_no_module_imports_a_layer_above_it() -> None:
    assert _violations() == []


def test_the_checker_catches_an_upward_import(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The check itself can fail: a translator module that imports the HTTP layer and Litestar is reported."""
    fake = tmp_path / "app"
    (fake / "translate").mkdir(parents=True)
    (fake / "translate" / "bad.py").write_text("import litestar\nfrom app.api import errors\n")
    monkeypatch.setitem(globals(), "APP", fake)
    found = _violations()
    assert len(found) == 2, found
