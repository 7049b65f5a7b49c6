"""Deadline rules come from the composition root, never from a silent default (issue 14).

A process that built an engine and forgot to bind its bureau's SLA settings would count deadlines under
the default profile (000) instead of, say, 002's 137 rule: that must fail loudly, at the first use.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from app.bootstrap import bootstrap
from gateway.settings import AlertSettings, Settings, SlaSettings
from gateway.sla import runtime as sla_runtime
from gateway.sla.runtime import SlaNotBound, runtime_for_engine
from gateway.store.db import make_engine, make_session_factory


def test_an_engine_nobody_bound_has_no_deadline_rules(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'unbound.db'}")
    with pytest.raises(SlaNotBound, match="no SLA settings bound"):
        runtime_for_engine(engine)
    with make_session_factory(engine)() as session, pytest.raises(SlaNotBound):
        sla_runtime.runtime_for(session)


def test_binding_gives_the_engine_exactly_the_rules_bound(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'bound.db'}")
    sla = SlaSettings(profile="002")
    runtime = sla_runtime.bind(engine, sla, AlertSettings())
    assert runtime_for_engine(engine) is runtime
    assert runtime_for_engine(engine).sla.profile == "002"


def test_the_composition_root_binds_its_settings(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'root.db'}", sla=SlaSettings(profile="002"))
    container = bootstrap(settings, adapters={})
    try:
        assert runtime_for_engine(container.engine).sla.profile == "002"
    finally:
        container.engine.dispose()
