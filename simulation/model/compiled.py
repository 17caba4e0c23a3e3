"""The rules (simulation/model/rules.py) compiled with numba, for the array engine's loops.

Each public rule is compiled from its own code object with a globals table in which the other
rules are their compiled twins, so a rule calling a rule works inside compiled code and the
arithmetic is exactly the agents engine's (numba compiles IEEE double arithmetic without
fast-math or contraction: tests/test_engines.py holds the two engines bit-identical).
Compiled code is cached on disk next to the sources (numba's `cache=True`), so a fresh
install compiles once.

Also here: `record`, which turns the typed knobs and the month's context (dataclasses) into
named tuples numba can read, with the same attribute names.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import operator
import types
from pathlib import Path
from typing import Any, NamedTuple

import numba
import numpy as np
from numba.core import caching

from simulation.model import rules
from simulation.model.context import MonthContext
from simulation.model.params import SECTION_TYPES, Knobs

MODEL_DIR = Path(__file__).resolve().parent
COMPILED_SOURCES = ("codes.py", "compiled.py", "context.py", "kernels.py", "lifetable.py",
                    "metrics.py", "rules.py", "state.py")
"""The model's files whose code or constants end up in compiled code (sorted)."""


def _stamped(base: Any) -> Any:
    """numba's cache locator `base`, for the model's compiled code, stamped with a hash of the
    source files compiled code depends on (COMPILED_SOURCES). numba's own stamp is the
    defining file only, but a loop inlines rules (rules.py) and freezes constants (codes.py,
    lifetable.py, context.py, state.py) into its machine code: an edit to any of them must
    recompile the loops, not reuse the stale ones."""

    class Locator(base):  # type: ignore[misc, valid-type]
        def get_source_stamp(self) -> Any:
            return _model_stamp()

        @classmethod
        def from_function(cls, py_func: Any, py_file: str) -> Any:
            if Path(py_file).resolve().parent != MODEL_DIR:
                return None
            return super().from_function(py_func, py_file)

    Locator.__name__ = Locator.__qualname__ = f"_ModelSource{base.__name__}"
    return Locator


@functools.cache
def _model_stamp() -> str:
    digest = hashlib.sha256()
    for name in COMPILED_SOURCES:
        digest.update(name.encode() + b"\0" + (MODEL_DIR / name).read_bytes())
    return digest.hexdigest()


# numba's own order, each stamped: NUMBA_CACHE_DIR if set, else next to the sources, else
# (a read-only install) the user's cache folder
caching.CacheImpl._locator_classes[:0] = [
    _stamped(base) for base in (caching.UserProvidedCacheLocator, caching.InTreeCacheLocator,
                                caching.UserWideCacheLocator)]

JIT_OPTIONS: dict[str, Any] = {"cache": True, "nogil": True, "error_model": "numpy",
                               "_nrt": False}
"""numba options of every compiled function: cached on disk; division by zero gives inf/nan
like numpy (and unlike Python, which the model never divides by zero); and no numba runtime
(`_nrt`). The loops allocate nothing (arrays come from Python, scratch included), so they need
no runtime, and with it every array view and every tuple of arrays handed to an inlined verb
was reference-counted with atomic instructions: measured (perf, 10,000 households) that cost
0.9 of the household loop's 1.0 microseconds per household-month. numba pinned in
pyproject.toml because `_nrt` is a compiler flag rather than a documented option."""


