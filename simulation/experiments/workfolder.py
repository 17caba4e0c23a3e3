"""A resumable results folder of one kind: what calibrate, robustness and optimize share.

A long command (a calibration, a robustness run, an optimization) writes into one folder as it
works, so that a run killed at any moment continues with `--resume`. The folder holds:

- the program's marker (simulation.common.output.MARKER) with the folder's *kind*
  ("calibration", "robustness", "optimization") and every entry the command may write
  (`entries`): only those are ever removed again, and only with `--replace`;
- manifest.json: what the run is (the command's own keys first, then its `fingerprint`, status,
  sessions, the package versions, git revision, platform and command line). A folder is
  resumed only when its fingerprint equals the new one; otherwise the message names the first
  key that differs and both values;
- `.lock`, held with fcntl by the one process working in the folder (a second is refused);
- part files `parts/part-NNNNNN.parquet` (Parts): every finished chunk of work, written
  atomically, read back in number order.

`WorkFolder` keeps each command's wording where it names the command (`noun`: "calibration",
"robustness run", "optimization"); the on-disk format is the commands' own from before this
module (marker kinds and manifest keys unchanged), so their existing folders still resume.
"""

from __future__ import annotations

import json
import platform
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, Final

import pandas as pd

from simulation.common.errors import OutputError
from simulation.common.output import (
    MARKER,
    TOOL,
    atomic_write_frame,
    atomic_write_text,
    check_replaceable,
    read_marker,
)

MANIFEST: Final = "manifest.json"
LOCK: Final = ".lock"
PART: Final = re.compile(r"^part-(\d{6})\.parquet$")
"""A part file's name; its number orders the parts."""


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _status(manifest: Mapping[str, Any]) -> str:
    return str(manifest.get("status", "?"))


