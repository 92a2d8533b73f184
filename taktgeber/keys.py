"""Deterministic keys, written once.

Draft key (DESIGN.md §7): ``TG-`` + the first 12 hex characters of SHA-256 over the
sorted source ids. Our reading of "over the sorted source ids": each id as its decimal
or text form, sorted as strings, joined with ``","``, UTF-8 encoded.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

DRAFT_KEY_PREFIX = "TG-"


def draft_key(source_ids: Iterable[object]) -> str:
    ids = sorted(str(i) for i in source_ids)
    if not ids:
        raise ValueError("a draft key needs at least one source id")
    digest = hashlib.sha256(",".join(ids).encode("utf-8")).hexdigest()
    return f"{DRAFT_KEY_PREFIX}{digest[:12]}"


def is_draft_reference(reference: str | None) -> bool:
    """An invoice Reference made by the push job (every other ACCREC invoice is manual)."""
    return bool(reference) and reference.startswith(DRAFT_KEY_PREFIX) and len(reference) == 15
