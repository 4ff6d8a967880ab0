"""A small progress display on stderr for long runs (stdlib only)."""

from __future__ import annotations

import threading
import time
from types import TracebackType
from typing import Final, TextIO

__all__ = ["Progress"]


class Progress:
    """A small progress display on stderr, never on stdout or in the output files.

    On a terminal it redraws one line (a bar, the current step and the elapsed time,
    refreshed by a background thread while a long step such as a calibration runs);
    otherwise, when forced with ``--progress``, it prints one line per step. Disabled,
    it does nothing.
    """

    _WIDTH: Final = 24

    def __init__(
        self,
        title: str,
        n_steps: int,
        *,
        enabled: bool,
        stream: TextIO,
        redraw: bool,
    ) -> None:
        self.title = title
        self.n_steps = max(1, n_steps)
        self.enabled = enabled
        self.stream = stream
        self.redraw = redraw and enabled
        self._step = 0
        self._fraction = 0.0
        self._description = ""
        self._start = time.monotonic()
        self._step_start = self._start
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> Progress:
        if self.redraw:
            self._thread = threading.Thread(target=self._tick, daemon=True)
            self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        if not self.enabled:
            return
        elapsed = time.monotonic() - self._start
        if exc_type is None:
            with self._lock:
                self._step, self._fraction, self._description = self.n_steps, 0.0, "done"
            if self.redraw:
                self._draw()
                self.stream.write("\n")
            else:
                self.stream.write(f"{self.title}: done in {elapsed:.1f}s\n")
        elif self.redraw:
            self.stream.write("\n")
        self.stream.flush()

    def step(self, description: str) -> None:
        """Start the next step."""
        if not self.enabled:
            return
        with self._lock:
            if self._description and not self.redraw:
                took = time.monotonic() - self._step_start
                self.stream.write(f"{self.title}: {self._description} took {took:.1f}s\n")
            self._step = min(self._step + (1 if self._description else 0), self.n_steps - 1)
            self._fraction = 0.0
            self._description = description
            self._step_start = time.monotonic()
            if not self.redraw:
                self.stream.write(
                    f"{self.title}: step {self._step + 1}/{self.n_steps}: {description}\n"
                )
                self.stream.flush()
        if self.redraw:
            self._draw()

    def update(self, fraction: float) -> None:
        """Report progress within the current step (0..1)."""
        if not self.enabled:
            return
        with self._lock:
            self._fraction = min(max(fraction, 0.0), 1.0)

    def _tick(self) -> None:
        while not self._stop.wait(0.2):
            self._draw()

    def _draw(self) -> None:
        with self._lock:
            done = (self._step + self._fraction) / self.n_steps
            filled = int(round(done * self._WIDTH))
            bar = "#" * filled + "-" * (self._WIDTH - filled)
            elapsed = time.monotonic() - self._start
            step = min(self._step + 1, self.n_steps)
            text = (
                f"\r{self.title} [{bar}] {100 * done:3.0f}% "
                f"{step}/{self.n_steps} {self._description} {elapsed:5.1f}s"
            )
            self.stream.write(text.ljust(100)[:100])
            self.stream.flush()
