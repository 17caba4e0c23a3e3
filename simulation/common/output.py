"""Writing results safely: atomically, with the user's permissions, never over what the user made.

Every file and folder this program writes goes through this module:

* **Atomic.** A file is written to a temporary name beside it, flushed, then renamed over the
  target; a folder is built as a hidden temporary folder beside its target and renamed into
  place whole. An interrupted or failed command leaves no half-written result.
* **Never destroys what the user made.** An output folder must be new or empty. A folder this
  program wrote earlier (it carries a marker file, `MARKER`) is replaced only when the caller
  asks for it (`--replace`), and only if it holds nothing but what this program put there;
  anything else (a user's folder, the source tree, `.` or `..`) is refused before any work
  starts, with one message naming the folder.
* **Permissions follow the user's umask** (Python's `tempfile` makes 0700 folders and 0600
  files; results are meant to be shared).
* **No litter.** Temporary names carry the writing process's id; a process killed while
  writing (SIGKILL, power loss) leaves one behind, which the next write into the same parent
  folder removes once that process no longer exists.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from simulation.common.errors import OutputError

TOOL = "poverty-return"
MARKER = ".poverty-return.json"
"""Marker file in every folder this program writes: tool, kind, time and the entries written."""

_TEMP = re.compile(r"^\.(?P<name>.+)\.(?:tmp|old)-(?P<pid>\d+)-[^/]*$")


# ----------------------------------------------------------------------------- permissions
def _read_umask() -> int:
    """The process umask, read without changing it where Linux allows (thread-safe)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


UMASK = _read_umask()
FILE_MODE = 0o666 & ~UMASK
FOLDER_MODE = 0o777 & ~UMASK


