"""The sweep folder: runs stream to Parquet part files as they finish; a manifest describes them.

Layout of a sweep folder:

    manifest.json         sweep, fingerprint, status (running | partial | complete), counts,
                          sessions (workers, executor, runs computed, wall time), versions
    sweep.toml            the sweep file as given; base.toml the resolved base scenario
    design.parquet        sample, factors in SALib units (raw:<key>) and model units (<key>)
    parts/part-NNNNNN.parquet   finished runs, one file per completed chunk of runs: run,
                          sample, replicate, seed, status (ok | failed), error, seconds
                          (wall), cpu_seconds, worker, factor values, outputs
                          (aggregated), <metric>@<year>
    runs.parquet, samples.csv, failures.csv, indices.csv, convergence.csv, outputs.csv,
    figures/*.png         written when every run is on disk (see analysis.py)

Every file is written atomically (temporary file in the same folder, fsync, rename), so a
sweep killed at any moment leaves only whole part files; `--resume` reads them and computes
only the runs that are missing. A later part supersedes an earlier one for the same run
(used by --retry-failed).
"""

from __future__ import annotations

import fcntl
import json
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from simulation.common.errors import OutputError
from simulation.common.output import OutputFolder, atomic_write_bytes, atomic_write_text

PART = re.compile(r"^part-(\d{6,})\.parquet$")
SWEEP_ENTRIES = frozenset({"parts", "runs.parquet", "samples.csv", "failures.csv", "indices.csv",
                           "convergence.csv", "outputs.csv", "figures", "discover", ".lock",
                           "manifest.json", "design.parquet", "sweep.toml", "base.toml"})
"""Everything a sweep writes into its folder over its life (see the module docstring)."""
BASE_COLUMNS = ("run", "sample", "replicate", "seed", "status", "error", "seconds",
                "cpu_seconds", "worker")


def _part_number(path: Path) -> int:
    match = PART.match(path.name)
    return int(match.group(1)) if match else -1


def run_schema(factors: Iterable[str], outputs: Iterable[str], periods: Iterable[int]) -> pa.Schema:
    """The fixed column schema of part files (the same for every part of a sweep)."""
    outputs = list(outputs)
    fields = [pa.field("run", pa.int64()), pa.field("sample", pa.int64()),
              pa.field("replicate", pa.int64()), pa.field("seed", pa.int64()),
              pa.field("status", pa.string()), pa.field("error", pa.string()),
              pa.field("seconds", pa.float64()), pa.field("cpu_seconds", pa.float64()),
              pa.field("worker", pa.string())]
    fields += [pa.field(k, pa.float64()) for k in factors]
    fields += [pa.field(m, pa.float64()) for m in outputs]
    fields += [pa.field(f"{m}@{p}", pa.float64()) for m in outputs for p in periods]
    return pa.schema(fields)


