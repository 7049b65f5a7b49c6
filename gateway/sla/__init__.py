"""SLA deadlines: the policy (data) and the pure functions that turn it into due instants."""

from gateway.schema import SHANGHAI
from gateway.sla.deadlines import (
    END_OF_DAY,
    Due,
    ExtensionRefused,
    end_of_day,
    extension_due,
    resolution_due,
    response_due,
    shift_for_pause,
    sign_off_due,
    to_shanghai,
)
from gateway.sla.policy import DEFAULT_POLICY, SAME_DAY, DeadlinePolicy, NoDeadlineRule, ResolutionRule

__all__ = [
    "DEFAULT_POLICY",
    "END_OF_DAY",
    "SAME_DAY",
    "SHANGHAI",
    "DeadlinePolicy",
    "Due",
    "ExtensionRefused",
    "NoDeadlineRule",
    "ResolutionRule",
    "end_of_day",
    "extension_due",
    "resolution_due",
    "response_due",
    "shift_for_pause",
    "sign_off_due",
    "to_shanghai",
]
