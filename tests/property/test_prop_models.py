"""Properties of the CR models: any input is parsed or refused naming a spec field.

Whatever a user (or a broken tool) puts in a resource reaches `parse_spec`; it must
come out as a model or as an InvalidSpecError whose field path a person can follow,
never as another exception. What the CRDs admit (plus the runtime rules the schema
cannot state, `strategies.TIGHTEN`) parses, and survives a round trip through JSON.
"""

import copy
import json

from hypothesis import example, given
from hypothesis import strategies as st
from pydantic import BaseModel

from alertsync.errors import InvalidSpecError
from alertsync.models import (
    AlertIntegrationSpec,
    AlertPlatformSpec,
    ConfluentSpec,
    GrafanaOnCallSpec,
    ILertSpec,
    MackerelSpec,
    ZStackSpec,
)
from alertsync.models.common import parse_spec
from alertsync.models.messages import SHOWN_MAX
from tests.property.strategies import (
    CRD_FIELDS,
    Json,
    block_specs,
    integration_specs,
    json_dicts,
    mutated,
    platform_specs,
    property_settings,
)
from tests.support.wording import PYDANTIC_WORDING

# Each model with what a valid input for it looks like.
MODELS: dict[type[BaseModel], st.SearchStrategy[dict[str, Json]]] = {
    AlertIntegrationSpec: integration_specs(),
    AlertPlatformSpec: platform_specs(),
    GrafanaOnCallSpec: block_specs("grafanaOnCall"),
    ILertSpec: block_specs("ilert"),
    MackerelSpec: block_specs("mackerel"),
    ConfluentSpec: block_specs("confluent"),
    ZStackSpec: block_specs("zstack"),
}

models = st.sampled_from(list(MODELS))


def names_a_field(path: str, raw: Json) -> bool:
    """`spec`, then parts that are each a key or index present in `raw`, or a field the
    CRDs know (one left out). Keys may hold dots (`app.kubernetes.io/name`), so a part
    is matched against the keys themselves, not split at every dot.

    A part that is neither (a pydantic union tag such as `function-after[...]`) is a
    path a person cannot follow back to their resource.
    """
    if path == "spec":
        return True
    return path.startswith("spec.") and _follows(path.removeprefix("spec."), raw)


def _follows(rest: str, current: Json) -> bool:
    candidates: list[tuple[str, Json]] = []
    if isinstance(current, dict):
        candidates += [(str(key), value) for key, value in current.items()]
    elif isinstance(current, list):
        candidates += [(str(index), value) for index, value in enumerate(current)]
    candidates += [(name, None) for name in CRD_FIELDS]
    for key, value in candidates:
        if rest == key:
            return True
        if rest.startswith(key + ".") and _follows(rest[len(key) + 1 :], value):
            return True
    return False


def check_parse(model: type[BaseModel], raw: dict[str, Json]) -> BaseModel | None:
    try:
        return parse_spec(model, raw)
    except InvalidSpecError as exc:
        refusal = exc
    assert names_a_field(refusal.field, raw), refusal.field
    field, _, problem = refusal.message.partition(": ")
    assert field == refusal.field
    assert problem.strip(), refusal.message
    # AlertSync's words, never pydantic's, and never a long value echoed whole.
    assert not [words for words in PYDANTIC_WORDING if words in refusal.message], refusal.message
    assert len(refusal.message) < 400, refusal.message
    return None


hostile_inputs = models.flatmap(
    lambda model: st.tuples(st.just(model), json_dicts | mutated(MODELS[model]))
)


@property_settings(max_examples=300)
@given(case=hostile_inputs)
# A key with a dot in it: the path "spec.." must still be followed to it.
@example(case=(GrafanaOnCallSpec, {".": None}))
def test_any_input_is_a_model_or_an_invalid_spec_naming_a_field(
    case: tuple[type[BaseModel], dict[str, Json]],
) -> None:
    check_parse(*case)


@st.composite
def with_a_long_string(draw: st.DrawFn, model: type[BaseModel]) -> dict[str, Json]:
    """A valid spec with one value (or a new key's value) replaced by a long string."""
    value = copy.deepcopy(draw(MODELS[model]))
    long = draw(st.text(min_size=SHOWN_MAX + 1, max_size=3000))
    places = [(value, key) for key in value] + [
        (child, key) for child in value.values() if isinstance(child, dict) for key in child
    ]
    if draw(st.booleans()) and places:
        container, key = draw(st.sampled_from(places))
    else:
        container, key = value, draw(st.sampled_from(sorted(CRD_FIELDS)))
    container[key] = long
    return value


@property_settings(max_examples=200)
@given(data=st.data(), model=models)
def test_a_long_value_is_refused_without_being_echoed(
    data: st.DataObject, model: type[BaseModel]
) -> None:
    raw = data.draw(with_a_long_string(model), label="raw")
    message = refusal_of(model, raw)
    if message is not None:
        longest = max(_strings(raw), key=len)
        assert longest[: SHOWN_MAX + 1] not in message, message
        assert len(message) < 400, message


def refusal_of(model: type[BaseModel], raw: dict[str, Json]) -> str | None:
    try:
        parse_spec(model, raw)
    except InvalidSpecError as exc:
        return exc.message
    return None


def _strings(value: Json) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [text for child in value.values() for text in _strings(child)]
    if isinstance(value, list):
        return [text for child in value for text in _strings(child)]
    return []


@property_settings(max_examples=150)
@given(data=st.data(), model=models)
def test_what_the_crd_admits_parses_and_round_trips(
    data: st.DataObject, model: type[BaseModel]
) -> None:
    raw = data.draw(MODELS[model], label="raw")
    # Through JSON, as the API server stores it.
    parsed = parse_spec(model, json.loads(json.dumps(raw)))
    for exclude_none in (False, True):
        dumped = parsed.model_dump(by_alias=True, mode="json", exclude_none=exclude_none)
        assert parse_spec(model, json.loads(json.dumps(dumped))) == parsed
