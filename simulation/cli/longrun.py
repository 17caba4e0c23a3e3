"""What the long, resumable commands (calibrate, robustness, optimize) share on the command line.

Each runs on worker processes or a Dask cluster into one results folder that `--resume`
continues and `--replace` starts afresh (simulation.experiments.workfolder), shows a tqdm
progress bar of runs on stderr (one bar per stage: a wave, a generation, the futures), and
says what it is doing unless `--quiet`.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

from simulation.cli.sweeps import int_in


def add_folder_arguments(p: argparse.ArgumentParser, *, folder: str, noun: str,
                         default_out: str, resume: str,
                         quiet: str = "no progress bar") -> None:
    """--workers, --scheduler, --out, --resume, --replace, --no-figures and --quiet.
    `folder`: how --out's help names the folder ('calibration'); `noun`: what --replace
    starts afresh ('calibration', 'robustness run'); `default_out`: the default folder's
    pattern; `resume` and `quiet`: those options' help."""
    p.add_argument("--workers", type=int_in("--workers", 1, 512), default=None,
                   help="local worker processes (default: all cores)")
    p.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="run on a Dask cluster (tcp://HOST:PORT) instead of local processes")
    p.add_argument("--out", default=None, metavar="DIR",
                   help=f"{folder} folder (default: a new {default_out})")
    p.add_argument("--resume", action="store_true", help=resume)
    p.add_argument("--replace", action="store_true",
                   help=f"start afresh over an earlier {noun} of this program in --out")
    p.add_argument("--no-figures", action="store_true", help="skip the PNG figures")
    p.add_argument("--quiet", action="store_true", help=quiet)


def check_resume(args: argparse.Namespace, folder: str) -> None:
    """UsageError (exit 2) for --resume without --out: there is no folder to continue."""
    if args.resume and args.out is None:
        from simulation.common.errors import UsageError

        raise UsageError(f"--resume needs --out (the {folder} folder to continue)")


def notice_printer(quiet: bool) -> Callable[[str], None] | None:
    """Where a command's notes go (stderr), or None with --quiet."""
    if quiet:
        return None
    return lambda text: print(text, file=sys.stderr)


class Bar:
    """One tqdm bar of runs on stderr per stage (a wave, a generation, ...): a call with a new
    label closes the bar and opens the next; the bars vanish when done (the command prints its
    own summary)."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.bar: Any = None
        self.label = ""

    def __call__(self, label: str, done: int, total: int) -> None:
        if not self.enabled:
            return
        if label != self.label:
            self.close()
            from tqdm import tqdm

            self.label = label
            self.bar = tqdm(total=total, initial=done, desc=label, unit="run",
                            file=sys.stderr, dynamic_ncols=True, leave=False)
        self.bar.update(done - self.bar.n)

    def stage(self, label: str) -> Callable[[int, int], None]:
        """A (done, total) progress callback drawing this bar under one fixed label."""
        return lambda done, total: self(label, done, total)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


__all__ = ["Bar", "add_folder_arguments", "check_resume", "notice_printer"]
