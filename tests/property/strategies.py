"""Hypothesis strategies shared by the property tests.

Valid resources are built from the CRDs themselves (`crds/`), so a field added to a
CRD is generated without touching this file. The few rules the CRD schema cannot
state, and the models enforce at reconcile time instead, are listed in `TIGHTEN`:
everything generated from a CRD plus those rules must be accepted by the models.
Hostile input is either JSON of any shape or a valid resource with a few parts
replaced, removed or added: most bugs hide just next to the valid case.
"""

import copy
import functools
import os
import string
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from alertsync.models import ProductType

__all__ = [
    "CRD_FIELDS",
    "INTEGRATION_CRD",
    "PLATFORM_CRDS",
    "TOKEN_MARK",
    "Json",
    "block_specs",
    "core_of",
    "crd_part",
    "from_schema",
    "integration_specs",
    "integration_statuses",
    "json_dicts",
    "json_values",
    "leaks",
    "mutated",
    "platform_specs",
    "property_settings",
    "tokens",
]

Json = Any
ROOT = Path(__file__).parents[2]
INTEGRATION_CRD = "alertsync.dev_alertintegrations.yaml"
PLATFORM_CRDS = ("alertsync.dev_alertplatforms.yaml", "alertsync.dev_clusteralertplatforms.yaml")
INT64 = (-(2**63), 2**63 - 1)
# Lists and free text stay short: size finds no bug that shape does not, and time counts.
MAX_ITEMS = 4
MAX_TEXT = 40


# `make test` runs each property with its own modest count, seeded. A longer search
# (ALERTSYNC_PROPERTY_SCALE=20, say) multiplies the counts and draws new examples.
SCALE = float(os.environ.get("ALERTSYNC_PROPERTY_SCALE", "1"))


def property_settings(max_examples: int) -> settings:
    """Seeded, no example database, no deadline: the same run on every machine, CI included."""
    return settings(
        max_examples=max(1, round(max_examples * SCALE)),
        derandomize=SCALE == 1,
        database=None,
        deadline=None,
        print_blob=False,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


@functools.cache
def _crd(file: str) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "crds" / file).read_text())
    return loaded


def crd_part(file: str, part: str) -> dict[str, Any]:
    """`spec` or `status` of a CRD's only version, as an OpenAPI v3 schema."""
    node = _crd(file)["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    return copy.deepcopy(dict(node["properties"][part]))


def _property_names(node: Mapping[str, Any]) -> Iterator[str]:
    for name, child in node.get("properties", {}).items():
        yield name
        yield from _property_names(child)
    for key in ("items", "additionalProperties"):
        if isinstance(node.get(key), Mapping):
            yield from _property_names(node[key])


#: Every field name any CRD declares: a rejection naming a field may name one of these.
CRD_FIELDS: frozenset[str] = frozenset(
    name
    for file in (INTEGRATION_CRD, *PLATFORM_CRDS)
    for part in ("spec", "status")
    for name in _property_names(crd_part(file, part))
)

# -- JSON of any shape ---------------------------------------------------------------------

_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats()
    | st.text(max_size=MAX_TEXT)
)
# Keys are often real field names, so that arbitrary values reach real fields.
_keys = st.sampled_from(sorted(CRD_FIELDS)) | st.text(max_size=12)

json_values: st.SearchStrategy[Json] = st.recursive(
    _scalars,
    lambda children: (
        st.lists(children, max_size=MAX_ITEMS)
        | st.dictionaries(_keys, children, max_size=MAX_ITEMS)
    ),
    max_leaves=16,
)
json_dicts: st.SearchStrategy[dict[str, Json]] = st.dictionaries(_keys, json_values, max_size=6)


def _slots(value: Json) -> Iterator[tuple[Json, Any]]:
    """(container, key or index) of every place in `value` that holds something."""
    if isinstance(value, dict):
        for key, child in value.items():
            yield value, key
            yield from _slots(child)
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield value, index
            yield from _slots(child)


