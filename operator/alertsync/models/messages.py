"""AlertSync's own words for what pydantic found wrong in a spec.

pydantic's messages ("Input should be ...", "Value error, ...") name its types, not
the user's resource, and echo whatever was given, however long. Every refusal a
user sees is written here instead: the field path as in the manifest (`spec.x.y`),
then the problem in plain English, showing at most a short, redacted part of the
value that was given.
"""

import json
from collections.abc import Sequence

from pydantic_core import ErrorDetails

from alertsync.redaction import redact

__all__ = ["SHOWN_MAX", "describe", "explained_pattern", "field_path", "shown"]

#: An echoed value longer than this is cut: a 10,000-character name is not repeated back.
SHOWN_MAX = 80

# Enums longer than this are not listed in full (iLert has 150 integration types).
_LISTED_MAX = 12

# A pattern's meaning in words, for the fields that declare one (see explained_pattern).
_PATTERNS: dict[str, str] = {}


def explained_pattern(pattern: str, meaning: str) -> str:
    """`pattern`, remembered with what it asks for, e.g. "a duration such as 30s".

    A model field declares `Field(pattern=explained_pattern(...))` so that a value
    that does not match is refused with `meaning`, not with the regular expression.
    """
    # The refusal is found by the pattern alone (pydantic's error names no field): a
    # second meaning for one pattern would silently replace the first everywhere.
    known = _PATTERNS.setdefault(pattern, meaning)
    if known != meaning:
        raise ValueError(f"pattern {pattern!r} is explained already, as {known!r}")
    return pattern


def shown(value: object) -> str:
    """`value` as JSON, as Kubernetes shows a refused value: redacted, and cut when long."""
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list | tuple):
        return "a list"
    try:
        text = json.dumps(value, ensure_ascii=False)
    except ValueError:  # NaN and infinities have no JSON form
        text = str(value)
    text = redact(text)
    if len(text) <= SHOWN_MAX:
        return text
    return f"{text[: SHOWN_MAX - 20]}… ({len(text)} characters)"


def field_path(loc: Sequence[int | str]) -> str:
    """`spec.a.b.0` for pydantic's location ("a", "b", 0) inside a spec."""
    return ".".join(str(part) for part in ("spec", *loc))


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list | tuple):
        return "a list"
    return "an object"


def _got(value: object) -> str:
    """`(got "x")` for a scalar, `(got a list)` for a container."""
    if isinstance(value, dict | list | tuple) or value is None:
        return f"(got {_kind(value)})"
    return f"(got {shown(value)})"


def _choices(expected: str) -> str:
    # pydantic's ctx lists the choices as "'a', 'b' or 'c'"; count them, keep ours short.
    count = expected.count(",") + 1 + expected.count(" or ")
    if count > _LISTED_MAX:
        return f"one of {count} values (`kubectl explain` lists them)"
    listed = expected.replace("'", '"')
    return listed if count <= 2 else f"one of {listed}"


def _type_problem(kind: str, value: object) -> str:
    return f"must be {kind} (got {_kind(value)})"


# Error types that only say "wrong JSON type", with the type asked for.
_TYPES = {
    "string_type": "a string",
    "int_type": "an integer",
    "int_parsing": "an integer",
    "int_from_float": "a whole number",
    "float_type": "a number",
    "float_parsing": "a number",
    "finite_number": "a finite number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "dict_type": "an object",
    "model_type": "an object",
    "model_attributes_type": "an object",
    "tuple_type": "a list",
    "list_type": "a list",
    "set_type": "a list",
    "frozen_set_type": "a list",
    "iterable_type": "a list",
    "datetime_type": "a date-time such as 2026-01-31T12:00:00Z",
    "datetime_parsing": "a date-time such as 2026-01-31T12:00:00Z",
    "datetime_from_date_parsing": "a date-time such as 2026-01-31T12:00:00Z",
}


def describe(error: ErrorDetails) -> str:
    """The problem `error` reports, in AlertSync's words (without the field path)."""
    kind = error["type"]
    ctx = error.get("ctx") or {}
    value = error.get("input")
    if kind in ("value_error", "assertion_error"):
        # Our own validators' messages (ValueError("...")), without pydantic's prefix.
        return str(ctx.get("error", "is not valid"))
    if kind == "missing":
        return "required"
    if kind == "extra_forbidden":
        return "unknown field: check its spelling and where it is placed"
    if kind in _TYPES:
        return _type_problem(_TYPES[kind], value)
    if kind in ("literal_error", "enum"):
        return f"must be {_choices(str(ctx.get('expected', '')))} {_got(value)}"
    if kind == "string_too_short":
        least = ctx.get("min_length", 1)
        if least == 1:
            return "must not be empty"
        return f"at least {least} characters (got {len(str(value))})"
    if kind == "string_too_long":
        return f"at most {ctx.get('max_length')} characters (got {len(str(value))})"
    if kind == "string_pattern_mismatch":
        pattern = str(ctx.get("pattern", ""))
        meaning = _PATTERNS.get(pattern, f"must match the pattern {pattern}")
        return f"{meaning} {_got(value)}"
    if kind in ("too_short", "too_long"):
        bound = "at least" if kind == "too_short" else "at most"
        limit = ctx.get("min_length" if kind == "too_short" else "max_length")
        actual = ctx.get("actual_length")
        return f"{bound} {limit} item{'' if limit == 1 else 's'} (got {actual})"
    bounds = {
        "greater_than_equal": ("at least", "ge"),
        "greater_than": ("more than", "gt"),
        "less_than_equal": ("at most", "le"),
        "less_than": ("less than", "lt"),
    }
    if kind in bounds:
        word, key = bounds[kind]
        return f"must be {word} {ctx.get(key)} {_got(value)}"
    return f"is not a value AlertSync can use {_got(value)}"