class Kernel:
    """A compiled loop that Python calls, without numba's per-call argument typing.

    numba's dispatcher types every argument on every call, and typing the household columns
    (a structured array of ~100 fields) and the knobs (a record of ~250 numbers) took about
    40 microseconds a call: with six loops a month, more than the loops themselves in a run of
    1,000 households. Here the arguments' *signature key* — per array its dtype, dimensions
    and layout flags; per tuple its class and its items' keys; per number its Python type —
    selects the compiled entry point directly. A key is computed from exactly what numba's
    typing reads, so equal keys mean equal numba types; a new key goes through the
    dispatcher once (compiling or loading from the disk cache) and is remembered."""

    def __init__(self, fn: Any) -> None:
        self.dispatcher = numba.njit(**JIT_OPTIONS)(fn)
        self.py_func = fn
        self.__name__ = self.__qualname__ = fn.__name__
        self.__doc__ = fn.__doc__
        self._entries: dict[tuple[Any, ...], Any] = {}

    def __call__(self, *args: Any) -> Any:
        key = tuple(map(_signature_key, args))
        entry = self._entries.get(key)
        if entry is None:
            signature = tuple(self.dispatcher.typeof_pyval(a) for a in args)
            entry = self._entries[key] = self.dispatcher.compile(signature)
        return entry(*args)

    def __getattr__(self, name: str) -> Any:  # overloads, stats, inspect_types, ...
        return getattr(self.dispatcher, name)


_ARRAY_TUPLES: set[type] = set()
"""Named tuple classes whose items are all numpy arrays (registered with `array_tuple`)."""


def array_tuple(cls: Any) -> Any:
    """Register a named tuple class of arrays that the loops take (Villages, EventLog, the
    month's draws): its signature key is then computed in one pass over its items."""
    _ARRAY_TUPLES.add(cls)
    return cls


_NUMBER_TUPLES: set[type] = set()
"""Named tuple classes of a few small numbers (registered with `number_tuple`)."""


def number_tuple(cls: Any) -> Any:
    """Register a named tuple class of a few numbers (ints well inside 64 bits, floats,
    bools) that the loops take: its key is then the types of its items."""
    _NUMBER_TUPLES.add(cls)
    return cls


_RECORD_KEYS: dict[int, tuple[Any, Any]] = {}
"""Signature keys of the records of numbers (the knobs, the month's context: each built once
and passed to several loops), by identity; the record is kept with its key, so an identity is
never reused while cached, and a tuple of numbers cannot change. Tuples of arrays are keyed on
every call instead: caching them would keep a finished run's columns alive."""


_RECORD_TOKENS: dict[tuple[Any, ...], tuple[str, int]] = {}
"""A short token per distinct record key (one per type layout, so few): a loop's key then
holds the token, not the knobs' key of ~250 items, which Python would hash on every call."""


def _signature_key(a: Any) -> Any:
    kind = type(a)
    if kind is np.ndarray:
        # the flags as one number: numba reads layout, read-only and alignment from them;
        # other bits (e.g. owning its data) only give equal types two keys, so two entries
        # that are the same compiled code
        return (a.dtype, a.ndim, a.flags.num)
    if kind in _ARRAY_TUPLES:  # the loops' tuples of arrays, keyed without a call per item
        return (kind, *[(x.dtype, x.ndim, x.flags.num) for x in a])
    if kind in _NUMBER_TUPLES:
        return (kind, *map(type, a))
    if kind in _RECORD_CLASSES:
        known = _RECORD_KEYS.get(id(a))
        if known is not None and known[0] is a:
            return known[1]
        if len(_RECORD_KEYS) >= 32:
            _RECORD_KEYS.clear()
        full = (kind, *map(_signature_key, a))
        key = _RECORD_TOKENS.setdefault(full, ("record", len(_RECORD_TOKENS)))
        _RECORD_KEYS[id(a)] = (a, key)
        return key
    if isinstance(a, tuple):
        return (kind, *map(_signature_key, a))
    if kind is int and not -2**63 <= a < 2**63:  # numba types a huge int differently
        return (kind, a)
    return kind


def jit(fn: Any) -> Kernel:
    """The decorator of the compiled loops (kernels.py) that Python calls."""
    return Kernel(fn)

inline: Any = numba.njit(inline="always", **JIT_OPTIONS)
"""The decorator of compiled code called from the loops: the rules and the verbs. Inlined:
their arguments include the knobs and the household columns, large records that a real call
would copy (and reference-count) every time."""

_table: dict[str, Any] = dict(vars(rules))


