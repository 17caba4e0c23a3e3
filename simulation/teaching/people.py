"""The members of a household in words: family ties, ages and what each one does.

The model keeps people as person slots with an age, a sex and a role (no family ties), and the
head in slot 0 (the oldest worker, or the oldest member of a household without workers). A
story reads better with "son, 27, migrant work" than with "slot 2, male, 27", so the page
guesses the ties from ages and sexes relative to the head (the first member still present):
someone 16 or more years older is a parent, the first adult of the other sex within 16 years
a spouse, someone 16-41 years younger a child, 42 or more a grandchild, anyone else a
relative. The page says that the ties are guessed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from simulation.model.codes import ASSISTED_JOB, JOBLESS, LOCAL, MALE, MIGRANT, NONE, STUDENT

TIES_NOTE: Final = "family ties guessed from ages and sexes"
PARENT_GAP, GRANDCHILD_GAP = 16, 42
"""Years between generations (a parent is at least PARENT_GAP years older than the head, a
grandchild at least GRANDCHILD_GAP years younger)."""


def relations(age: Sequence[int], sex: Sequence[int], present: Sequence[bool]) -> dict[int, str]:
    """Guessed tie of each present member to the head (slot -> 'head', 'spouse', 'son'...)."""
    slots = [k for k in range(len(present)) if present[k]]
    if not slots:
        return {}
    head = slots[0]
    out = {head: "head"}
    spouse = False
    for k in slots[1:]:
        gap = int(age[k]) - int(age[head])
        male = sex[k] == MALE
        if gap >= PARENT_GAP:
            out[k] = "father" if male else "mother"
        elif not spouse and abs(gap) < PARENT_GAP and age[k] >= 18 and sex[k] != sex[head]:
            out[k] = "spouse"
            spouse = True
        elif gap <= -GRANDCHILD_GAP:
            out[k] = "grandson" if male else "granddaughter"
        elif gap <= -PARENT_GAP:
            out[k] = "son" if male else "daughter"
        else:
            out[k] = "relative"
    return out


def role_text(role: int, age: int, pension_age: int = 60) -> str:
    """What a member does, in words ('' for a child under 16)."""
    if role == STUDENT:
        return "student"
    if role == LOCAL:
        return "local work"
    if role == MIGRANT:
        return "migrant work"
    if role == JOBLESS:
        return "migrant work (jobless)"
    if role == ASSISTED_JOB:
        return "assisted job"
    if role == NONE and age < 16:
        return ""
    return "retired" if age >= pension_age else "not working"


def child_word(sex: int) -> str:
    return "a boy" if sex == MALE else "a girl"


def someone(relation: str, age: int, sex: int, in_sentence: bool = False) -> str:
    """'son, 27' (in a list) or 'the son (27)' (in a sentence); without a known tie
    'a man of 27' / 'a girl of 4'."""
    if relation:
        return f"the {relation} ({age})" if in_sentence else f"{relation}, {age}"
    if age < 16:
        return f"{child_word(sex)} of {age}"
    return f"{'a man' if sex == MALE else 'a woman'} of {age}"
