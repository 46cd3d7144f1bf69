"""Progress for long operator commands (backfill, compaction): a bar on a terminal, plain lines
otherwise.

Input: the unit total, then updates (units done, events, rows). Output: text on a stream (stderr by
default): a redrawn one-line bar when the stream is a TTY, else one plain line every ``interval_s``
seconds, so logs from cron or CI stay readable.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Final, TextIO

_BAR_WIDTH: Final = 28
# A terminal is redrawn at most this often; a plain log gets a line this often by default.
_TTY_INTERVAL_S: Final = 0.2
PLAIN_INTERVAL_S: Final = 10.0


class Progress:
    """Reports units done out of a total, with event and row counts and a rate."""

    def __init__(
        self,
        total: int,
        what: str,
        *,
        stream: TextIO | None = None,
        interval_s: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.total = total
        self.what = what
        self.stream = stream if stream is not None else sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.interval_s = interval_s if interval_s is not None else (_TTY_INTERVAL_S if self.tty else PLAIN_INTERVAL_S)
        self.clock = clock
        self.started = clock()
        self._last = self.started
        self.done = self.events = self.rows = 0

    def update(self, *, done: int = 0, events: int = 0, rows: int = 0, force: bool = False) -> None:
        """Add to the counts; draw when the interval has passed (or ``force``)."""
        self.done += done
        self.events += events
        self.rows += rows
        now = self.clock()
        if force or now - self._last >= self.interval_s:
            self._last = now
            self._draw(now)

    def close(self) -> None:
        """Draw the final state (and end the bar's line on a terminal)."""
        self._draw(self.clock())
        if self.tty:
            self.stream.write("\n")
        self.stream.flush()

    def line(self, now: float) -> str:
        """The text of one report."""
        elapsed = max(now - self.started, 1e-9)
        parts = [f"{self.done}/{self.total} {self.what}"]
        if self.events:
            parts.append(f"{self.events:,} events")
        parts.append(f"{self.rows:,} rows")
        if self.events:
            parts.append(f"{self.events / elapsed:,.0f} events/s")
        parts.append(f"{elapsed:.0f}s")
        return ", ".join(parts)

    def _draw(self, now: float) -> None:
        if self.tty:
            filled = _BAR_WIDTH * self.done // self.total if self.total else _BAR_WIDTH
            bar = "#" * filled + "." * (_BAR_WIDTH - filled)
            self.stream.write(f"\r[{bar}] {self.line(now)}\x1b[K")
        else:
            self.stream.write(f"progress: {self.line(now)}\n")
        self.stream.flush()


__all__ = ["PLAIN_INTERVAL_S", "Progress"]