@dataclass(frozen=True)
class WorkFolder:
    """The folder `out` of one command (see the module docstring)."""

    out: Path
    kind: str
    """The marker's kind (on disk: never change it for an existing command)."""
    entries: frozenset[str]
    """Everything the command writes into the folder over its life."""
    noun: str
    """How messages name the command's work: 'calibration', 'robustness run'."""
    same: str = "options"
    """What a resume must repeat, for the message of a fingerprint mismatch."""
    describe: Callable[[Mapping[str, Any]], str] = _status
    """An existing manifest in a few words, for the message refusing to overwrite it."""

    @property
    def article(self) -> str:
        return "an" if self.noun[0] in "aeiou" else "a"

    # ------------------------------------------------------------------ resume/replace/refuse
    def state(self, fingerprint: Mapping[str, Any], resume: bool,
              replace: bool) -> dict[str, Any] | None:
        """The manifest to continue (resume), or None for a fresh start; OutputError when the
        folder holds something else, another run of this kind without --replace, or a
        different run of this kind to resume."""
        out, noun = self.out, self.noun
        if resume and replace:
            raise OutputError(f"--resume continues the {noun} in --out and --replace starts it "
                              "afresh; give one of them")
        existing = self.manifest()
        if resume:
            if existing is None:
                raise OutputError(f"{out}: holds no {noun} of this program to resume")
            if existing.get("fingerprint") != fingerprint:
                old = existing.get("fingerprint", {})
                diff = next((k for k in fingerprint if old.get(k) != fingerprint[k]), "?")
                raise OutputError(f"{out}: cannot resume, the folder holds a different {noun} "
                                  f"({diff} differs: {old.get(diff)!r} there, "
                                  f"{fingerprint.get(diff)!r} now); use the same {self.same}")
            return existing
        if existing is not None and not replace:
            raise OutputError(f"{out}: already holds {self.article} {noun} "
                              f"({self.describe(existing)}); add --resume to continue it, "
                              "--replace to start it afresh, or choose another --out")
        check_replaceable(out, replace=replace, extra=self.entries)
        return None

    def manifest(self) -> dict[str, Any] | None:
        """The manifest of a folder of this kind made by this program, else None."""
        marker = read_marker(self.out) if self.out.is_dir() else None
        path = self.out / MANIFEST
        if marker is None or marker.get("kind") != self.kind or not path.is_file():
            return None
        loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        return loaded

    # ------------------------------------------------------------------ creating
    def make(self, *subfolders: str) -> None:
        """Create the folder (and `subfolders`); OutputError naming it if that fails."""
        try:
            self.out.mkdir(parents=True, exist_ok=True)
            for sub in subfolders:
                (self.out / sub).mkdir(exist_ok=True)
        except OSError as exc:
            raise OutputError(f"{self.out}: cannot create the {self.noun} folder "
                              f"({exc.strerror}); choose another --out") from None

    def create(self, fingerprint: Mapping[str, Any], command: Sequence[str],
               about: Mapping[str, Any], *, state: Mapping[str, Any] | None = None,
               subfolders: Sequence[str] = (), files: Mapping[str, str] | None = None
               ) -> dict[str, Any]:
        """Start the folder afresh: remove what an earlier run of ours left (only our own
        entries; --replace accepted them), write the marker, `files` (name -> text) and the
        manifest: `about`, the fingerprint, status "running", `state`, then where and how it
        ran. Returns the manifest."""
        from simulation.experiments.results import git_revision, versions

        if self.out.exists():
            import shutil

            for entry in self.out.iterdir():
                if entry.name != LOCK and (entry.name in self.entries or entry.name == MARKER):
                    (shutil.rmtree if entry.is_dir() else Path.unlink)(entry)
        for sub in subfolders:
            (self.out / sub).mkdir(exist_ok=True)
        atomic_write_text(self.out / MARKER, json.dumps(
            {"tool": TOOL, "kind": self.kind, "created": _now(),
             "entries": sorted(self.entries)}, indent=1))
        for name, text in (files or {}).items():
            atomic_write_text(self.out / name, text)
        manifest = {**about, "fingerprint": dict(fingerprint), "created": _now(),
                    "status": "running", **(state or {}), "sessions": [],
                    "versions": versions(), "git_revision": git_revision(),
                    "platform": platform.platform(), "command": list(command)}
        self.save(manifest)
        return manifest

    def save(self, manifest: Mapping[str, Any]) -> None:
        atomic_write_text(self.out / MANIFEST, json.dumps(manifest, indent=1))

    def end_session(self, manifest: dict[str, Any] | None, info: Mapping[str, Any]) -> None:
        """Record a session that ended (`info`: what it computed, how) in the manifest; a
        run that did not complete is 'partial'. Nothing when the folder was never ours."""
        if manifest is None or not self.out.is_dir():
            return
        manifest.setdefault("sessions", []).append({"ended": _now(), **info})
        if manifest.get("status") != "complete":
            manifest["status"] = "partial"
        self.save(manifest)

    # ------------------------------------------------------------------ one process at a time
    def lock(self) -> IO[str]:
        """Hold the folder's lock file for this process (close it to release); OutputError
        when another process holds it."""
        import fcntl

        handle = open(self.out / LOCK, "a+")  # noqa: SIM115 - held until the run ends
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            raise OutputError(f"{self.out}: another {self.noun} is running in this "
                              "folder") from None
        return handle


def read_parts(folder: Path) -> pd.DataFrame:
    """Every row of the part files in FOLDER/parts, in part order (empty frame if none)."""
    parts = sorted(p for p in (folder / "parts").glob("part-*.parquet") if PART.match(p.name))
    if not parts:
        return pd.DataFrame()
    return pd.concat([pd.read_parquet(p) for p in parts], ignore_index=True)


class Parts:
    """The part files of FOLDER/parts: read what is on disk, add one per finished chunk."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder / "parts"
        self.folder.mkdir(parents=True, exist_ok=True)
        self.next = 1 + max((int(m.group(1)) for p in self.folder.iterdir()
                             if (m := PART.match(p.name))), default=-1)

    def read(self) -> pd.DataFrame:
        return read_parts(self.folder.parent)

    def write(self, frame: pd.DataFrame) -> None:
        """The next part file, written atomically (a killed run leaves whole parts only)."""
        atomic_write_frame(self.folder / f"part-{self.next:06d}.parquet", frame)
        self.next += 1


__all__ = ["LOCK", "MANIFEST", "PART", "Parts", "WorkFolder", "read_parts"]
