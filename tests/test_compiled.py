"""The compiled loops' fast call: an argument signature key selects exactly the entry point
numba's own dispatch would (tests/test_engines.py holds the results bit-identical)."""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import pytest
from support import small

from simulation.model import compiled, kernels
from simulation.model.arrays_engine import ArrayModel


def _bump(a: Any, out: Any) -> None:
    out[0] = a[0] + 1


class _Pair(NamedTuple):
    x: Any
    y: Any


def test_a_new_argument_type_gets_its_own_entry_point() -> None:
    k = compiled.Kernel(_bump)
    out_f, out_i = np.zeros(1), np.zeros(1, np.int64)
    k(np.array([1.5]), out_f)
    k(np.array([2.5]), out_f)  # same types: the same entry
    assert out_f[0] == 3.5 and len(k._entries) == 1
    k(np.array([1], np.int64), out_i)
    assert out_i[0] == 2 and len(k._entries) == 2
    k(np.arange(4.0)[::2], out_f)  # a strided view is typed apart from a contiguous array
    assert out_f[0] == 1.0 and len(k._entries) == 3
    readonly = np.array([7.0])
    readonly.flags.writeable = False
    k(readonly, out_f)
    assert out_f[0] == 8.0 and len(k._entries) == 4


@pytest.mark.parametrize("value", [True, 3, 3.0, _Pair(1, 2.0), _Pair(1.0, 2.0),
                                   _Pair(np.zeros(2), 1)])
def test_equal_keys_mean_equal_numba_types(value: Any) -> None:
    others = [True, 3, 3.0, _Pair(1, 2.0), _Pair(1.0, 2.0), _Pair(np.zeros(2), 1),
              _Pair(np.zeros(2, np.int32), 1), 2**70]
    typeof = compiled.Kernel(_bump).dispatcher.typeof_pyval
    for other in others:
        same_key = compiled._signature_key(value) == compiled._signature_key(other)
        assert same_key == (typeof(value) == typeof(other)), (value, other)


def test_every_call_of_a_run_takes_the_entry_numba_would_choose(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Over two years of a model (every loop, demography included), the signature each call's
    key selects is the signature numba types the arguments to."""
    checked: list[str] = []

    def checking_call(self: compiled.Kernel, *args: Any) -> Any:
        signature = tuple(self.dispatcher.typeof_pyval(a) for a in args)
        key = tuple(map(compiled._signature_key, args))
        if key in self._entries:
            chosen = self._entries[key]
            assert chosen is self.dispatcher.overloads[signature].entry_point, self.__name__
        else:
            self._entries[key] = self.dispatcher.compile(signature)
        checked.append(self.__name__)
        return self._entries[key](*args)

    monkeypatch.setattr(compiled.Kernel, "__call__", checking_call)
    ArrayModel(small(run__households=120, run__years=2), rng=5).run()
    assert {"demography", "operate", "households_live", "monitor", "place_jobs",
            "settle"} <= set(checked)
    assert isinstance(kernels.households_live, compiled.Kernel)
