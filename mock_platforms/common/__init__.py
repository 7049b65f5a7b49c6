"""Machinery shared by all platform mocks: faults, ledger, limiter, pushes, generator, control, runner."""

from mock_platforms.common.faults import FaultState, FaultSwitches
from mock_platforms.common.generator import GeneratorSettings, GeneratorUpdate, OrderGenerator
from mock_platforms.common.ledger import Ledger, LedgerEntry
from mock_platforms.common.ratelimit import SlidingWindowLimiter
from mock_platforms.common.runner import MockOptions, ServerHandle, serve_in_thread
from mock_platforms.common.webhook import PushDispatcher, PushRecord

__all__ = [
    "FaultState",
    "FaultSwitches",
    "GeneratorSettings",
    "GeneratorUpdate",
    "Ledger",
    "LedgerEntry",
    "MockOptions",
    "OrderGenerator",
    "PushDispatcher",
    "PushRecord",
    "ServerHandle",
    "SlidingWindowLimiter",
    "serve_in_thread",
]