class SweepStore:
    """Reads and writes one sweep folder (see the module docstring)."""

    def __init__(self, out: Path, schema: pa.Schema) -> None:
        self.out = Path(out)
        self.parts = self.out / "parts"
        self.schema = schema
        self._lock_fh: Any = None
        existing = self.part_files()
        self._next = _part_number(existing[-1]) + 1 if existing else 0

    # ------------------------------------------------------------------ folder life cycle
    @staticmethod
    def inspect(out: Path) -> dict[str, Any] | None:
        """The manifest of an existing sweep folder, None if `out` does not exist or is an
        empty folder; OutputError if it exists and is something else."""
        out = Path(out)
        if not out.exists():
            return None
        if not out.is_dir():
            raise OutputError(f"{out}: exists and is not a folder")
        manifest = out / "manifest.json"
        if manifest.is_file():
            try:
                return json.loads(manifest.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise OutputError(f"{out}/manifest.json: cannot be read ({exc})") from None
        if any(out.iterdir()):
            raise OutputError(f"{out}: exists and is not a sweep folder (no manifest.json); "
                              "choose another --out")
        return None

    @classmethod
    def create(cls, out: Path, schema: pa.Schema, files: Mapping[str, bytes],
               manifest: Mapping[str, Any], replace: bool = False) -> SweepStore:
        """Create the folder with its fixed files, atomically (built beside it, renamed);
        with `replace`, an earlier sweep folder of this program there is replaced."""
        with OutputFolder(out, kind="sweep", replace=replace, extra=SWEEP_ENTRIES) as folder:
            (folder.path / "parts").mkdir()
            for name, data in files.items():
                (folder.path / name).write_bytes(data)
            (folder.path / "manifest.json").write_text(json.dumps(manifest, indent=2),
                                                       encoding="utf-8")
        return cls(out, schema)

    def lock(self) -> None:
        """Hold an exclusive lock for this process's lifetime (two writers would collide);
        the OS releases it when the process dies, so a killed sweep never leaves it stale."""
        fh = (self.out / ".lock").open("a")
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            fh.close()
            raise OutputError(f"{self.out}: another sweep process is writing to this folder") \
                from None
        self._lock_fh = fh

    @staticmethod
    def check_unlocked(out: Path) -> None:
        """OutputError if a sweep process is writing to `out` now."""
        path = Path(out) / ".lock"
        if not path.exists():
            return
        with path.open("a") as fh:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                raise OutputError(f"{out}: another sweep process is writing to this folder") \
                    from None
            fcntl.flock(fh, fcntl.LOCK_UN)

    def unlock(self) -> None:
        if self._lock_fh is not None:
            fcntl.flock(self._lock_fh, fcntl.LOCK_UN)
            self._lock_fh.close()
            self._lock_fh = None

    # ------------------------------------------------------------------ manifest
    def read_manifest(self) -> dict[str, Any]:
        return json.loads((self.out / "manifest.json").read_text(encoding="utf-8"))

    def write_manifest(self, manifest: Mapping[str, Any]) -> None:
        atomic_write_text(self.out / "manifest.json", json.dumps(manifest, indent=2))

    # ------------------------------------------------------------------ runs
    def part_files(self) -> list[Path]:
        if not self.parts.is_dir():
            return []
        return sorted((p for p in self.parts.iterdir() if PART.match(p.name)), key=_part_number)

    def write_part(self, rows: list[dict[str, Any]]) -> Path:
        """Write finished runs as the next part file (atomically); returns its path."""
        columns = {f.name: [row.get(f.name) for row in rows] for f in self.schema}
        table = pa.table(columns, schema=self.schema)
        path = self.parts / f"part-{self._next:06d}.parquet"
        sink = pa.BufferOutputStream()
        pq.write_table(table, sink)
        atomic_write_bytes(path, sink.getvalue().to_pybytes())
        self._next += 1
        return path

    def read_runs(self) -> pd.DataFrame:
        """Every run on disk, one row per run (a later part wins), ordered by run id."""
        files = self.part_files()
        if not files:
            return self.schema.empty_table().to_pandas()
        tables = [pq.read_table(p, schema=self.schema) for p in files]
        frame = pa.concat_tables(tables).to_pandas()
        frame = frame.drop_duplicates("run", keep="last")
        return frame.sort_values("run", kind="stable").reset_index(drop=True)

    def finished(self, retry_failed: bool = False) -> tuple[set[int], int]:
        """Run ids already on disk (failed ones excluded when retrying) and failures kept."""
        runs = self.read_runs()
        failed = runs["status"] != "ok"
        if retry_failed:
            return set(runs.loc[~failed, "run"].tolist()), 0
        return set(runs["run"].tolist()), int(failed.sum())

    # ------------------------------------------------------------------ design
    def read_design(self) -> tuple[np.ndarray, np.ndarray]:
        frame = pd.read_parquet(self.out / "design.parquet")
        raw = frame[[c for c in frame.columns if c.startswith("raw:")]].to_numpy(np.float64)
        values = frame[[c for c in frame.columns
                        if c != "sample" and not c.startswith("raw:")]].to_numpy(np.float64)
        return raw, values


def design_frame(names: list[str], raw: np.ndarray, values: np.ndarray) -> pd.DataFrame:
    frame = pd.DataFrame({"sample": np.arange(raw.shape[0], dtype=np.int64)})
    for j, k in enumerate(names):
        frame[k] = values[:, j]
    for j, k in enumerate(names):
        frame[f"raw:{k}"] = raw[:, j]
    return frame


def frame_bytes(frame: pd.DataFrame) -> bytes:
    sink = pa.BufferOutputStream()
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), sink)
    return sink.getvalue().to_pybytes()
