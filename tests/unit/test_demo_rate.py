"""Issue 13 point 10: the demo makes a believable day (about six tickets an hour over the platforms, at uneven
gaps from a seed), ``--per-min`` raises it, and the mocks' generator keeps its steady beat unless told."""

from __future__ import annotations

import statistics
from typing import Any

import pytest

from app import demo
from app.cli import build_parser
from gateway.settings import Role
from mock_platforms.common.generator import GeneratorSettings, OrderGenerator


async def _make_one(*_: Any) -> None:
    return None


def test_the_default_is_six_tickets_an_hour_spread_over_the_platforms_12345_the_most() -> None:
    rates = demo.rates(demo.DEFAULT_PER_MIN, ["p12345", "p12389", "mayor", "mailbox"])
    assert sum(rates.values()) * 60 == pytest.approx(6)
    assert max(rates, key=lambda k: rates[k]) == "p12345" and min(rates, key=lambda k: rates[k]) == "p12389"
    assert all(rate > 0 for rate in rates.values())


def test_the_rate_is_shared_by_the_enabled_platforms_only() -> None:
    assert demo.rates(1.0, ["p12345", "mailbox"]) == pytest.approx({"p12345": 1.0 * 5 / 7, "mailbox": 1.0 * 2 / 7})
    assert demo.rates(2.0, ["p12345", "newcomer"])["newcomer"] > 0  # a platform without a share still gets some


def test_the_cli_takes_the_believable_default_and_per_min_raises_it() -> None:
    parser = build_parser()
    assert parser.parse_args(["demo"]).per_min == pytest.approx(0.1)
    assert parser.parse_args(["demo", "--per-min", "24"]).per_min == 24.0
    assert parser.parse_args(["demo", "--seed", "7"]).seed == 7
    for wrong in ("0", "-1", "many"):
        with pytest.raises(SystemExit):
            parser.parse_args(["demo", "--per-min", wrong])


def test_start_mocks_gives_each_platform_its_share_random_gaps_and_its_own_seed(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import mock_platforms.cli
    import mock_platforms.common.runner

    seen: dict[str, Any] = {}
    monkeypatch.setattr(mock_platforms.cli, "build_app", lambda key, options: seen.setdefault(key, options))
    monkeypatch.setattr(mock_platforms.common.runner, "serve_in_thread", lambda app, port: port)
    tokens = {role: f"demo-{role.value}-0123456789" for role in Role}
    demo.start_mocks(demo.demo_settings(8000, tokens), per_min=0.1, seed=5)
    assert set(seen) == {"p12345", "p12389", "mayor", "mailbox"}
    assert sum(o.generate_per_min for o in seen.values()) == pytest.approx(0.1)
    assert all(o.generate_random_gaps for o in seen.values())
    assert len({o.seed for o in seen.values()}) == 4 and min(o.seed for o in seen.values()) == 5


def test_the_generator_keeps_a_steady_beat_unless_random_gaps() -> None:
    steady = OrderGenerator(GeneratorSettings(per_min=6.0), seed=1, make_one=_make_one)
    assert {steady.gap() for _ in range(5)} == {10.0}


def test_random_gaps_vary_around_the_rate_and_repeat_for_a_seed() -> None:
    settings = GeneratorSettings(per_min=0.05, random_gaps=True)  # 12345's share of the default: 3 an hour
    first = OrderGenerator(settings, seed=2026, make_one=_make_one)
    again = OrderGenerator(GeneratorSettings(per_min=0.05, random_gaps=True), seed=2026, make_one=_make_one)
    gaps = [first.gap() for _ in range(4000)]
    assert gaps == [again.gap() for _ in range(4000)]  # the same day for the same seed
    assert len(set(gaps[:20])) == 20  # uneven
    assert statistics.mean(gaps) == pytest.approx(1200, rel=0.1)  # 20 minutes on average
