"""Generate the msgspec Structs in `app/models/generated.py` from `openapi.yaml`.

`openapi.yaml` is the single source of truth for both wire formats; this script is the only way the
Structs are made. It runs datamodel-code-generator (pinned in pyproject.toml) with a fixed set of
options, so the same spec always gives the same file, and `tests/test_models_fresh.py` can regenerate
into a temporary folder and compare.

One template is overridden (`scripts/codegen_templates/msgspec.jinja2`): the stock msgspec template
ignores `additionalProperties: false`, and the gateway must refuse unknown request parameters with a
400 naming them, as OpenAI does. The override adds `forbid_unknown_fields=True` to exactly those
Structs and changes nothing else.

Usage: python scripts/generate_models.py [--output PATH]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "openapi.yaml"
TEMPLATES = ROOT / "scripts" / "codegen_templates"
DEFAULT_OUTPUT = ROOT / "app" / "models" / "generated.py"

HEADER = (
    "# GENERATED FILE: do not edit by hand.\n"
    "# Made from openapi.yaml by scripts/generate_models.py (`make models`);\n"
    "# tests/test_models_fresh.py fails when it differs from what the script makes.\n"
)

OPTIONS = [
    "--input-file-type", "openapi",
    "--output-model-type", "msgspec.Struct",
    "--target-python-version", "3.11",
    "--use-annotated",
    "--field-constraints",
    "--enum-field-as-literal", "all",
    "--use-union-operator",
    "--use-standard-collections",
    "--disable-timestamp",
    "--formatters", "ruff-format",
    "--custom-template-dir", str(TEMPLATES),
]  # fmt: skip


def generate(output: Path) -> None:
    """Write the Structs for `openapi.yaml` to `output`.

    The tool formats with ruff using whatever ruff config sits near the file it writes, so the same spec
    could give different files in different places. It therefore writes into a fresh temporary folder,
    and the result is formatted once more with the project's own ruff config before it is copied out.
    """
    bin_dir = Path(sys.executable).parent
    with tempfile.TemporaryDirectory() as scratch:
        draft = Path(scratch) / "generated.py"
        command = [str(bin_dir / "datamodel-codegen"), "--input", str(SPEC), "--output", str(draft), *OPTIONS]
        _run(command)
        _run([str(bin_dir / "ruff"), "format", "--quiet", "--config", str(ROOT / "pyproject.toml"), str(draft)])
        body = draft.read_text()
    # The tool's own first lines name the input by a path relative to where it ran; replace them with a
    # header that does not depend on the machine.
    lines = body.splitlines(keepends=True)
    while lines and lines[0].startswith("#"):
        lines.pop(0)
    output.write_text(HEADER + "".join(lines))


def _run(command: list[str]) -> None:
    result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    if result.returncode != 0:
        sys.stderr.write(result.stderr)
        raise SystemExit(f"{Path(command[0]).name} failed with exit code {result.returncode}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args()
    generate(args.output)


if __name__ == "__main__":
    main()
