"""The platform catalogue (core data) and the registry (composition) name the same platforms."""

from __future__ import annotations

from app.registry import REGISTRY
from gateway.catalogue import CATALOGUE, label, supports, takes_files


def test_every_catalogued_platform_has_an_adapter_and_a_mapper_and_no_other() -> None:
    assert set(REGISTRY) == set(CATALOGUE) == {"p12345", "p12389", "mayor", "mailbox"}
    for key, wiring in REGISTRY.items():
        assert wiring.make_mapper().key == key
        assert CATALOGUE[key].key == key


def test_the_catalogue_answers_for_known_and_unknown_keys() -> None:
    assert label("mailbox") == "局长信箱" and label("p110") == "p110"
    assert supports("p12345", "contact") and not supports("mailbox", "contact") and supports("p110", "contact")
    assert takes_files("p12345") and not takes_files("mayor") and not takes_files("p110")