# ----------------------------------------------------------------------------- files
def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write `data` to `path` through a temporary file in the same folder, fsync and rename."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.tmp-{os.getpid()}-", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, FILE_MODE)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_frame(path: Path, frame: Any) -> None:
    """A pandas frame as CSV or Parquet (by the file's suffix), atomically."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.tmp-{os.getpid()}-", dir=path.parent)
    os.close(fd)
    try:
        if path.suffix == ".parquet":
            frame.to_parquet(tmp, index=False)
        else:
            frame.to_csv(tmp, index=False)
        os.chmod(tmp, FILE_MODE)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# ----------------------------------------------------------------------------- stale temporaries
def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def remove_stale_temporaries(parent: Path) -> list[Path]:
    """Remove the temporary files and folders this program left in `parent` when a process was
    killed while writing (hidden `.NAME.tmp-PID-*` / `.NAME.old-PID-*` whose process is gone).
    Returns what was removed."""
    removed: list[Path] = []
    try:
        entries = list(Path(parent).iterdir())
    except OSError:
        return removed
    for entry in entries:
        match = _TEMP.match(entry.name)
        if match is None or _alive(int(match.group("pid"))):
            continue
        with contextlib.suppress(OSError):
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
            removed.append(entry)
    return removed


# ----------------------------------------------------------------------------- ownership
def read_marker(folder: Path) -> dict[str, Any] | None:
    """The marker of a folder this program wrote, or None."""
    path = Path(folder) / MARKER
    try:
        marker = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(marker, dict) or marker.get("tool") != TOOL:
        return None
    return marker


def _foreign_entries(folder: Path, marker: dict[str, Any], extra: frozenset[str]) -> list[str]:
    """Entries of `folder` that this program did not write."""
    ours = {MARKER, *marker.get("entries", []), *extra}
    return sorted(e.name for e in folder.iterdir() if e.name not in ours)


def _describe(marker: dict[str, Any]) -> str:
    created = str(marker.get("created", "?")).replace("T", " ")[:16]
    return f"{marker.get('kind', 'results')} written {created} UTC"


def check_replaceable(out: Path, *, replace: bool, label: str = "--out",
                      extra: frozenset[str] = frozenset()) -> bool:
    """Whether `out` may receive a new output folder: True if an earlier output of this program
    is there and will be replaced, False if `out` is free (absent or an empty folder).

    Raises OutputError, before any work is done, when `out` is a file, a folder this program
    did not write (or one holding anything it did not write), or an earlier output while
    `replace` is False. `extra` names entries a later command may add (e.g. a report)."""
    out = Path(out)
    if out.is_symlink() and not out.exists():
        raise OutputError(f"{out}: is a broken symbolic link; choose another {label}")
    if not out.exists():
        return False
    if not out.is_dir():
        raise OutputError(f"{out}: exists and is not a folder; choose another {label}")
    try:
        empty = not any(out.iterdir())
    except OSError as exc:
        raise OutputError(f"{out}: cannot be read ({exc.strerror})") from None
    if empty:
        return False
    marker = read_marker(out)
    if marker is None:
        inside = sorted(p.name for p in out.iterdir() if p.is_dir() and read_marker(p))
        if inside:
            raise OutputError(f"{out}: holds other results folders (such as '{inside[0]}'); "
                              f"nothing was changed — give a new folder, e.g. {label} "
                              f"{out / 'my-run'}")
        raise OutputError(f"{out}: is a folder this program did not write (it holds other "
                          f"files); nothing was changed — choose a new or empty {label}")
    if not replace:
        raise OutputError(f"{out}: holds earlier results ({_describe(marker)}); add "
                          f"--replace to replace them, or choose another {label}")
    foreign = _foreign_entries(out, marker, extra)
    if foreign:
        raise OutputError(f"{out}: holds '{foreign[0]}', which this program did not write; "
                          "nothing was changed — move it out of the folder first, or choose "
                          f"another {label}")
    return True


# ----------------------------------------------------------------------------- folders
class OutputFolder:
    """A result folder under construction: checked and reserved before the work, filled in
    `path` (a hidden temporary folder beside the target), then put in place by `commit`.

        with OutputFolder(out, kind="results", replace=args.replace) as folder:
            ...run...
            write files into folder.path
        # committed on success; removed on any error, Ctrl-C or SIGTERM
    """

    def __init__(self, target: Path, *, kind: str, replace: bool = False,
                 label: str = "--out", extra: frozenset[str] = frozenset()) -> None:
        self.target = Path(target)
        self.kind = kind
        self.extra = extra
        self.replaces = check_replaceable(self.target, replace=replace, label=label,
                                          extra=extra)
        real = self.target.resolve()
        if real.parent == real:
            raise OutputError(f"{self.target}: cannot be an output folder; choose another "
                              f"{label}")
        self._real = real
        try:
            real.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError(f"{self.target}: cannot create its parent folder "
                              f"({exc.strerror})") from None
        remove_stale_temporaries(real.parent)
        try:
            self.path = Path(tempfile.mkdtemp(prefix=f".{real.name}.tmp-{os.getpid()}-",
                                              dir=real.parent))
            os.chmod(self.path, FOLDER_MODE)
        except OSError as exc:
            raise OutputError(f"{self.target}: cannot create a folder in {real.parent} "
                              f"({exc.strerror})") from None
        self.committed = False

    def __enter__(self) -> OutputFolder:
        return self

    def __exit__(self, kind: type[BaseException] | None, *_exc: object) -> None:
        if kind is None:
            self.commit()
        else:
            self.discard()

    def discard(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)

    def commit(self) -> Path:
        """Write the marker and move the folder into place (replacing the earlier output of
        this program that the constructor accepted). Returns the target."""
        if self.committed:
            return self.target
        entries = sorted(p.name for p in self.path.iterdir())
        marker = {"tool": TOOL, "kind": self.kind,
                  "created": datetime.now(UTC).isoformat(timespec="seconds"),
                  "entries": entries}
        try:
            (self.path / MARKER).write_text(json.dumps(marker, indent=1), encoding="utf-8")
            old = None
            if self.replaces:
                # check again: the folder may have changed while we worked
                check_replaceable(self._real, replace=True, extra=self.extra)
                old = self._real.with_name(f".{self._real.name}.old-{os.getpid()}-0")
                self._real.rename(old)
            # rename() onto an existing *empty* folder replaces it; onto a non-empty one it
            # fails, so a folder the user filled meanwhile is never lost
            self.path.rename(self._real)
            if old is not None:
                shutil.rmtree(old, ignore_errors=True)
        except OSError as exc:
            self.discard()
            raise OutputError(f"{self.target}: cannot put the results in place "
                              f"({exc.strerror or exc}); nothing was changed") from None
        except BaseException:
            self.discard()
            raise
        self.committed = True
        return self.target


def add_entries(folder: Path, names: list[str]) -> None:
    """Record in a folder's marker entries a later command added (e.g. a report)."""
    marker = read_marker(folder)
    if marker is None:
        return
    marker["entries"] = sorted({*marker.get("entries", []), *names})
    atomic_write_text(Path(folder) / MARKER, json.dumps(marker, indent=1))


# ----------------------------------------------------------------------------- default folders
def fresh_folder(parent: Path, stem: str) -> Path:
    """A new folder name under `parent` for a command's default output: `stem-YYYYMMDD-HHMMSS`
    (local time), with `-2`, `-3`, ... if that is taken, so a default never replaces anything."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    candidate = Path(parent) / f"{stem}-{stamp}"
    k = 2
    while candidate.exists() or candidate.is_symlink():
        candidate = Path(parent) / f"{stem}-{stamp}-{k}"
        k += 1
    return candidate


def point_latest(target: Path, link: Path) -> str | None:
    """Point the symbolic link `link` (e.g. results/latest) at `target`. Only a link is ever
    replaced; if `link` is a real file or folder it is left alone and a note is returned."""
    link = Path(link)
    if link.exists() and not link.is_symlink():
        return (f"note: {link} is not a link made by this program; left as it is (the "
                f"results are in {target})")
    tmp = link.with_name(f".{link.name}.tmp-{os.getpid()}-link")
    try:
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(os.path.relpath(Path(target).resolve(), link.parent.resolve()))
        os.replace(tmp, link)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        return f"note: could not point {link} at {target} ({exc.strerror})"
    return None
