"""SIGINT / SIGTERM during ``fit``: finish the chunk, checkpoint, raise ``TrainingInterrupted``."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator


class TrainingInterrupted(KeyboardInterrupt):
    """``fit`` stopped on SIGINT or SIGTERM after finishing its current chunk.

    A ``KeyboardInterrupt`` subclass, so code that handles Ctrl-C keeps working.

    Attributes:
        step: the number of steps done when training stopped.
        checkpoint_step: the step of the checkpoint saved on the way out (``None``
            without a ``checkpoint_dir``).
        signal: the signal number (``signal.SIGINT`` or ``signal.SIGTERM``).
    """

    def __init__(self, step: int, checkpoint_step: int | None, signum: int):
        self.step = step
        self.checkpoint_step = checkpoint_step
        self.signal = signum
        name = signal.Signals(signum).name
        saved = (
            f"; checkpoint saved at step {checkpoint_step}"
            if checkpoint_step is not None
            else "; no checkpoint_dir, nothing saved"
        )
        super().__init__(f"training interrupted by {name} at step {step}{saved}")

    @property
    def exit_code(self) -> int:
        """The shell convention: 128 + the signal number (130 for SIGINT, 143 for SIGTERM)."""
        return 128 + int(self.signal)


class _SignalFlag:
    def __init__(self) -> None:
        self.signum: int | None = None


@contextlib.contextmanager
def deferred_signals(
    signums: tuple[int, ...] = (signal.SIGINT, signal.SIGTERM),
) -> Iterator[_SignalFlag]:
    """Record SIGINT / SIGTERM in a flag instead of acting on them, while the block runs.

    Handlers are installed only in the main thread (elsewhere the flag never rises) and
    the previous handlers are restored on exit. A second signal of a kind already
    recorded goes to the previous handler, so a second Ctrl-C still stops at once.

    Example:
        >>> import signal
        >>> before = signal.getsignal(signal.SIGTERM)
        >>> with deferred_signals() as flag:
        ...     pass  # a SIGTERM here would only set flag.signum
        >>> signal.getsignal(signal.SIGTERM) is before, flag.signum
        (True, None)
    """
    flag = _SignalFlag()
    if threading.current_thread() is not threading.main_thread():
        yield flag
        return
    previous = {s: signal.getsignal(s) for s in signums}

    def handler(signum, frame):
        if flag.signum is not None:
            old = previous.get(signum)
            if callable(old):
                old(signum, frame)
            elif old == signal.SIG_DFL:
                signal.signal(signum, signal.SIG_DFL)
                signal.raise_signal(signum)
            return
        flag.signum = signum

    for s in signums:
        signal.signal(s, handler)
    try:
        yield flag
    finally:
        for s, old in previous.items():
            signal.signal(s, old if old is not None else signal.SIG_DFL)
