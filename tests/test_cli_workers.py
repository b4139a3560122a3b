"""`serve --workers N`: validated up front; not combinable with the in-process emulator."""

from __future__ import annotations

import pytest

from app.cli import build_parser, main


def test_workers_defaults_to_one() -> None:
    assert build_parser().parse_args(["serve"]).workers == 1
    assert build_parser().parse_args(["serve", "--workers", "4"]).workers == 4


@pytest.mark.parametrize("value", ["0", "-1", "two"])
def test_bad_worker_count_is_a_usage_error(value: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        build_parser().parse_args(["serve", "--workers", value])
    assert info.value.code == 2
    assert "invalid worker count" in capsys.readouterr().err


def test_workers_with_emulator_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--emulator", "--workers", "2"]) == 2
    assert "--workers needs a real Azure endpoint" in capsys.readouterr().err
