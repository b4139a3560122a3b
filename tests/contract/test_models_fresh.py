"""`app/models/generated.py` is exactly what `scripts/generate_models.py` makes from openapi.yaml.

The Structs are the code's view of the contract; if someone edits openapi.yaml (or the generated file by
hand) without regenerating, the gateway would accept or return something other than what it documents.
"""

from __future__ import annotations

import difflib
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
COMMITTED = ROOT / "app" / "models" / "generated.py"
SCRIPT = ROOT / "scripts" / "generate_models.py"


def staleness(expected: Path, actual: Path) -> str | None:
    """None when the files are byte-identical; otherwise a short unified diff explaining how they differ."""
    want, got = expected.read_bytes(), actual.read_bytes()
    if want == got:
        return None
    diff = difflib.unified_diff(
        got.decode(errors="replace").splitlines(keepends=True),
        want.decode(errors="replace").splitlines(keepends=True),
        fromfile=str(actual),
        tofile="freshly generated",
        n=1,
    )
    return "".join(list(diff)[:60]) or "the files differ (in bytes that do not show in a text diff)"


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> Path:
    output = tmp_path_factory.mktemp("models") / "generated.py"
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--output", str(output)], capture_output=True, text=True, cwd=ROOT, timeout=300
    )
    assert result.returncode == 0, f"generate_models.py failed:\n{result.stdout}\n{result.stderr}"
    return output


def test_generated_models_are_fresh(fresh: Path) -> None:
    problem = staleness(fresh, COMMITTED)
    assert problem is None, f"app/models/generated.py is stale: run `make models`.\n{problem}"


def test_staleness_check_detects_a_change(tmp_path: Path) -> None:
    """The check above can fail: one altered line, and one appended line, are both reported."""
    pristine = tmp_path / "generated.py"
    shutil.copyfile(COMMITTED, pristine)
    altered = tmp_path / "altered.py"
    shutil.copyfile(COMMITTED, altered)
    lines = altered.read_text().splitlines(keepends=True)
    index = next(i for i, line in enumerate(lines) if line.startswith("class "))
    lines[index] = lines[index].replace("class ", "class Renamed", 1)
    altered.write_text("".join(lines))
    problem = staleness(pristine, altered)
    assert problem is not None and "Renamed" in problem

    appended = tmp_path / "appended.py"
    appended.write_bytes(COMMITTED.read_bytes() + b"\n# hand edit\n")
    problem = staleness(pristine, appended)
    assert problem is not None and "hand edit" in problem

    assert staleness(pristine, COMMITTED) is None