def _compile(fn: Any) -> Any:
    twin = types.FunctionType(fn.__code__, _table, fn.__name__, fn.__defaults__, fn.__closure__)
    twin.__module__, twin.__qualname__ = __name__, fn.__name__
    return inline(twin)


for _name in rules.__all__:
    _table[_name] = _compile(getattr(rules, _name))
    globals()[_name] = _table[_name]


def __getattr__(name: str) -> Any:  # for type checkers: the compiled rules are set above
    raise AttributeError(name)


# ----------------------------------------------------------------------------- records
def _record_type(cls: Any) -> Any:
    """A named tuple class mirroring dataclass `cls`, defined in this module (so that numba's
    on-disk cache, which keys compiled code on argument types, finds it again in the next
    process)."""
    name = f"{cls.__name__}Record"
    rec = NamedTuple(name, [(f.name, Any) for f in dataclasses.fields(cls)])  # type: ignore[misc]
    rec.__module__, rec.__qualname__ = __name__, name
    globals()[name] = rec
    return rec


_RECORDS: dict[type, tuple[Any, tuple[str, ...]]] = {
    cls: (_record_type(cls), tuple(f.name for f in dataclasses.fields(cls)))
    for cls in (Knobs, *SECTION_TYPES.values(), MonthContext)}
_RECORD_CLASSES = frozenset(entry[0] for entry in _RECORDS.values())
_GETTERS = {cls: operator.attrgetter(*names) if len(names) > 1
            else (lambda obj, name=names[0]: (getattr(obj, name),))
            for cls, names in _RECORDS.values()}
"""Per record class, a getter of all its fields as a tuple (one C call, not one per field)."""
_NESTED: dict[type, tuple[int, ...]] = {}
_KNOBS_SEEN: dict[int, tuple[Knobs, Any]] = {}
"""Knobs already converted (the same knobs serve many months: converting them every month
took most of a small run's time), keyed by identity; the knobs are kept alive with their
record, so an identity is never reused while cached."""


def record(obj: Any) -> Any:
    """A dataclass (knobs, a section of them, the month's context) as a named tuple with the
    same attribute names, nested dataclasses included; numbers keep their Python type."""
    if type(obj) is Knobs:
        seen = _KNOBS_SEEN.get(id(obj))
        if seen is not None and seen[0] is obj:
            return seen[1]
        if len(_KNOBS_SEEN) >= 16:
            _KNOBS_SEEN.clear()
        rec = _convert(obj)
        _KNOBS_SEEN[id(obj)] = (obj, rec)
        return rec
    return _convert(obj)


def _convert(obj: Any) -> Any:
    entry = _RECORDS.get(type(obj))
    if entry is None:
        return obj
    cls = entry[0]
    values: Any = _GETTERS[cls](obj)
    nested = _NESTED.get(cls)
    if nested is None:  # which fields hold dataclasses (the same in every instance)
        nested = _NESTED[cls] = tuple(k for k, v in enumerate(values) if type(v) in _RECORDS)
    if nested:  # the month's context (every month) nests only the knobs, converted once
        values = list(values)
        for k in nested:
            values[k] = record(values[k])
    return cls(*values)


# ----------------------------------------------------------------------------- compile once
def _ready_marker(kernel: Kernel) -> Path:
    cache = kernel.dispatcher._cache  # numba's cache of this loop: the folder it reads
    return Path(cache._cache_path) / f"loops-{_model_stamp()[:16]}.ready"


def loops_ready(kernel: Kernel) -> bool:
    """Whether this machine holds compiled loops for the current model sources (a marker
    beside numba's cache, written once a run has compiled them): if not, the next run
    compiles them first, which takes about a minute."""
    try:
        return _ready_marker(kernel).exists()
    except (AttributeError, OSError):
        return False


def mark_loops_ready(kernel: Kernel) -> None:
    """Note that the loops of the current sources are compiled and cached (best effort: a
    read-only cache folder only means the notice shows again)."""
    with contextlib.suppress(AttributeError, OSError):
        _ready_marker(kernel).touch()
