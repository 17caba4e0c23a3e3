"""Reading and checking the project's TOML files (scenarios, county profiles, targets):
the one error type, names, values against the schema, cross-key rules.

Every problem is one ScenarioError naming the file, the key and what is allowed; the CLI turns
it into exit code 2.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from simulation.model.params import SCHEMA, Param

NAME = re.compile(r"^[^\W_][\w.+-]{0,79}$")
"""A scenario or sweep name: letters (any script), digits and `_ . + -`, starting with a
letter or digit, at most 80 characters. Names become file names in results folders, so they
are never paths (no `/`, no `..`, not empty)."""
_UTF8_BOM = b"\xef\xbb\xbf"


class ScenarioError(ValueError):
    """A scenario file or value is not acceptable; the message names file, key and range."""


def toml_str(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def toml_num(value: float, param: Param) -> str:
    return str(int(value)) if param.integer else repr(float(value))


def validate_value(origin: str, key: str, value: Any) -> float:
    """Check one key/value against the schema; return it as int or float."""
    param = SCHEMA.get(key)
    if param is None:
        hint = closest_key(key)
        raise ScenarioError(f"{origin}: unknown key '{key}'" + (f" (did you mean '{hint}'?)"
                                                                  if hint else ""))
    return checked(param, origin, value)


def checked(param: Param, origin: str, value: Any, key: str | None = None) -> float:
    """Param.check with its error as a ScenarioError (exit code 2)."""
    try:
        return param.check(origin, value, key)
    except ValueError as exc:
        raise ScenarioError(str(exc)) from None


def closest_key(key: str) -> str | None:
    """The schema key most like a misspelt one (for "did you mean"), if any is close."""
    import difflib

    found = difflib.get_close_matches(key, list(SCHEMA), n=1, cutoff=0.6)
    return found[0] if found else None


def flatten(table: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested TOML tables as dotted keys: {"a": {"b": 1}} -> {"a.b": 1}."""
    flat: dict[str, Any] = {}
    for k, v in table.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            flat.update(flatten(v, key + "."))
        else:
            flat[key] = v
    return flat


def find_file(ref: str | Path, folder: Path, kind: str) -> Path:
    """A reference to a TOML file -> the existing file: `ref` as a path (with or without
    .toml), else, for a bare name, the file of that name in `folder` (the shipped ones).
    ScenarioError naming the shipped files otherwise; `kind` names the file in the message
    ('targets', 'futures')."""
    path = Path(ref)
    candidates = [path, path.with_name(path.name + ".toml")] if path.suffix != ".toml" \
        else [path]
    if not path.is_absolute() and len(path.parts) == 1:
        candidates += [folder / c.name for c in list(candidates)]
    for c in candidates:
        if c.is_file():
            return c
    shipped = ", ".join(sorted(p.stem for p in folder.glob("*.toml")))
    raise ScenarioError(f"{ref}: no such {kind} file (shipped: {shipped})")


def read_toml(path: Path, error: type[ScenarioError] = ScenarioError) -> dict[str, Any]:
    """Parse a TOML file; every problem becomes one `error` naming the file."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise error(f"{path}: cannot be read ({exc.strerror})") from None
    if data.startswith(_UTF8_BOM):
        raise error(f"{path}: starts with a UTF-8 byte-order mark (BOM), which TOML does not "
                    "allow; save the file as UTF-8 without BOM")
    try:
        return tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise error(f"{path}: not a UTF-8 text file ({exc.reason} at byte "
                    f"{exc.start})") from None
    except tomllib.TOMLDecodeError as exc:
        raise error(f"{path}: not valid TOML ({exc})") from None


def check_name(origin: str, name: Any, key: str = "name") -> str:
    """A scenario (or sweep) name that is safe as a file name; ScenarioError otherwise."""
    if not isinstance(name, str) or not NAME.match(name):
        raise ScenarioError(f"{origin}: key '{key}' = {name!r} is not a valid name; allowed: "
                            "1-80 letters, digits and _ . + -, starting with a letter or "
                            "digit (a name is not a path)")
    return name


def check_consistency(origin: str, values: Mapping[str, float]) -> None:
    """Cross-key rules that single ranges cannot express."""
    if values["sample.formerly_poor"] + values["sample.marginal"] > 0.95:
        raise ScenarioError(f"{origin}: keys 'sample.formerly_poor' + 'sample.marginal' must "
                            "leave ordinary households in the sample (sum allowed: [0, 0.95])")
    if values["county.formerly_poor_share"] + values["county.marginal_share"] > 0.5:
        raise ScenarioError(f"{origin}: keys 'county.formerly_poor_share' + "
                            "'county.marginal_share' must sum to at most 0.5")
    for lo, hi in (("shocks.bill_min", "shocks.bill_max"),
                   ("shocks.accident_bill_min", "shocks.accident_bill_max")):
        if values[lo] >= values[hi]:
            raise ScenarioError(f"{origin}: key '{lo}' = {values[lo]:g} must be below "
                                f"'{hi}' = {values[hi]:g}")


def read_inheriting(path: Path, seen: tuple[str, ...], meta_keys: tuple[str, ...]
                    ) -> tuple[dict[str, Any], str, str]:
    """A file that may name a `base` to inherit from (scenarios, county profiles): its TOML,
    its origin (for messages) and its key among `seen` (the files inheriting it, which it
    must not name again: a cycle); its meta keys must be strings."""
    key = str(path.resolve())
    if key in seen:
        raise ScenarioError(f"{path}: key 'base' makes a cycle ({' -> '.join((*seen, key))})")
    doc = read_toml(path)
    origin = str(path)
    for meta in meta_keys:
        if meta in doc and not isinstance(doc[meta], str):
            raise ScenarioError(f"{origin}: key '{meta}' must be a string, got {doc[meta]!r}")
    return doc, origin, key
