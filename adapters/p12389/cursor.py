"""The 12389 pull cursor: one cycle = list sweep(s) over a time window, then one page of re-reads.

The list (``GET /api/cases?since=…``) is newest first, offset-based, and not a change feed
(PLATFORMS.md §2), so a cycle has two phases, and the cursor (saved with each page's inbox rows)
holds everything needed to resume either after a crash:

``list``
    Pages through the cases issued since ``since`` (previous cycle start minus the overlap). Each
    request starts one item early, at the last position already read (the *anchor*): cases that
    arrive mid-paging push the list down, so the anchor is a case already seen and the page just
    repeats a little. If the anchor is a case *not* seen, the list moved up (a case left it, or
    the platform reordered cases issued in the same second) and cases may have been skipped, so
    the cursor steps back a page (at most ``MAX_REWINDS`` times a cycle). Repeats are dropped by
    jbbh (``seen``). At the end, if fewer distinct cases were seen than the list's ``total``, the
    window is swept again (at most ``MAX_SWEEPS`` extra times). Whatever still slips through is
    listed again next cycle: windows overlap by ``poll_overlap_s``. A sweep reads at most
    ``MAX_PAGES_PER_SWEEP`` pages, so cases arriving faster than a page a request cannot hold it.
``recheck``
    Changes to a case already listed (``zt``, ``fkpj``, a new ``blqx``) show only in
    ``GET /api/cases/{jbbh}``. ``watch`` keeps every case still open, and closed (已办结) cases
    without the reporter's evaluation for ``RATING_WAIT_S``; each cycle re-reads one page of them
    (the least recently read first, skipping those the list just returned), so the cost per cycle
    is bounded and every watched case is re-read every ceil(len(watch) / page size) cycles.
``done``
    The cycle is over; the next poll starts a new one from ``cycle_started``.

Shape (JSON)::

    {"phase": "list"|"recheck"|"done", "since": "yyyy-MM-ddTHH:mm:ss" (local, §2's format),
     "cycle_started": ISO-8601 +08:00, "offset": int, "pages": int, "sweeps": int, "rewinds": int,
     "seen": [jbbh, …], "watch": {jbbh: [last_read_unix, closed_seen_unix | null], …}}

``last_read_unix`` doubles as the case's last version stamp: cases have no version or update
time, so each read is stamped with our clock, strictly increasing per watched case.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from gateway.schema import SHANGHAI

SINCE_FORMAT = "%Y-%m-%dT%H:%M:%S"
LIST, RECHECK, DONE = "list", "recheck", "done"
PHASES = (LIST, RECHECK, DONE)
MAX_SWEEPS = 2
MAX_REWINDS = 3
MAX_PAGES_PER_SWEEP = 400  # 400 × 49 new cases: far beyond any 12389 window
MAX_WATCH = 5000  # ~300 KB of cursor; a bureau has far fewer open 12389 cases
RATING_WAIT_S = 30 * 86_400  # the reporter's evaluation follows closure; stop waiting after 30 days
CLOSED, RETURNED = "已办结", "已退回"


@dataclass
class Cursor:
    """Where a 12389 pull cycle stands (see the module docstring)."""

    cycle_started: datetime
    since: str
    phase: str = LIST
    offset: int = 0
    pages: int = 0
    sweeps: int = 0
    rewinds: int = 0
    seen: list[str] = field(default_factory=list)
    watch: dict[str, list[int | None]] = field(default_factory=dict)

    def dump(self) -> dict[str, Any]:
        """The JSON form saved with the page."""
        return {
            "phase": self.phase,
            "since": self.since,
            "cycle_started": self.cycle_started.astimezone(SHANGHAI).isoformat(timespec="seconds"),
            "offset": self.offset,
            "pages": self.pages,
            "sweeps": self.sweeps,
            "rewinds": self.rewinds,
            "seen": list(self.seen),
            "watch": {jbbh: list(entry) for jbbh, entry in self.watch.items()},
        }

    @classmethod
    def load(cls, data: Mapping[str, Any] | None) -> Cursor | None:
        """The cursor saved by ``dump``, or None when there is none or it is not one of ours."""
        if not data:
            return None
        try:
            started = datetime.fromisoformat(str(data["cycle_started"]))
            datetime.strptime(str(data["since"]), SINCE_FORMAT)
            numbers = [data["offset"], data["pages"], data["sweeps"], data["rewinds"]]
            seen, watch, phase = data["seen"], data["watch"], data["phase"]
        except (KeyError, TypeError, ValueError):
            return None
        valid = (
            started.tzinfo is not None
            and phase in PHASES
            and all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in numbers)
            and isinstance(seen, list)
            and all(isinstance(j, str) for j in seen)
            and isinstance(watch, dict)
        )
        if not valid:
            return None
        return cls(
            cycle_started=started,
            since=str(data["since"]),
            phase=phase,
            offset=numbers[0],
            pages=numbers[1],
            sweeps=numbers[2],
            rewinds=numbers[3],
            seen=list(seen),
            watch={j: [int(e[0]), _int_or_none(e[1])] for j, e in watch.items() if _entry_ok(e)},
        )

    def next_cycle(self, now: datetime, overlap_s: float) -> Cursor:
        """A new cycle whose window starts ``overlap_s`` before this one started; the watch list carries over."""
        return Cursor(cycle_started=now, since=local(self.cycle_started - timedelta(seconds=overlap_s)),
                      watch=self.watch)

    # -- list phase ---------------------------------------------------------------------------

    def list_offset(self) -> int:
        """The offset to request: one before the next unread position (the anchor), 0 at the top."""
        return self.offset - 1 if self.offset > 0 else 0

    def take_list_page(self, listed: list[str], total: int | None, limit: int) -> list[str]:
        """Record a page requested at ``list_offset()``; return its cases not yet seen this cycle."""
        requested = self.list_offset()
        self.pages += 1
        known = set(self.seen)
        anchored = self.offset == 0 or (bool(listed) and listed[0] in known)
        fresh = [j for j in dict.fromkeys(listed) if j not in known]
        self.seen.extend(fresh)
        if not anchored and listed and self.rewinds < MAX_REWINDS:
            # The list moved up under us: read the page before this one again (anchored itself).
            self.rewinds += 1
            self.offset = max(0, requested - limit + 1)
            return fresh
        end = requested + len(listed)
        exhausted = self.pages >= MAX_PAGES_PER_SWEEP
        if len(listed) >= limit and (total is None or end < total) and not exhausted:
            self.offset = end
            return fresh
        if total is not None and len(self.seen) < total and self.sweeps < MAX_SWEEPS and not exhausted:
            self.sweeps += 1  # fewer seen than listed: something slipped between pages; sweep again
        else:
            self.phase = RECHECK
        self.offset = self.pages = 0
        return fresh

    # -- recheck phase ------------------------------------------------------------------------

    def due_rechecks(self, limit: int) -> list[str]:
        """Up to ``limit`` watched cases not read this cycle, least recently read first."""
        started = int(self.cycle_started.timestamp())
        listed = set(self.seen)
        due = sorted((int(e[0] or 0), j) for j, e in self.watch.items() if j not in listed and (e[0] or 0) < started)
        return [jbbh for _, jbbh in due[:limit]]

    def observe(self, jbbh: str, *, zt: str | None, rated: bool, now_s: int) -> int:
        """Note a read of a case; return its version stamp (our read time, above any earlier stamp)."""
        entry = self.watch.get(jbbh)
        version = now_s if entry is None else max(now_s, int(entry[0] or 0) + 1)
        closed_since = entry[1] if entry is not None else None
        if zt == RETURNED or (zt == CLOSED and rated):
            self.watch.pop(jbbh, None)  # nothing more can change that concerns us
        elif zt == CLOSED:
            closed_since = closed_since if closed_since is not None else now_s
            if now_s - closed_since > RATING_WAIT_S:
                self.watch.pop(jbbh, None)
            else:
                self.watch[jbbh] = [version, closed_since]
        else:
            self.watch[jbbh] = [version, None]
        return version

    def forget(self, jbbh: str) -> None:
        """Stop watching a case (the platform no longer knows it)."""
        self.watch.pop(jbbh, None)

    def trim(self) -> list[str]:
        """Drop the least recently read cases beyond ``MAX_WATCH``; returns the dropped jbbh."""
        extra = len(self.watch) - MAX_WATCH
        if extra <= 0:
            return []
        dropped = [j for _, j in sorted((int(e[0] or 0), j) for j, e in self.watch.items())[:extra]]
        for jbbh in dropped:
            del self.watch[jbbh]
        return dropped


def first_cycle(now: datetime, lookback_s: float) -> Cursor:
    """The first cycle of a platform (or after an unreadable cursor): look back ``lookback_s``."""
    return Cursor(cycle_started=now, since=local(now - timedelta(seconds=lookback_s)))


def local(moment: datetime) -> str:
    """§2's ``since``: Asia/Shanghai wall time without an offset."""
    return moment.astimezone(SHANGHAI).strftime(SINCE_FORMAT)


def _int_or_none(value: Any) -> int | None:
    return None if value is None else int(value)


def _entry_ok(entry: Any) -> bool:
    if not isinstance(entry, list) or len(entry) != 2:
        return False
    return all(v is None or (isinstance(v, int) and not isinstance(v, bool)) for v in entry) and entry[0] is not None
