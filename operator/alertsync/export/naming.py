"""metadata.name for exported objects: valid, unique within the export, stable.

An object's name becomes a DNS label (RFC 1123: lower case letters, digits and '-',
at most 63 characters). Where that slug is not unique among the account's objects,
or the name is already taken in the namespace by another resource, a short hash of
the platform's id is appended: the id never changes, so neither does the name, and
no two objects of one export share one.
"""

import hashlib
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterator, Sequence

__all__ = ["MAX_LENGTH", "assign", "hashed", "slug"]

MAX_LENGTH = 63
# Hex digits of the id's hash: 8 first; more only if even that collides.
_HASH_LENGTHS = (8, 16, 40)
_FALLBACK = "integration"


def slug(name: str) -> str:
    """`name` as a DNS label: accents dropped, runs of anything else made one '-'."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    label = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")
    return label[:MAX_LENGTH].rstrip("-")


def hashed(base: str, platform_id: str, length: int = _HASH_LENGTHS[0]) -> str:
    """`base` (cut to fit) with the first `length` hex digits of the id's SHA-256."""
    digest = hashlib.sha256(platform_id.encode()).hexdigest()[:length]
    stem = base[: MAX_LENGTH - length - 1].rstrip("-") or _FALLBACK
    return f"{stem}-{digest}"[:MAX_LENGTH]


def assign(objects: Sequence[tuple[str, str]], free: Callable[[str, str], bool]) -> dict[str, str]:
    """platform id -> metadata.name for each (platform id, name on the platform).

    `free(name, id)` says whether the object with that id may have `name` (no other
    resource in the namespace has it). `objects` should be every object of the
    account, exported or not, so that a name does not depend on what is skipped.
    """
    slugs = {id_: slug(name) for id_, name in objects}
    counts = Counter(slugs.values())
    used: set[str] = set()
    names: dict[str, str] = {}
    # Plain slugs first, so that no hashed name can take one an object keeps.
    plain = {id_ for id_, s in slugs.items() if s and counts[s] == 1 and free(s, id_)}
    used.update(slugs[id_] for id_ in plain)
    for id_, base in slugs.items():
        if id_ in plain:
            names[id_] = base
            continue
        name = next(n for n in _candidates(base, id_) if n not in used and free(n, id_))
        used.add(name)
        names[id_] = name
    return names


def _candidates(base: str, platform_id: str) -> Iterator[str]:
    for length in _HASH_LENGTHS:
        yield hashed(base, platform_id, length)
    # Beyond belief: a sha256 prefix of 40 digits taken. Count on, rather than fail.
    n = 2
    while True:
        yield hashed(base, f"{platform_id}#{n}", _HASH_LENGTHS[-1])
        n += 1
