"""The compiled loops' fast call: an argument signature key selects exactly the entry point
numba's own dispatch would (tests/test_engines.py holds the results bit-identical)."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any, NamedTuple

import numba
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


# ------------------------------------------------------------------ what could break bit-identity
_FAST_FLAGS = re.compile(r"\b(fadd|fsub|fmul|fdiv|frem|fneg|fcmp|call)\b[^\n]*?"
                         r"\b(fast|contract|reassoc|nnan|ninf|nsz|arcp|afn)\b")


def _fresh_code(name: str) -> tuple[str, str]:
    """LLVM IR and machine code of loop `name`, compiled afresh (numba cannot show cached
    code), for the signature a run uses."""
    ArrayModel(small(run__households=60, run__years=2), rng=1).run(13)
    kernel = getattr(kernels, name)
    signature = next(iter(kernel.dispatcher.overloads))
    fresh = numba.njit(signature, **{**compiled.JIT_OPTIONS, "cache": False})(kernel.py_func)
    return fresh.inspect_llvm(signature), fresh.inspect_asm(signature)


def _assert_strict_ieee(ir: str, asm: str) -> None:
    assert not _FAST_FLAGS.search(ir), _FAST_FLAGS.search(ir)
    assert "llvm.fma" not in ir and "llvm.fmuladd" not in ir
    assert not re.search(r"\bv?fn?m(add|sub)\d*[sp]d\b", asm)  # x86 FMA instructions


def test_no_fast_math_and_no_fused_multiply_add() -> None:
    """numba compiles IEEE arithmetic operation by operation unless told otherwise: no
    fast-math flags (reassociation would change summation order), no contraction of a*b+c
    into one rounding (an FMA instruction), as in Python."""
    assert "fastmath" not in compiled.JIT_OPTIONS
    for name in ("settle", "monitor"):
        _assert_strict_ieee(*_fresh_code(name))


@pytest.mark.slow
def test_the_household_loop_is_strict_ieee_too() -> None:
    _assert_strict_ieee(*_fresh_code("households_live"))  # about 40 s to compile


TRANSCENDENTAL = {"exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "pow", "power",
                  "sqrt", "cbrt", "sin", "cos", "tan", "tanh", "lgamma", "gamma", "erf", "erfc",
                  "hypot", "fmod"}


def test_rules_and_loops_call_no_transcendental_function() -> None:
    """exp, log, pow and ** may differ in the last bit between libm (Python) and LLVM's
    lowering (numba): they are computed once a month in context.py, never in a rule or loop."""
    root = Path(compiled.__file__).parent
    for name in ("rules.py", "kernels.py"):
        tree = ast.parse((root / name).read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            assert not (isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow)), \
                (name, node.lineno)
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
                assert node.value.id not in {"math", "np", "numpy", "cmath"} \
                    or node.attr not in TRANSCENDENTAL, (name, node.lineno, node.attr)
            if isinstance(node, ast.ImportFrom):
                assert node.module not in {"math", "numpy", "cmath"}, (name, node.lineno)