@st.composite
def mutated(draw: st.DrawFn, valid: st.SearchStrategy[dict[str, Json]]) -> dict[str, Json]:
    """A valid value with one to three parts replaced by anything, removed, or added."""
    value: dict[str, Json] = copy.deepcopy(draw(valid))
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        containers = [value, *(c for c, k in _slots(value) if isinstance(c[k], dict | list))]
        slots = list(_slots(value))
        action = draw(st.sampled_from(["replace", "remove", "add"]))
        if action == "add" or not slots:
            container = draw(st.sampled_from(containers))
            if isinstance(container, dict):
                container[draw(_keys)] = draw(json_values)
            else:
                container.append(draw(json_values))
            continue
        container, key = draw(st.sampled_from(slots))
        if action == "replace":
            container[key] = draw(json_values)
        elif isinstance(container, dict):
            del container[key]
        else:
            container.pop(key)
    return value


# -- from the CRDs -------------------------------------------------------------------------

# The CEL rules of the CRDs, as Python: a rule not listed here fails at import, so that a
# new rule is never silently ignored by the generator.
RULES: dict[str, Callable[[dict[str, Json]], bool]] = {
    "!has(self.passwordSecretRef) || has(self.username)": (
        lambda value: "passwordSecretRef" not in value or "username" in value
    ),
    "has(self.url) != has(self.urlSecretRef)": (
        lambda value: ("url" in value) != ("urlSecretRef" in value)
    ),
}


def _one_block(spec: dict[str, Json]) -> dict[str, Json]:
    """Only one platform block: the model's cross-field rule."""
    blocks = [name for name in (p.block for p in ProductType) if name in spec]
    return {key: value for key, value in spec.items() if key not in blocks[1:]}


def _requirement(requirement: dict[str, Json]) -> dict[str, Json]:
    """In and NotIn need values; Exists and DoesNotExist take none (as Kubernetes says)."""
    if requirement["operator"] in ("In", "NotIn"):
        return {**requirement, "values": requirement.get("values") or ["v"]}
    return {key: value for key, value in requirement.items() if key != "values"}


# What the models refuse although the CRD schema admits it: each is a runtime rule
# reported as Ready=False naming the field (README: "the rest ends in Ready=False").
# Keys are schema paths; a value either replaces the node's strategy ("replace") or
# maps what the node's strategy drew ("map").
TIGHTEN: dict[str, tuple[str, Callable[..., Any]]] = {
    "integration.spec": ("map", _one_block),
    "platform.spec.namespaceSelector.matchExpressions[]": ("map", _requirement),
}


def from_schema(node: Mapping[str, Any], path: str) -> st.SearchStrategy[Json]:
    """Values the OpenAPI v3 schema `node` (the subset CRDs use) admits."""
    strategy = _from_schema(node, path)
    how, tighten = TIGHTEN.get(path, ("", None))
    if how == "map" and tighten is not None:
        strategy = strategy.map(tighten)
    return strategy


def _from_schema(node: Mapping[str, Any], path: str) -> st.SearchStrategy[Json]:
    how, tighten = TIGHTEN.get(path, ("", None))
    if how == "replace" and tighten is not None:
        replaced: st.SearchStrategy[Json] = tighten(node)
        return replaced
    kind = node.get("type")
    if "enum" in node:
        return st.sampled_from(node["enum"])
    if kind == "string":
        return _string(node)
    if kind == "integer":
        low, high = INT64 if node.get("format") == "int64" else (-(2**40), 2**40)
        return st.integers(node.get("minimum", low), node.get("maximum", high))
    if kind == "boolean":
        return st.booleans()
    if kind == "array":
        return _array(node, path)
    if kind == "object":
        return _object(node, path)
    raise ValueError(f"{path}: schema type {kind!r} is not handled by the generator")


def _string(node: Mapping[str, Any]) -> st.SearchStrategy[str]:
    low, high = node.get("minLength", 0), node.get("maxLength")
    if "pattern" in node:
        found: st.SearchStrategy[str] = st.from_regex(node["pattern"], fullmatch=True)
        return found.filter(lambda text: low <= len(text) <= (high or len(text)))
    if node.get("format") == "date-time":
        moments = st.datetimes(datetime(2000, 1, 1), datetime(2100, 1, 1), timezones=st.just(UTC))
        return moments.map(lambda moment: moment.isoformat().replace("+00:00", "Z"))
    text = st.text(min_size=low, max_size=min(high or MAX_TEXT, MAX_TEXT))
    if high is None or high > 300:
        return text
    # Strings at the limit, too: maxLength is where off-by-one errors live.
    return text | st.text(min_size=high, max_size=high)


