"""Preloaded into the pool's fork server: a worker whose pool owner has already gone stays quiet.

A worker forked while the parent is being stopped (Ctrl-C or SIGTERM right after the pool
started) may find the pool's semaphores already removed by the parent's resource tracker and
fail to unpickle them (`FileNotFoundError` in `SemLock._rebuild`). The fork server then prints
that traceback after the parent has printed its one-line message. Nothing is lost — the parent
writes no results — so this one failure is silenced; every other exception is reported as usual.
"""

from __future__ import annotations

import sys
from types import TracebackType


def _is_orphaned_start(exc: BaseException, tb: TracebackType | None) -> bool:
    if not isinstance(exc, FileNotFoundError):
        return False
    while tb is not None:
        if tb.tb_frame.f_code.co_name == "__setstate__" and \
                tb.tb_frame.f_code.co_filename.endswith("synchronize.py"):
            return True
        tb = tb.tb_next
    return False


_default_hook = sys.excepthook


def _quiet_hook(kind: type[BaseException], exc: BaseException,
                tb: TracebackType | None) -> None:
    if not _is_orphaned_start(exc, tb):
        _default_hook(kind, exc, tb)


sys.excepthook = _quiet_hook
