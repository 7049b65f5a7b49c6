"""``hotline-gateway calendar show | load | missing`` against a SQLite database."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.cli import main
from tests.sla_support import CALENDAR_2027


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "cli.sqlite3"
    monkeypatch.setenv("GATEWAY_DATABASE_URL", f"sqlite:///{path}")
    monkeypatch.chdir(tmp_path)  # no stray .env is read
    return path


def test_missing_reports_next_year_until_it_is_loaded_and_load_survives_a_restart(
    database: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["calendar", "missing"]) == 1
    assert "缺少 2027年" in capsys.readouterr().out
    assert main(["calendar", "load", str(CALENDAR_2027)]) == 0
    assert "已导入 2027年" in capsys.readouterr().out
    assert main(["calendar", "missing"]) == 0  # a new process reads the year from the database
    assert main(["calendar", "show"]) == 0
    assert "2027  测试发〔2026〕1号" in capsys.readouterr().out
    assert main(["calendar", "show", "2027"]) == 0
    out = capsys.readouterr().out
    assert "放假 2027-02-05 周五  春节" in out and "调休上班 2027-01-31 周日  春节" in out


def test_load_refuses_an_invalid_file_and_a_known_year_without_replace(
    database: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    data = json.loads(CALENDAR_2027.read_text(encoding="utf-8"))
    data["rest_days"] = data["rest_days"][1:]  # 元旦 loses a day: the days off no longer add up
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    assert main(["calendar", "load", str(broken)]) == 2
    assert "无法导入" in capsys.readouterr().out
    assert main(["calendar", "load", str(Path(__file__).parents[2] / "gateway/calendar/data/2026.json")]) == 2
    assert "already loaded" in capsys.readouterr().out