def _array(node: Mapping[str, Any], path: str) -> st.SearchStrategy[list[Json]]:
    items = from_schema(node["items"], f"{path}[]")
    low = node.get("minItems", 0)
    high = max(low, min(node.get("maxItems", MAX_ITEMS), MAX_ITEMS))
    if node.get("x-kubernetes-list-type") == "set":
        return st.lists(items, min_size=low, max_size=high, unique=True)
    if node.get("x-kubernetes-list-type") == "map":
        keys = tuple(node["x-kubernetes-list-map-keys"])
        return st.lists(
            items,
            min_size=low,
            max_size=high,
            unique_by=lambda item: tuple(item.get(key) for key in keys),
        )
    return st.lists(items, min_size=low, max_size=high)


def _object(node: Mapping[str, Any], path: str) -> st.SearchStrategy[dict[str, Json]]:
    properties: Mapping[str, Any] = node.get("properties", {})
    if not properties:
        extra = node.get("additionalProperties")
        if isinstance(extra, Mapping):
            values = from_schema(extra, f"{path}.*")
            return st.dictionaries(st.text(min_size=1, max_size=12), values, max_size=3)
        return st.just({})
    required = set(node.get("required", ()))
    strategy = st.fixed_dictionaries(
        {name: from_schema(properties[name], f"{path}.{name}") for name in sorted(required)},
        optional={
            name: from_schema(child, f"{path}.{name}")
            for name, child in properties.items()
            if name not in required
        },
    )
    for rule in node.get("x-kubernetes-validations", ()):
        strategy = strategy.filter(RULES[rule["rule"]])
    return strategy


def integration_specs() -> st.SearchStrategy[dict[str, Json]]:
    return from_schema(crd_part(INTEGRATION_CRD, "spec"), "integration.spec")


def platform_specs() -> st.SearchStrategy[dict[str, Json]]:
    return st.one_of(
        *(from_schema(crd_part(file, "spec"), "platform.spec") for file in PLATFORM_CRDS)
    )


def block_specs(block: str) -> st.SearchStrategy[dict[str, Json]]:
    """`spec.<block>` of an AlertIntegration (grafanaOnCall, ilert, ...)."""
    node = crd_part(INTEGRATION_CRD, "spec")["properties"][block]
    return from_schema(node, f"integration.spec.{block}")


# Stored statuses: what the CRD admits, with productType and targetState sometimes any
# text (a status written before the CRD listed their values) so that not all of them parse.
_STATUS_TIGHTEN = {
    "productType": st.sampled_from([p.value for p in ProductType]) | st.text(max_size=8),
    "targetState": st.sampled_from(["enabled", "disabled"]) | st.text(max_size=8),
}


def integration_statuses() -> st.SearchStrategy[dict[str, Json]]:
    node = crd_part(INTEGRATION_CRD, "status")
    base = from_schema(node, "integration.status")
    return st.builds(
        lambda drawn, extra: {**drawn, **extra},
        base,
        st.fixed_dictionaries({}, optional=_STATUS_TIGHTEN),
    )


# -- credentials ---------------------------------------------------------------------------

#: In every generated token: a leak is any 8 characters of a token's core in a message.
TOKEN_MARK = "s3cr3t"


@st.composite
def tokens(draw: st.DrawFn, printable: bool = False) -> str:
    """A token with odd characters around a core that no message would hold by chance.

    `printable`: only printable ASCII around it, as an HTTP header can carry.
    """
    alphabet = (
        st.characters(min_codepoint=32, max_codepoint=126)
        if printable
        else st.characters(exclude_categories=["Cs"])
    )
    odd = st.text(alphabet, max_size=12)
    core = TOKEN_MARK + draw(st.text(string.ascii_letters + string.digits, min_size=6, max_size=6))
    return draw(odd) + core + draw(odd)


def core_of(token: str) -> str:
    start = token.index(TOKEN_MARK)
    return token[start : start + len(TOKEN_MARK) + 6]


def leaks(text: str, token: str) -> bool:
    """Whether `text` shows `token`, whole, with its spaces changed, or in part."""
    core = core_of(token)
    squeezed = " ".join(token.split())
    windows = {core[i : i + 8] for i in range(len(core) - 7)}
    return token in text or squeezed in text or any(window in text for window in windows)
