"""The project stands alone: its files cite only sources a user can follow.

Citations point at docs/sources.md (a key in brackets, e.g. [nrra-2022], which is also an
anchor there) or at a section of docs/ODD.md — never at the team's private notes.
"""

from __future__ import annotations

import re
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from analysis.calibration import TARGETS
from simulation.model.params import SCHEMA

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ROOT / "docs" / "sources.md"

# Citations of notes users never see: design brief sections, the domain fact sheet, the shared
# folder, and any path into the notes' research folder.
PRIVATE_CITATIONS = ("DESIGN §", "domain §", "../shared", "research/", "anchors.md",
                     "domain-facts", "house-style", "performance.md", "next-capabilities")


BRACKETED = re.compile(r"\[([^\]]*)\]")
KEY = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


def _project_files() -> list[str]:
    """Tracked files plus new files not yet added (ignored files excluded)."""
    try:
        out = subprocess.run(
            ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
            cwd=ROOT, capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout: cannot list the project's files")
    return sorted({line for line in out.splitlines() if line})


def _anchors() -> set[str]:
    """Anchors of docs/sources.md: explicit `<a id>` ids and heading slugs."""
    text = SOURCES.read_text(encoding="utf-8")
    ids = set(re.findall(r'<a id="([^"]+)"', text))
    slugs = {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-")
             for h in re.findall(r"^#+ (.+)$", text, flags=re.MULTILINE)}
    return ids | slugs


def test_no_citation_of_private_notes() -> None:
    offences = []
    for name in _project_files():
        if name.startswith("tests/"):
            continue
        path = ROOT / name
        if not path.is_file():  # tracked but deleted in the working tree
            continue
        text = path.read_bytes().decode("utf-8", errors="ignore")
        for number, line in enumerate(text.splitlines(), 1):
            offences += [f"{name}:{number}: {pattern!r}" for pattern in PRIVATE_CITATIONS
                         if pattern in line]
    assert not offences, "cite docs/sources.md or docs/ODD.md instead:\n" + "\n".join(offences)


def test_sources_entries_have_unique_anchors() -> None:
    text = SOURCES.read_text(encoding="utf-8")
    ids = re.findall(r'<a id="([^"]+)"', text)
    assert ids, "docs/sources.md has no entries"
    duplicates = [k for k, n in Counter(ids).items() if n > 1]
    assert not duplicates, f"duplicate keys in docs/sources.md: {duplicates}"
    malformed = [k for k in ids if not KEY.fullmatch(k)]
    assert not malformed, f"keys must be lower-case words joined by '-': {malformed}"
    # Each entry shows its own key in bold right after the anchor.
    entries = re.findall(r'<a id="([^"]+)"></a>\*\*\[([^\]]+)\]\*\*', text)
    assert [a for a, _ in entries] == ids
    assert all(a == b for a, b in entries), [e for e in entries if e[0] != e[1]]


@pytest.mark.parametrize("where", ["params", "calibration"])
def test_cited_keys_exist(where: str) -> None:
    """Every bracketed token in a parameter or calibration-target source is a key of
    docs/sources.md (so tags such as [OFFICIAL] cannot creep back in)."""
    cited = ([(p.key, p.source) for p in SCHEMA.values()] if where == "params"
             else [(t.name, t.source) for t in TARGETS])
    anchors = _anchors()
    unknown = [f"{name}: [{key}]" for name, source in cited
               for key in BRACKETED.findall(source) if key not in anchors]
    assert not unknown, "not an entry of docs/sources.md:\n" + "\n".join(unknown)


def test_links_into_sources_resolve() -> None:
    anchors = _anchors()
    broken = []
    for doc in sorted((ROOT / "docs").glob("*.md")):
        text = doc.read_text(encoding="utf-8")
        own = "#" if doc == SOURCES else "sources.md#"
        for target in re.findall(r"\]\(" + re.escape(own) + r"([^)\s]+)\)", text):
            if target not in anchors:
                broken.append(f"{doc.name}: #{target}")
    assert not broken, "links to missing anchors of docs/sources.md:\n" + "\n".join(broken)
