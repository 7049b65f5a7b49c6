"""Parsing untrusted XML: defusedxml (no DTD, no entities, no external resources) and a depth limit.

Expat itself parses a 100,000-deep document happily, but everything after it that walks the tree
recursively (copying, serialising, canonicalising) then dies with ``RecursionError``. The depth is
counted while the parser builds the tree, so such a document is refused before any of that runs.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET  # the tree builder only; parsing is defusedxml's
from typing import cast

from defusedxml.ElementTree import DefusedXMLParser

MAX_DEPTH = 64  # 12389 documents nest about 5 deep; nothing of ours comes near this


class TooDeep(ValueError):
    """The document nests elements deeper than the limit."""


class _DepthLimitedBuilder:
    """An ElementTree builder target that refuses to open element number ``max_depth + 1`` on one path."""

    def __init__(self, max_depth: int) -> None:
        self._builder = ET.TreeBuilder()
        self._depth = 0
        self._max_depth = max_depth

    def start(self, tag: str, attrs: dict[str, str]) -> ET.Element:
        self._depth += 1
        if self._depth > self._max_depth:
            raise TooDeep(f"elements nested deeper than {self._max_depth} levels")
        return self._builder.start(tag, attrs)

    def end(self, tag: str) -> ET.Element:
        self._depth -= 1
        return self._builder.end(tag)

    def data(self, data: str) -> None:
        self._builder.data(data)

    def close(self) -> ET.Element:
        return self._builder.close()


def parse(data: bytes, *, max_depth: int = MAX_DEPTH) -> ET.Element:
    """The root element; raises defusedxml's errors, ``ET.ParseError`` or ``TooDeep``."""
    parser = DefusedXMLParser(target=_DepthLimitedBuilder(max_depth), forbid_dtd=True)
    parser.feed(data)
    return cast(ET.Element, parser.close())
