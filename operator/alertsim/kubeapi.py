"""A strict Kubernetes API emulator: kopf, the ``kubernetes`` client and kubectl run against it.

`StrictEmulator` extends kmock's `KubernetesEmulator` with the API-server semantics that
a real operator relies on and kmock 0.8 lacks (the gap table of the harness research
note): uids and
timestamps, a global ``resourceVersion`` with 409 Conflicts, ``generation``, the status
subresource, merge/JSON/apply patches and PUT, finalizers and ``deletionTimestamp``, label
and field selectors, resumable watches with 410 Gone, CRD-driven defaulting, pruning and
validation (422 with per-field causes), RFC 1123 metadata names as the API server checks
them, discovery and OpenAPI v3 for kubectl, and
server-side Table printing from ``additionalPrinterColumns``.

By default (``fast_path=True``) every request is served directly; kmock's DSL routing
costs O(requests served) per request. With ``fast_path=False``, kmock reactions declared
on the emulator (``emu['get /version'] << 500``) are tried first, for fault injection.

Every request served over HTTP is counted in an audit log of `ApiCall` records, as RBAC
sees them (verb, API group, resource, subresource), so that tests can compare what a client
used with what its Role grants: ``emu.take_audit()`` returns and clears it.

`EmulatorThread` serves an emulator on 127.0.0.1 from a background thread for sync tests
(kopf's `KopfRunner` runs in yet another thread). ``alertsim kubeapi`` serves one on its
own; ``alertsim sandbox`` serves one with the five platform simulators.

Not emulated: RBAC, admission webhooks, CEL rules, ownerReference garbage collection,
server-side-apply field ownership (apply is a merge patch), namespace existence checks,
``deletecollection``, pagination (``limit`` is ignored), protobuf request bodies (sent only
by kubectl's ``create secret|configmap|namespace`` generators: use ``kubectl apply -f``)
and CRD version conversion (each served version is a separate store).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import collections
import contextlib
import copy
import dataclasses
import datetime
import json
import os
import pathlib
import random
import re
import signal
import threading
import uuid
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from typing import Any, NamedTuple, ParamSpec, Self, TypeVar

import aiohttp.web
import attrs
import jsonpatch
import jsonschema
import kmock
import yaml

# Pinned kmock==0.8: this module overrides `_handle`, reads `Request._raw_request` and
# `Root._requests`, and patches `kmock._internal.parsing.parse_path`. None of these are public.
from kmock._internal import parsing as _kmock_parsing

Obj = dict[str, Any]
P = ParamSpec("P")
T = TypeVar("T")

CRD_GROUP = "apiextensions.k8s.io"
SERVER_VERSION = {"major": "1", "minor": "32", "gitVersion": "v1.32.0-alertsim"}
# Fields that clients may send but only the server sets; kept from the stored object.
_SYSTEM_METADATA = (
    "uid",
    "creationTimestamp",
    "resourceVersion",
    "generation",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "managedFields",
)


def _fix_kmock_path_parser() -> None:
    """Route ``/api/v1/namespaces[/NAME[/status]]`` to the namespaces resource.

    kmock 0.8 reads every ``/api/v1/namespaces/X`` as "namespace X" and fails with
    ValueError on ``GET /api/v1/namespaces``, which kopf's namespace-restricted mode needs.
    """
    original = _kmock_parsing.parse_path
    if getattr(original, "_alertsim_fixed", False):
        return

    def parse_path(path: str) -> Any:
        parts = path.strip("/").split("/")
        if parts[:3] == ["api", "v1", "namespaces"] and (
            len(parts) <= 4 or parts[4] in ("status", "finalize")
        ):
            name = parts[3] if len(parts) > 3 else None
            sub = "/".join(parts[4:]) or None
            return _kmock_parsing.ParsedPath("", "v1", "namespaces", None, name, sub)
        return original(path)

    parse_path._alertsim_fixed = True  # type: ignore[attr-defined]
    _kmock_parsing.parse_path = parse_path


_fix_kmock_path_parser()


class ApiError(Exception):
    """An API failure, answered as a ``Status`` object with the given HTTP code."""

    def __init__(
        self, code: int, reason: str, message: str, details: Mapping[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.code, self.reason, self.message, self.details = code, reason, message, details

    def status(self) -> Obj:
        status = _status(self.code, self.reason, self.message)
        if self.details:
            status["details"] = dict(self.details)
        return status


def _status(code: int, reason: str, message: str) -> Obj:
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }


# --------------------------------------------------------------------------------------------
# Resources and CRD schemas


@dataclasses.dataclass(eq=False)
class ResourceSpec:
    """One served resource: what discovery shows, and the schema that admits its objects."""

    group: str
    version: str
    plural: str
    kind: str
    namespaced: bool = True
    singular: str = ""
    short_names: Sequence[str] = ()
    categories: Sequence[str] = ()
    status_subresource: bool = False
    # How metadata.name is validated: "subdomain" (most kinds) or "label" (Namespaces).
    name_rule: str = "subdomain"
    schema: Obj | None = None  # the CRD's openAPIV3Schema
    printer_columns: Sequence[Obj] = ()  # the CRD's additionalPrinterColumns
    validator: jsonschema.Draft4Validator | None = dataclasses.field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.singular = self.singular or self.kind.lower()
        # kmock keys its object store by its own resource type.
        self.ref = kmock.resource(self.group, self.version, self.plural)
        if self.schema is not None and self.validator is None:
            self.validator = jsonschema.Draft4Validator(_to_draft4(self.schema))

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def qualified(self) -> str:
        """The name used in API messages: ``alertintegrations.alertsync.dev``, ``secrets``."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    def path(self, namespace: str | None = None, name: str | None = None, sub: str = "") -> str:
        """The URL path of the collection, or of one object (and its subresource)."""
        root = f"/apis/{self.group}/{self.version}" if self.group else "/api/v1"
        ns = f"/namespaces/{namespace}" if self.namespaced and namespace else ""
        tail = f"/{name}" + (f"/{sub}" if sub else "") if name else ""
        return f"{root}{ns}/{self.plural}{tail}"


_AGE_COLUMN = {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}


def core_resources() -> list[ResourceSpec]:
    """The built-in resources the operator and kubectl touch, plus CRDs themselves."""
    phase = {"name": "Status", "type": "string", "jsonPath": ".status.phase"}
    secret_type = {"name": "Type", "type": "string", "jsonPath": ".type"}
    # The API server's Event table; its OBJECT is "kind/name", which a JSONPath cannot join.
    events = [
        {"name": "Last Seen", "type": "date", "jsonPath": ".lastTimestamp"},
        secret_type,
        {"name": "Reason", "type": "string", "jsonPath": ".reason"},
        {"name": "Object", "type": "string", "jsonPath": ".involvedObject.name"},
        {"name": "Message", "type": "string", "jsonPath": ".message"},
    ]
    # fmt: off
    return [
        ResourceSpec("", "v1", "namespaces", "Namespace", namespaced=False, short_names=["ns"],
                     status_subresource=True, printer_columns=[phase, _AGE_COLUMN],
                     name_rule="label"),
        ResourceSpec("", "v1", "secrets", "Secret", printer_columns=[secret_type, _AGE_COLUMN]),
        ResourceSpec("", "v1", "configmaps", "ConfigMap", short_names=["cm"]),
        ResourceSpec("", "v1", "events", "Event", short_names=["ev"], printer_columns=events),
        ResourceSpec(CRD_GROUP, "v1", "customresourcedefinitions", "CustomResourceDefinition",
                     namespaced=False, short_names=["crd", "crds"], status_subresource=True),
    ]
    # fmt: on


def crd_resources(crd: Mapping[str, Any]) -> list[ResourceSpec]:
    """One `ResourceSpec` per served version of a CustomResourceDefinition."""
    spec, names = crd["spec"], crd["spec"]["names"]
    return [
        ResourceSpec(
            group=spec["group"],
            version=version["name"],
            plural=names["plural"],
            kind=names["kind"],
            namespaced=spec.get("scope", "Namespaced") == "Namespaced",
            singular=names.get("singular", ""),
            short_names=names.get("shortNames", ()),
            categories=names.get("categories", ()),
            status_subresource="status" in (version.get("subresources") or {}),
            schema=(version.get("schema") or {}).get("openAPIV3Schema"),
            printer_columns=version.get("additionalPrinterColumns", ()),
        )
        for version in spec["versions"]
        if version.get("served", True)
    ]


def _to_draft4(schema: Obj) -> Obj:
    """Map the OpenAPI-only keywords of a structural schema to JSON Schema Draft 4."""
    out = dict(schema)
    if isinstance(out.get("properties"), dict):
        out["properties"] = {k: _to_draft4(v) for k, v in out["properties"].items()}
    for key in ("items", "additionalProperties", "not"):
        if isinstance(out.get(key), dict):
            out[key] = _to_draft4(out[key])
    for key in ("allOf", "anyOf", "oneOf"):
        if key in out:
            out[key] = [_to_draft4(s) for s in out[key]]
    if out.pop("x-kubernetes-int-or-string", False):
        out.pop("type", None)
        out.setdefault("anyOf", [{"type": "integer"}, {"type": "string"}])
    if out.pop("nullable", False) and "type" in out:
        out["type"] = [out["type"], "null"]
    return out


def _prune(schema: Obj, value: Any, path: str = "") -> list[str]:
    """Drop unknown fields and non-nullable nulls in place, as a structural schema does.

    Returns the paths of the unknown fields, for ``fieldValidation=Strict``.
    """
    unknown: list[str] = []
    if isinstance(value, dict):
        props = schema.get("properties") or {}
        extra = schema.get("additionalProperties")
        keep_unknown = schema.get("x-kubernetes-preserve-unknown-fields") or extra is True
        for key in list(value):
            if not path and key in ("apiVersion", "kind", "metadata"):
                continue
            sub = props.get(key, extra if isinstance(extra, dict) else None)
            here = f"{path}.{key}" if path else key
            if sub is None:
                if not keep_unknown:
                    del value[key]
                    unknown.append(here)
            elif value[key] is None and not sub.get("nullable"):
                del value[key]
            else:
                unknown += _prune(sub, value[key], here)
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for index, item in enumerate(value):
            unknown += _prune(schema["items"], item, f"{path}[{index}]")
    return unknown


def _default(schema: Obj, value: Any) -> None:
    """Fill in ``default:`` values at any depth, in place (parents before children)."""
    if isinstance(value, dict):
        props = schema.get("properties") or {}
        for key, sub in props.items():
            if key not in value and "default" in sub:
                value[key] = copy.deepcopy(sub["default"])
        extra = schema.get("additionalProperties")
        for key, item in value.items():
            sub = props.get(key, extra if isinstance(extra, dict) else None)
            if sub is not None:
                _default(sub, item)
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for item in value:
            _default(schema["items"], item)


_JSON_TYPES = {bool: "boolean", int: "integer", float: "number", str: "string", list: "array"}


def _field_path(parts: Iterable[str | int]) -> str:
    path = ""
    for part in parts:
        path += f"[{part}]" if isinstance(part, int) else f".{part}" if path else part
    return path


_Cause = tuple[str, str, str]  # (reason, field, message), as in Status details.causes

# The longest value a cause echoes whole; a longer one is cut, so that a rejection stays
# readable (the API server omits a too-long value altogether: see `_causes`).
_ECHO_LIMIT = 100


def _echo(value: Any) -> str:
    """``value`` as a field error quotes it (compact JSON), cut after `_ECHO_LIMIT` characters."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    if len(text) <= _ECHO_LIMIT:
        return text
    return f"{text[:_ECHO_LIMIT]}... ({len(text) - _ECHO_LIMIT} more characters)"


def _counted(count: Any, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


# kube-openapi checks a string's maxLength, then minLength, then pattern, and reports only
# the first that fails; jsonschema reports each.
_STRING_CHECKS = ("maxLength", "minLength", "pattern")


def _causes(validator: jsonschema.Draft4Validator, obj: Obj) -> list[_Cause]:
    """Schema errors worded as apiextensions-apiserver words kube-openapi's results.

    maxLength is ``Too long: may not be more than 150 bytes``, without the value;
    maxItems and maxProperties are ``Too many: 3: must have at most 2 items``; the other
    keywords are ``Invalid value: VALUE: FIELD in body should ...``, with a long value cut.
    """
    causes: list[_Cause] = []
    errors = list(validator.iter_errors({k: v for k, v in obj.items() if k != "metadata"}))
    failed = {(tuple(e.absolute_path), e.validator) for e in errors}
    for error in errors:
        field = _field_path(error.absolute_path)
        if error.validator in _STRING_CHECKS:
            earlier = _STRING_CHECKS[: _STRING_CHECKS.index(str(error.validator))]
            if any((tuple(error.absolute_path), check) in failed for check in earlier):
                continue
        value = _echo(error.instance)
        if error.validator == "required":
            missing = re.match(r"'(.*)' is a required property", error.message)
            name = missing.group(1) if missing else "?"
            cause = ("FieldValueRequired", f"{field}.{name}" if field else name, "Required value")
        elif error.validator == "enum":
            allowed = ", ".join(json.dumps(v) for v in error.validator_value)
            message = f"Unsupported value: {value}: supported values: {allowed}"
            cause = ("FieldValueNotSupported", field, message)
        elif error.validator == "type":
            actual = _JSON_TYPES.get(type(error.instance), "object")
            actual = "null" if error.instance is None else actual
            message = (
                f'Invalid value: "{actual}": {field} in body must be of type '
                f'{" or ".join(_as_list(error.validator_value))}: "{actual}"'
            )
            cause = ("FieldValueTypeInvalid", field, message)
        elif error.validator == "maxLength":
            limit = _counted(error.validator_value, "byte")
            cause = ("FieldValueTooLong", field, f"Too long: may not be more than {limit}")
        elif error.validator in ("maxItems", "maxProperties"):
            limit = _counted(error.validator_value, "item")
            message = f"Too many: {len(error.instance)}: must have at most {limit}"
            cause = ("FieldValueTooMany", field, message)
        else:
            message = f"Invalid value: {value}: {_should(error, field or '<root>', value)}"
            cause = ("FieldValueInvalid", field, message)
        if cause not in causes:
            causes.append(cause)
    return causes


def _should(error: jsonschema.ValidationError, field: str, value: str) -> str:
    """kube-openapi's ``FIELD in body should ...`` for ``error``'s keyword."""
    limit, schema = error.validator_value, error.schema
    at_most = "" if isinstance(schema, dict) and schema.get("exclusiveMaximum") else "or equal to "
    at_least = "" if isinstance(schema, dict) and schema.get("exclusiveMinimum") else "or equal to "
    should = {
        "minLength": f"should be at least {limit} chars long",
        "pattern": f"should match '{limit}'",
        "minItems": f"should have at least {limit} items",
        "minProperties": f"should have at least {limit} properties",
        "uniqueItems": "shouldn't contain duplicates",
        "multipleOf": f"should be a multiple of {limit}",
        "minimum": f"should be greater than {at_least}{limit}",
        "maximum": f"should be less than {at_most}{limit}",
    }.get(str(error.validator))
    if should is None:  # a keyword kube-openapi words otherwise: jsonschema's words
        quoted = repr(error.instance)
        return error.message.replace(quoted, value) if len(quoted) > _ECHO_LIMIT else error.message
    return f"{field} in body {should}"


def _as_list(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _invalid(spec: ResourceSpec, name: str, causes: list[_Cause]) -> ApiError:
    """A 422 that kubectl prints as ``The Widget "x" is invalid: spec.a: ...``."""
    kind = f"{spec.kind}.{spec.group}" if spec.group else spec.kind
    errors = [f"{field or '<root>'}: {message}" for _, field, message in causes]
    joined = errors[0] if len(errors) == 1 else f"[{', '.join(errors)}]"
    as_dicts = [{"reason": r, "field": f or "<root>", "message": m} for r, f, m in causes]
    details = {"name": name, "group": spec.group, "kind": spec.kind, "causes": as_dicts}
    return ApiError(422, "Invalid", f'{kind} "{name}" is invalid: {joined}', details)


# apimachinery's IsDNS1123Label / IsDNS1123Subdomain, with the API server's wording
# (the double space in the label's examples is theirs too).
_DNS1123_LABEL = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DNS1123_SUBDOMAIN = rf"{_DNS1123_LABEL}(\.{_DNS1123_LABEL})*"
_NAME_RULES = {
    "label": (
        _DNS1123_LABEL,
        63,
        "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
        "and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', "
        f"regex used for validation is '{_DNS1123_LABEL}')",
    ),
    "subdomain": (
        _DNS1123_SUBDOMAIN,
        253,
        "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, "
        "'-' or '.', and must start and end with an alphanumeric character (e.g. "
        f"'example.com', regex used for validation is '{_DNS1123_SUBDOMAIN}')",
    ),
}


def invalid_name(name: str, rule: str = "subdomain") -> list[str]:
    """Why the API server refuses ``name`` as a metadata.name (empty: it is valid).

    ``rule`` is "subdomain" (RFC 1123 subdomain: most kinds, custom resources included)
    or "label" (RFC 1123 label: Namespaces).
    """
    pattern, limit, wording = _NAME_RULES[rule]
    errors = [f"must be no more than {limit} characters"] if len(name) > limit else []
    if re.fullmatch(pattern, name, flags=re.ASCII) is None:
        errors.append(wording)
    return errors


def _details(spec: ResourceSpec, name: str) -> Obj:
    return {"name": name, "group": spec.group, "kind": spec.plural}


def _not_found(spec: ResourceSpec, name: str) -> ApiError:
    return ApiError(404, "NotFound", f'{spec.qualified} "{name}" not found', _details(spec, name))


def _merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386: dicts merge, ``null`` deletes, everything else replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = _merge_patch(result.get(key), value)
    return result


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --------------------------------------------------------------------------------------------
# Selectors and Table printing

# (key, op, values): op is "in", "notin", "exists" or "!exists"; "=" is "in" with one value.
_Requirement = tuple[str, str, frozenset[str]]
_LABEL_TERM = re.compile(
    r"\s*(?:(?P<key>[\w./-]+)\s*(?P<op>==|=|!=)\s*(?P<value>[\w./-]*)"
    r"|(?P<skey>[\w./-]+)\s+(?P<setop>in|notin)\s*\((?P<values>[^)]*)\)"
    r"|(?P<neg>!?)\s*(?P<ekey>[\w./-]+))\s*(?:,|$)"
)


def parse_label_selector(selector: str) -> list[_Requirement]:
    """Parse ``a=b,c!=d,e in (f,g),h notin (i),j,!k`` (raises 400 on anything else)."""
    reqs: list[_Requirement] = []
    pos, selector = 0, selector.strip()
    while pos < len(selector):
        match = _LABEL_TERM.match(selector, pos)
        if match is None or match.end() == pos:
            raise ApiError(400, "BadRequest", f"unable to parse label selector {selector!r}")
        pos = match.end()
        if match["key"]:
            op = "notin" if match["op"] == "!=" else "in"
            reqs.append((match["key"], op, frozenset([match["value"]])))
        elif match["skey"]:
            values = frozenset(v.strip() for v in match["values"].split(",") if v.strip())
            reqs.append((match["skey"], match["setop"], values))
        else:
            reqs.append((match["ekey"], "!exists" if match["neg"] else "exists", frozenset()))
    return reqs


def labels_match(reqs: Iterable[_Requirement], labels: Mapping[str, str]) -> bool:
    for key, op, values in reqs:
        present = key in labels
        if (op == "exists" and not present) or (op == "!exists" and present):
            return False
        if op == "in" and (not present or labels[key] not in values):
            return False
        if op == "notin" and present and labels[key] in values:
            return False
    return True


def parse_field_selector(selector: str) -> list[tuple[str, bool, str]]:
    """Parse ``metadata.name=x,metadata.namespace!=y`` into (path, equal, value) triples."""
    terms = []
    for term in filter(None, (t.strip() for t in selector.split(","))):
        match = re.fullmatch(r"([\w.]+)\s*(==|=|!=)\s*(.*)", term)
        if match is None:
            raise ApiError(400, "BadRequest", f"invalid field selector {selector!r}")
        terms.append((match[1], match[2] != "!=", match[3]))
    return terms


def fields_match(terms: Iterable[tuple[str, bool, str]], obj: Obj) -> bool:
    for path, equal, expected in terms:
        value: Any = obj
        for part in path.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        if ((str(value) if value is not None else "") == expected) != equal:
            return False
    return True


_JSONPATH_STEP = re.compile(
    r"\.(?P<key>[^.\[\]]+)|\[(?P<index>-?\d+)\]|\[(?P<star>\*)\]"
    r"|\[\?\(@\.(?P<fpath>[\w.]+)\s*==\s*[\"'](?P<fvalue>[^\"']*)[\"']\)\]"
)


def jsonpath(obj: Any, path: str) -> Any:
    """Evaluate the simple JSONPath subset used by printer columns; the first match or None.

    Supports ``.a.b``, ``[0]``, ``[*]`` and ``[?(@.type=="Ready")]``.
    """
    values, pos, path = [obj], 0, path.strip().removeprefix("{").removesuffix("}")
    while pos < len(path) and values:
        step = _JSONPATH_STEP.match(path, pos)
        if step is None:
            return None
        pos, found = step.end(), []
        for value in values:
            if step["key"] is not None and isinstance(value, dict) and step["key"] in value:
                found.append(value[step["key"]])
            elif step["index"] is not None and isinstance(value, list):
                found += value[int(step["index"]) :][:1]
            elif step["star"] and isinstance(value, list):
                found += value
            elif step["fpath"] is not None and isinstance(value, list):
                found += [
                    v for v in value if str(jsonpath(v, "." + step["fpath"])) == step["fvalue"]
                ]
        values = found
    return values[0] if values else None


def human_age(timestamp: str, now: datetime.datetime | None = None) -> str:
    """Age like kubectl prints it: ``45s``, ``3m10s``, ``7h``, ``12d``."""
    try:
        then = datetime.datetime.fromisoformat(timestamp)
    except ValueError:
        return timestamp
    seconds = int(((now or datetime.datetime.now(datetime.UTC)) - then).total_seconds())
    minutes, hours, days = seconds // 60, seconds // 3600, seconds // 86400
    if seconds < 120:
        return f"{max(seconds, 0)}s"
    if minutes < 10:
        return f"{minutes}m{seconds % 60}s" if seconds % 60 else f"{minutes}m"
    if hours < 3:
        return f"{minutes}m"
    if hours < 8:
        return f"{hours}h{minutes % 60}m" if minutes % 60 else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    return f"{days}d" if days < 730 else f"{days // 365}y"


def _table(spec: ResourceSpec, objs: Iterable[Obj], rv: int, include: str) -> Obj:
    """A meta.k8s.io/v1 Table, as kubectl asks for with ``Accept: ...;as=Table``."""
    columns = list(spec.printer_columns) or [_AGE_COLUMN]
    definitions = [{"name": "Name", "type": "string", "format": "name", "priority": 0}]
    definitions += [
        {
            "name": c["name"],
            "type": c["type"],
            "format": c.get("format", ""),
            "description": c.get("description", ""),
            "priority": c.get("priority", 0),
        }
        for c in columns
    ]
    rows = []
    for obj in objs:
        cells: list[Any] = [obj["metadata"]["name"]]
        for column in columns:
            value = jsonpath(obj, column["jsonPath"])
            if value is not None and column["type"] == "date":
                value = human_age(str(value))
            elif value is not None and column["type"] == "string" and not isinstance(value, str):
                value = json.dumps(value)
            cells.append(value)
        row: Obj = {"cells": cells}
        if include == "Object":
            row["object"] = obj
        elif include != "None":
            metadata = {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1"}
            row["object"] = {**metadata, "metadata": obj["metadata"]}
        rows.append(row)
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": str(rv)},
        "columnDefinitions": definitions,
        "rows": rows,
    }


# --------------------------------------------------------------------------------------------
# The emulator


class _Event(NamedTuple):
    rv: int
    type: str
    obj: Obj


class ApiCall(NamedTuple):
    """One HTTP request as RBAC authorizes it (what a Role's rule must name to allow it).

    ``verb`` is the Kubernetes verb: get, list, watch, create, update, patch, delete,
    deletecollection; for a non-resource URL (discovery, ``/version``, OpenAPI) it is the
    lowercase HTTP method, ``resource`` is empty and ``path`` is the URL path.
    ``namespaced`` is whether the request was made in a namespace
    (``/namespaces/NS/<resource>...``); a Namespace object itself is not in one.
    """

    verb: str
    group: str
    resource: str
    subresource: str
    namespaced: bool
    user_agent: str
    path: str = ""


_VERBS = {"POST": "create", "PUT": "update", "PATCH": "patch"}


def api_call(request: kmock.Request) -> ApiCall:
    """The `ApiCall` of a request, derived as the API server's request info does."""
    res, method = request.resource, request.method.value
    agent = _header(request, "user-agent")
    if res is None or res.version is None or res.plural is None:
        return ApiCall(method.lower(), "", "", "", False, agent, request.url.path)
    if method in ("GET", "HEAD") and request.params.get("watch") in ("true", "1"):
        verb = "watch"
    elif method in ("GET", "HEAD"):
        verb = "get" if request.name is not None else "list"
    elif method == "DELETE":
        verb = "delete" if request.name is not None else "deletecollection"
    else:
        verb = _VERBS.get(method, method.lower())
    return ApiCall(
        verb,
        res.group or "",
        res.plural,
        request.subresource or "",
        request.namespace is not None,
        agent,
    )


@dataclasses.dataclass(eq=False)
class _Selector:
    namespace: str | None
    labels: list[_Requirement]
    fields: list[tuple[str, bool, str]]

    def matches(self, obj: Obj) -> bool:
        meta = obj["metadata"]
        return (
            (self.namespace is None or meta.get("namespace") == self.namespace)
            and labels_match(self.labels, meta.get("labels") or {})
            and fields_match(self.fields, obj)
        )


@dataclasses.dataclass(eq=False)
class _Watch:
    selector: _Selector
    queue: asyncio.Queue[_Event | None] = dataclasses.field(default_factory=asyncio.Queue)


@attrs.define(kw_only=True)
class StrictEmulator(kmock.KubernetesEmulator):
    """A kmock Kubernetes emulator with the semantics of a real API server (see the module).

    Objects live in kmock's store (``emu.objects[spec.ref, ns, name].history`` has every
    version). The ``*_object`` methods are the server's own operations: HTTP requests go
    through them too. They are synchronous and must run in the event loop that serves
    the emulator (from other threads, use `EmulatorThread`), or before it starts. They
    take ``namespace=None`` as ``default`` (except `list_objects`: all namespaces), raise
    `ApiError`, and return the stored dicts: treat those as read-only.
    """

    fast_path: bool = True
    requests_kept: int | None = 100  # None keeps every request in ``list(emu)``
    history_limit: int = 10_000  # watch events kept per resource for resuming watches
    namespaces: Sequence[str] = ("default",)  # pre-created Namespace objects
    core: bool = True  # serve namespaces, secrets, configmaps, events and CRDs

    specs: dict[tuple[str, str, str], ResourceSpec] = attrs.field(factory=dict, init=False)
    _rv: int = attrs.field(default=0, init=False)
    _log: dict[ResourceSpec, collections.deque[_Event]] = attrs.field(factory=dict, init=False)
    _floor: dict[ResourceSpec, int] = attrs.field(factory=dict, init=False)
    _watches: dict[ResourceSpec, set[_Watch]] = attrs.field(factory=dict, init=False)
    # Counted, not listed: bounded by the distinct calls, however long the emulator serves.
    _audit: collections.Counter[ApiCall] = attrs.field(factory=collections.Counter, init=False)
    # Written in the serving loop's thread, read and cleared from the tests' thread.
    _audit_lock: threading.Lock = attrs.field(factory=threading.Lock, init=False)

    def __attrs_post_init__(self) -> None:
        # Deliberately not calling super(): kmock's catch-all fallback reactions would answer
        # every request before ours; with none registered, unmatched requests reach `_serve`.
        if self.core:
            for spec in core_resources():
                self.add_resource(spec)
            for name in dict.fromkeys(self.namespaces):  # the same name twice is one namespace
                self.create_object("namespaces", {"metadata": {"name": name}})

    # -- registry ------------------------------------------------------------------------

    def add_resource(self, spec: ResourceSpec) -> ResourceSpec:
        self.specs[spec.group, spec.version, spec.plural] = spec
        return spec

    def load_crd(self, source: str | os.PathLike[str] | Mapping[str, Any]) -> list[ResourceSpec]:
        """Serve the resources of CRDs: a CRD dict, or a YAML file or directory of them.

        Also stores the CRD objects, so ``kubectl get crd`` lists them.
        """
        docs: list[Any]
        if isinstance(source, Mapping):
            docs = [source]
        else:
            path = pathlib.Path(source)
            files = (
                sorted([*path.glob("*.y*ml"), *path.glob("*.json")]) if path.is_dir() else [path]
            )
            docs = [doc for file in files for doc in yaml.safe_load_all(file.read_text())]
        added = []
        crds = self.specs.get((CRD_GROUP, "v1", "customresourcedefinitions"))
        for doc in docs:
            if not isinstance(doc, Mapping) or doc.get("kind") != "CustomResourceDefinition":
                continue
            added += [self.add_resource(spec) for spec in crd_resources(doc)]
            name = doc["metadata"]["name"]
            if crds is not None and self.read_object(crds, name) is None:
                self.create_object(crds, doc)
            elif crds is not None:
                self.update_object(crds, name, doc, patch_type="replace")
        return added

    def spec(self, resource: str | ResourceSpec) -> ResourceSpec:
        """Find a resource by plural, ``plural.group``, kind, short name or ``group/v/plural``."""
        if isinstance(resource, ResourceSpec):
            return resource
        wanted = resource.lower()
        for spec in self.specs.values():
            names = {spec.plural, spec.qualified, spec.kind.lower(), spec.singular}
            names |= {*spec.short_names, f"{spec.api_version}/{spec.plural}"}
            if wanted in names:
                return spec
        raise ApiError(404, "NotFound", f"the server doesn't have a resource type {resource!r}")

    # -- object operations ---------------------------------------------------------------

    def read_object(
        self, resource: str | ResourceSpec, name: str, *, namespace: str | None = None
    ) -> Obj | None:
        spec = self.spec(resource)
        return self._live(spec, self._ns(spec, namespace), name)

    def list_objects(
        self,
        resource: str | ResourceSpec,
        *,
        namespace: str | None = None,
        label_selector: str = "",
        field_selector: str = "",
    ) -> list[Obj]:
        """Objects sorted by namespace and name; ``namespace=None`` lists all namespaces."""
        spec = self.spec(resource)
        selector = _Selector(
            namespace if spec.namespaced else None,
            parse_label_selector(label_selector),
            parse_field_selector(field_selector),
        )
        objs = (obj for (ref, *_), obj in self.objects.items() if ref == spec.ref)
        found = [obj.raw for obj in objs if not obj.deleted]
        found = [obj for obj in found if selector.matches(obj)]
        return sorted(
            found, key=lambda o: (o["metadata"].get("namespace", ""), o["metadata"]["name"])
        )

    def create_object(
        self,
        resource: str | ResourceSpec,
        body: Mapping[str, Any],
        *,
        namespace: str | None = None,
        dry_run: bool = False,
        strict: bool = False,
    ) -> Obj:
        spec = self.spec(resource)
        obj = copy.deepcopy(dict(body))
        meta = obj.setdefault("metadata", {})
        if not isinstance(meta, dict):
            raise ApiError(400, "BadRequest", "metadata must be an object")
        sent = (obj.get("apiVersion", spec.api_version), obj.get("kind", spec.kind))
        if sent != (spec.api_version, spec.kind):
            message = f"{'/'.join(sent)} cannot be created at {spec.qualified}"
            raise ApiError(400, "BadRequest", message)
        if namespace and meta.get("namespace", namespace) != namespace:
            message = "the namespace of the object does not match the namespace of the request"
            raise ApiError(400, "BadRequest", message)
        ns = self._ns(spec, namespace or meta.get("namespace"))
        name = meta.get("name") or self._generate_name(spec, ns, meta.get("generateName"))
        if not name:
            message = "Required value: name or generateName is required"
            raise _invalid(spec, "", [("FieldValueRequired", "metadata.name", message)])
        name_errors = invalid_name(name, spec.name_rule)
        if name_errors:
            value = json.dumps(name, ensure_ascii=False)  # Go's %q keeps printable non-ASCII
            causes = [
                ("FieldValueInvalid", "metadata.name", f"Invalid value: {value}: {error}")
                for error in name_errors
            ]
            raise _invalid(spec, name, causes)
        if self._live(spec, ns, name) is not None:
            message = f'{spec.qualified} "{name}" already exists'
            raise ApiError(409, "AlreadyExists", message, _details(spec, name))
        for key in _SYSTEM_METADATA:
            meta.pop(key, None)
        meta.update(name=name, uid=str(uuid.uuid4()), creationTimestamp=_now(), generation=1)
        meta.pop("namespace", None)
        if ns is not None:
            meta["namespace"] = ns
        obj.update(apiVersion=spec.api_version, kind=spec.kind)
        if spec.status_subresource:
            obj.pop("status", None)
        self._admit(spec, obj, strict=strict)
        return obj if dry_run else self._commit(spec, "ADDED", obj)

    def update_object(
        self,
        resource: str | ResourceSpec,
        name: str,
        body: Any,
        *,
        namespace: str | None = None,
        patch_type: str = "merge",
        subresource: str | None = None,
        dry_run: bool = False,
        strict: bool = False,
    ) -> Obj:
        """PATCH or PUT: ``patch_type`` is ``merge``, ``json``, ``apply`` or ``replace``."""
        spec = self.spec(resource)
        ns = self._ns(spec, namespace)
        if subresource not in (None, "status") or (subresource and not spec.status_subresource):
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        old = self._live(spec, ns, name)
        if old is None and patch_type == "apply" and not subresource:
            body = _merge_patch(body, {"metadata": {"name": name, "namespace": ns}})
            return self.create_object(spec, body, namespace=ns, dry_run=dry_run, strict=strict)
        if old is None:
            raise _not_found(spec, name)

        sent_rv: Any = None
        new: Obj
        if patch_type == "json":
            try:
                new = jsonpatch.apply_patch(copy.deepcopy(old), body)
            except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException) as e:
                # kopf guards its finalizer patches with a `test` op and expects 422 on failure.
                raise ApiError(422, "Invalid", f"the patch could not be applied: {e}") from e
        elif isinstance(body, dict):
            sent_rv = (body.get("metadata") or {}).get("resourceVersion")
            replace = patch_type == "replace"
            new = copy.deepcopy(body) if replace else _merge_patch(copy.deepcopy(old), body)
        else:
            raise ApiError(400, "BadRequest", "the request body must be an object")
        if sent_rv and str(sent_rv) != old["metadata"]["resourceVersion"]:
            message = (
                f'Operation cannot be fulfilled on {spec.qualified} "{name}": the object has been '
                "modified; please apply your changes to the latest version and try again"
            )
            raise ApiError(409, "Conflict", message, _details(spec, name))
        if not isinstance(new, dict) or not isinstance(new.setdefault("metadata", {}), dict):
            raise ApiError(422, "Invalid", "the object and its metadata must be objects")

        # The status subresource and the main endpoint each change only their own part.
        if subresource == "status" or spec.status_subresource:
            theirs, ours = (new, copy.deepcopy(old)) if subresource else (old, new)
            ours.pop("status", None)
            if "status" in theirs:
                ours["status"] = copy.deepcopy(theirs["status"])
            new = ours
        meta, old_meta = new["metadata"], old["metadata"]
        for key in (*_SYSTEM_METADATA, "name", "namespace"):
            meta.pop(key, None)
            if key in old_meta:
                meta[key] = old_meta[key]
        new.update(apiVersion=spec.api_version, kind=spec.kind)
        added = set(meta.get("finalizers", [])) - set(old_meta.get("finalizers", []))
        if added and "deletionTimestamp" in meta:
            message = "Forbidden: no new finalizers can be added if the object is being deleted"
            raise _invalid(spec, name, [("FieldValueForbidden", "metadata.finalizers", message)])
        self._admit(spec, new, strict=strict)
        if new == old:
            return old  # a no-op write: no new resourceVersion, no watch event
        # Like for CRDs: any change but to metadata (and to status, if a subresource) counts.
        ignored = ("metadata", "status") if spec.status_subresource else ("metadata",)
        if any(new.get(key) != old.get(key) for key in {*new, *old} - set(ignored)):
            meta["generation"] = old_meta.get("generation", 0) + 1
        if dry_run:
            return new
        released = "deletionTimestamp" in meta and not meta.get("finalizers")
        return self._commit(spec, "DELETED" if released else "MODIFIED", new)

    def delete_object(
        self,
        resource: str | ResourceSpec,
        name: str,
        *,
        namespace: str | None = None,
        dry_run: bool = False,
    ) -> Obj:
        """Delete now, or only mark with ``deletionTimestamp`` while finalizers remain."""
        spec = self.spec(resource)
        old = self._live(spec, self._ns(spec, namespace), name)
        if old is None:
            raise _not_found(spec, name)
        new = copy.deepcopy(old)
        if not old["metadata"].get("finalizers"):
            return new if dry_run else self._commit(spec, "DELETED", new)
        if "deletionTimestamp" in old["metadata"] or dry_run:
            return old
        meta = new["metadata"]
        meta.update(deletionTimestamp=_now(), deletionGracePeriodSeconds=0)
        meta["generation"] = meta.get("generation", 0) + 1
        return self._commit(spec, "MODIFIED", new)

    def take_audit(self) -> collections.Counter[ApiCall]:
        """Every request served over HTTP since the last call, counted; clears the log.

        Safe from any thread. Calls of the ``*_object`` methods are not requests: not here.
        """
        with self._audit_lock:
            taken, self._audit = self._audit, collections.Counter()
        return taken

    def compact(self) -> None:
        """Forget all watch history: resuming from any older resourceVersion gets 410 Gone."""
        for spec in self.specs.values():
            self._log.pop(spec, None)
            self._floor[spec] = self._rv

    def watched(self, plural: str) -> bool:
        """Whether a watch stream on `plural` is open (its client is up and listening)."""
        return any(spec.plural == plural and watches for spec, watches in self._watches.items())

    def close_watches(self) -> None:
        """End every open watch stream (before the server shuts down)."""
        for watches in self._watches.values():
            for watch in watches:
                watch.queue.put_nowait(None)

    # -- internals -----------------------------------------------------------------------

    def _ns(self, spec: ResourceSpec, namespace: str | None) -> str | None:
        return (namespace or "default") if spec.namespaced else None

    def _live(self, spec: ResourceSpec, ns: str | None, name: str) -> Obj | None:
        key = (spec.ref, ns, name)
        if key not in self.objects or self.objects[key].deleted:
            return None
        raw: Obj = self.objects[key].raw
        return raw

    def _generate_name(self, spec: ResourceSpec, ns: str | None, prefix: str | None) -> str | None:
        while prefix:
            name = prefix + "".join(random.choices("bcdfghjklmnpqrstvwxz2456789", k=5))
            if self._live(spec, ns, name) is None:
                return name
        return None

    def _admit(self, spec: ResourceSpec, obj: Obj, *, strict: bool) -> None:
        """Per-kind conversions, then the CRD schema: prune, default, validate."""
        if spec.plural == "secrets" and spec.group == "":
            obj.setdefault("type", "Opaque")
            for key, value in (obj.pop("stringData", None) or {}).items():
                obj.setdefault("data", {})[key] = base64.b64encode(str(value).encode()).decode()
        if spec.plural == "namespaces" and spec.group == "":
            obj.setdefault("status", {"phase": "Active"})
        if spec.group == CRD_GROUP and spec.plural == "customresourcedefinitions":
            try:
                crd_resources(obj)
            except (KeyError, TypeError, AttributeError) as e:
                message = f"not a valid CustomResourceDefinition: missing or malformed {e}"
                raise ApiError(422, "Invalid", message) from e
            conditions = [{"type": t, "status": "True"} for t in ("NamesAccepted", "Established")]
            obj["status"] = {"acceptedNames": obj["spec"]["names"], "conditions": conditions}
        if spec.schema is None or spec.validator is None:
            return
        unknown = _prune(spec.schema, obj)
        if strict and unknown:
            fields = ", ".join(f'unknown field "{field}"' for field in unknown)
            message = f'{spec.kind} in version "{spec.version}" cannot be handled as a '
            raise ApiError(
                400, "BadRequest", f"{message}{spec.kind}: strict decoding error: {fields}"
            )
        _default(spec.schema, obj)
        causes = _causes(spec.validator, obj)
        if causes:
            raise _invalid(spec, obj["metadata"].get("name", ""), causes)

    def _commit(self, spec: ResourceSpec, event_type: str, obj: Obj) -> Obj:
        self._rv += 1
        obj["metadata"]["resourceVersion"] = str(self._rv)
        key = (spec.ref, obj["metadata"].get("namespace"), obj["metadata"]["name"])
        if key not in self.objects:
            self.objects[key] = obj
        else:
            self.objects[key].history.append(None if event_type == "DELETED" else obj)
        if spec.group == CRD_GROUP and spec.plural == "customresourcedefinitions":
            for served in crd_resources(obj) if event_type != "DELETED" else []:
                self.add_resource(served)
        log = self._log.setdefault(spec, collections.deque())
        if len(log) >= self.history_limit:
            self._floor[spec] = log.popleft().rv
        event = _Event(self._rv, event_type, obj)
        log.append(event)
        for watch in self._watches.get(spec, ()):
            if watch.selector.matches(obj):
                watch.queue.put_nowait(event)
        return obj

    # -- HTTP ----------------------------------------------------------------------------

    async def _handle(self, request: kmock.Request) -> aiohttp.web.StreamResponse:
        call = api_call(request)
        with self._audit_lock:
            self._audit[call] += 1
        if self.requests_kept is not None and len(self._requests) > self.requests_kept:
            del self._requests[: len(self._requests) - self.requests_kept]
        if not self.fast_path:
            with contextlib.suppress(NotImplementedError):  # no reaction matched
                response: aiohttp.web.StreamResponse = await kmock.RawHandler._handle(self, request)
                return response
        try:
            return await self._serve(request)
        except ApiError as e:
            return aiohttp.web.json_response(e.status(), status=e.code)

    async def _serve(self, request: kmock.Request) -> aiohttp.web.StreamResponse:
        res, params = request.resource, request.params
        if res is None or res.version is None or res.plural is None:
            return _respond(self._serve_discovery(request))
        spec = self.specs.get((res.group or "", res.version, res.plural))
        if spec is None or (request.namespace is not None and not spec.namespaced):
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        ns, name, sub = request.namespace, request.name, request.subresource
        no_ns = spec.namespaced and ns is None and (name or request.method != "GET")
        if no_ns or sub not in (None, "status") or (sub and not spec.status_subresource):
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        method, dry_run = request.method.value, "dryRun" in params
        strict = params.get("fieldValidation") == "Strict"
        accept = _header(request, "accept")
        table = "as=Table" in accept and "g=meta.k8s.io" in accept
        include = params.get("includeObject", "Metadata")

        if method == "GET" and params.get("watch") in ("true", "1"):
            return await self._watch(request, spec, name, table=table)
        if method == "GET" and name is None:
            items = self.list_objects(
                spec,
                namespace=ns,
                label_selector=params.get("labelSelector", ""),
                field_selector=params.get("fieldSelector", ""),
            )
            if table:
                return _respond(_table(spec, items, self._rv, include))
            listing = {"apiVersion": spec.api_version, "kind": f"{spec.kind}List", "items": items}
            return _respond({**listing, "metadata": {"resourceVersion": str(self._rv)}})
        if method == "GET" and name is not None:
            obj = self.read_object(spec, name, namespace=ns)
            if obj is None:
                raise _not_found(spec, name)
            return _respond(_table(spec, [obj], self._rv, include) if table else obj)
        body = _body(request)
        if method == "POST" and name is None:
            if not isinstance(body, dict):
                raise ApiError(400, "BadRequest", "the request body must be an object")
            obj = self.create_object(spec, body, namespace=ns, dry_run=dry_run, strict=strict)
            return _respond(obj, status=201)
        if method in ("PATCH", "PUT") and name is not None:
            # Strategic-merge patches (kubectl on built-in kinds) are approximated as merges.
            content_type = _header(request, "content-type")
            patch_type = next((t for k, t in _PATCH_TYPES if k in content_type), "merge")
            patch_type = "replace" if method == "PUT" else patch_type
            obj = self.update_object(
                spec, name, body, namespace=ns, patch_type=patch_type,
                subresource=sub, dry_run=dry_run, strict=strict,
            )  # fmt: skip
            return _respond(obj)
        if method == "DELETE" and name is not None and sub is None:
            return _respond(self.delete_object(spec, name, namespace=ns, dry_run=dry_run))
        raise ApiError(405, "MethodNotAllowed", f"{method} is not supported on {request.url.path}")

    async def _watch(
        self, request: kmock.Request, spec: ResourceSpec, name: str | None, *, table: bool
    ) -> aiohttp.web.StreamResponse:
        params = request.params
        fields = parse_field_selector(params.get("fieldSelector", ""))
        if name is not None:
            fields.append(("metadata.name", True, name))
        labels = parse_label_selector(params.get("labelSelector", ""))
        selector = _Selector(request.namespace, labels, fields)
        since_text = params.get("resourceVersion", "")
        try:
            since = int(since_text) if since_text not in ("", "0") else None
            timeout = float(params["timeoutSeconds"]) if "timeoutSeconds" in params else None
        except ValueError as e:
            raise ApiError(400, "BadRequest", f"invalid watch parameter: {e}") from e

        # Snapshot and subscribe with no await in between, so that no event is missed.
        watch: _Watch | None = _Watch(selector)
        initial: list[tuple[str, Obj]]
        if since is not None and since < self._floor.get(spec, 0):
            message = f"too old resource version: {since} ({self._floor[spec]})"
            initial, watch = [("ERROR", _status(410, "Expired", message))], None
        elif since is not None:
            log = self._log.get(spec, ())
            initial = [(e.type, e.obj) for e in log if e.rv > since and selector.matches(e.obj)]
        else:
            items = self.list_objects(spec, namespace=request.namespace)
            initial = [("ADDED", obj) for obj in items if selector.matches(obj)]
            if params.get("sendInitialEvents") == "true":
                annotations = {"k8s.io/initial-events-end": "true"}
                meta = {"resourceVersion": str(self._rv), "annotations": annotations}
                bookmark = {"kind": spec.kind, "apiVersion": spec.api_version, "metadata": meta}
                initial.append(("BOOKMARK", bookmark))
        if watch is not None:
            self._watches.setdefault(spec, set()).add(watch)

        response = aiohttp.web.StreamResponse(headers={"Content-Type": "application/json"})
        raw_request = request._raw_request
        assert raw_request is not None  # only None for requests built by hand in kmock's tests
        await response.prepare(raw_request)

        async def send(event_type: str, obj: Obj) -> None:
            if table and event_type in ("ADDED", "MODIFIED", "DELETED"):
                obj = _table(spec, [obj], self._rv, params.get("includeObject", "Metadata"))
            await response.write(json.dumps({"type": event_type, "object": obj}).encode() + b"\n")

        try:
            async with asyncio.timeout(timeout):
                for event_type, obj in initial:
                    await send(event_type, obj)
                while watch is not None and (event := await watch.queue.get()) is not None:
                    await send(event.type, event.obj)
        except (TimeoutError, ConnectionResetError):
            pass  # the watch ends: by timeoutSeconds, or the client went away
        finally:
            if watch is not None:
                self._watches[spec].discard(watch)
        with contextlib.suppress(ConnectionResetError):
            await response.write_eof()
        return response

    def _serve_discovery(self, request: kmock.Request) -> Obj | str:
        path, res = request.url.path.rstrip("/") or "/", request.resource
        groups: dict[str, list[str]] = {}
        for group, version, _ in self.specs:
            if version not in groups.setdefault(group, []):
                groups[group].append(version)
        if path == "/version":
            return {**SERVER_VERSION, "platform": "linux/amd64"}
        if path in ("/healthz", "/livez", "/readyz"):
            return "ok"
        if path == "/api":
            return {"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": []}
        if path == "/apis":
            group_docs = [_group_doc(g, vs) for g, vs in groups.items() if g]
            return {"kind": "APIGroupList", "apiVersion": "v1", "groups": group_docs}
        if res is not None and res.group in groups and res.version is None:
            return {
                "kind": "APIGroup",
                "apiVersion": "v1",
                **_group_doc(res.group, groups[res.group]),
            }
        if res is not None and res.version in groups.get(res.group or "", ()):
            return self._resource_list(res.group or "", res.version or "")
        gvs = {f"apis/{g}/{v}" if g else f"api/{v}" for g, vs in groups.items() for v in vs}
        if path == "/":
            return {"paths": sorted({"/api", "/apis", "/version", *(f"/{gv}" for gv in gvs)})}
        if path == "/openapi/v3":
            return {"paths": {gv: {"serverRelativeURL": f"/openapi/v3/{gv}"} for gv in gvs}}
        if path.removeprefix("/openapi/v3/") in gvs:
            return self._openapi(path.removeprefix("/openapi/v3/"))
        raise ApiError(404, "NotFound", "the server could not find the requested resource")

    def _resource_list(self, group: str, version: str) -> Obj:
        resources: list[Obj] = []
        for spec in self.specs.values():
            if (spec.group, spec.version) != (group, version):
                continue
            verbs = ["create", "delete", "get", "list", "patch", "update", "watch"]
            common = {"kind": spec.kind, "namespaced": spec.namespaced}
            resources.append({
                **common, "name": spec.plural, "singularName": spec.singular, "verbs": verbs,
                "shortNames": list(spec.short_names), "categories": list(spec.categories),
            })  # fmt: skip
            if spec.status_subresource:  # no short names here: kubectl would warn of ambiguity
                status_verbs = ["get", "patch", "update"]
                resources.append({**common, "name": f"{spec.plural}/status", "verbs": status_verbs})
        group_version = f"{group}/{version}" if group else version
        return {
            "kind": "APIResourceList",
            "apiVersion": "v1",
            "groupVersion": group_version,
            "resources": resources,
        }

    def _openapi(self, gv: str) -> Obj:
        """A minimal OpenAPI v3 document, enough for kubectl's validation and ``explain``.

        kubectl validates on the server (``fieldValidation=Strict``) only if the PATCH
        operation of the kind declares that query parameter; otherwise it validates on the
        client against ``/openapi/v2``, which is not served.
        """
        paths: Obj = {}
        schemas: Obj = {}
        for spec in self.specs.values():
            if gv != (f"apis/{spec.group}/{spec.version}" if spec.group else "api/v1"):
                continue
            gvk = {"group": spec.group, "version": spec.version, "kind": spec.kind}
            ref_name = ".".join([*reversed(spec.group.split(".")), spec.version, spec.kind])
            schema = spec.schema or {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
            schemas[ref_name.lstrip(".")] = {**schema, "x-kubernetes-group-version-kind": [gvk]}
            validation = {"name": "fieldValidation", "in": "query", "schema": {"type": "string"}}
            operation = {
                "parameters": [validation],
                "x-kubernetes-group-version-kind": gvk,
                "responses": {"200": {"description": "OK"}},
            }
            for namespace in ("{namespace}", None) if spec.namespaced else (None,):
                collection = spec.path(namespace)
                paths[collection] = {"post": operation}
                paths[collection + "/{name}"] = {"patch": operation, "put": operation}
        return {
            "openapi": "3.0.0",
            "info": {"title": "alertsim", "version": SERVER_VERSION["gitVersion"]},
            "paths": paths,
            "components": {"schemas": schemas},
        }


_PATCH_TYPES = (("json-patch", "json"), ("apply-patch", "apply"))  # by Content-Type


def _group_doc(group: str, versions: list[str]) -> Obj:
    gvs = [{"groupVersion": f"{group}/{v}", "version": v} for v in versions]
    return {"name": group, "versions": gvs, "preferredVersion": gvs[0]}


def _header(request: kmock.Request, name: str) -> str:
    return next((str(v) for k, v in request.headers.items() if k.lower() == name), "")


def _body(request: kmock.Request) -> Any:
    if not request.body:
        return None
    if "protobuf" in _header(request, "content-type"):
        # kubectl's generators (`create secret|configmap|namespace`) send protobuf only.
        message = "protobuf is not supported: use `kubectl apply -f` or JSON/YAML bodies"
        raise ApiError(415, "UnsupportedMediaType", message)
    try:
        return json.loads(request.body)
    except ValueError:
        try:  # server-side apply may send YAML
            return yaml.safe_load(request.body)
        except yaml.YAMLError as e:
            raise ApiError(400, "BadRequest", f"the body is neither JSON nor YAML: {e}") from e


def _respond(data: Obj | str, status: int = 200) -> aiohttp.web.StreamResponse:
    if isinstance(data, str):
        return aiohttp.web.Response(text=data, status=status)
    return aiohttp.web.json_response(data, status=status)


# --------------------------------------------------------------------------------------------
# Serving: in-process, in a background thread, and from the command line


@contextlib.asynccontextmanager
async def serve(emu: StrictEmulator, host: str = "127.0.0.1", port: int = 0) -> AsyncIterator[str]:
    """Serve the emulator over HTTP until exited; yields the base URL.

    Uses aiohttp directly rather than `kmock.Server`: that one also swaps aiohttp's
    process-wide DNS resolver and must be exited in LIFO order, which breaks when several
    emulators or test threads start and stop independently.
    """
    async with emu:
        # Cancel handlers (watches) on hang-up; no access log: it would flood kopf's test output.
        server = aiohttp.web.Server(emu, handler_cancellation=True, access_log=None)
        runner = aiohttp.web.ServerRunner(server, shutdown_timeout=1.0)
        await runner.setup()
        try:
            site = aiohttp.web.TCPSite(runner, host, port)
            await site.start()
            bound_host, bound_port = runner.addresses[0][:2]
            yield f"http://{bound_host}:{bound_port}"
        finally:
            emu.close_watches()
            await runner.cleanup()


class EmulatorThread:
    """Serve a `StrictEmulator` from a background thread with its own event loop.

    The ``*_object`` helpers run the emulator's operations in its loop and return deep
    copies. A sync pytest fixture for tests that run kopf under `KopfRunner`::

        @pytest.fixture
        def k8s(tmp_path, monkeypatch):
            emu = StrictEmulator()
            emu.load_crd("crds/")
            with EmulatorThread(emu) as thread:
                config = str(thread.write_kubeconfig(tmp_path / "kubeconfig"))
                monkeypatch.setenv("KUBECONFIG", config)
                # kopf logs in via the kubernetes client, which read $KUBECONFIG at import.
                kube_config = kubernetes.config.kube_config
                monkeypatch.setattr(kube_config, "KUBE_CONFIG_DEFAULT_LOCATION", config)
                yield thread
    """

    def __init__(
        self, emu: StrictEmulator | None = None, *, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        self.emu = emu if emu is not None else StrictEmulator()
        self.url = ""
        self._host, self._port = host, port
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="kube-emulator", daemon=True)

    def start(self) -> Self:
        self._thread.start()
        self._ready.wait(timeout=10)
        if self._error is not None or not self.url:
            raise RuntimeError("the Kubernetes emulator did not start") from self._error
        return self

    def close(self) -> None:
        if self._loop is not None and self._stop is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.close()

    def _run(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
        try:
            async with serve(self.emu, self._host, self._port) as url:
                self.url = url
                self._ready.set()
                await self._stop.wait()
        except Exception as e:  # reported by start(); an exception escaping a thread is lost
            self._error = e
        finally:
            self._ready.set()

    def call(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run ``fn`` in the emulator's event loop and return its result (or raise)."""
        if self._loop is None:
            raise RuntimeError("the emulator thread is not running")

        async def run() -> T:
            return copy.deepcopy(fn(*args, **kwargs))

        return asyncio.run_coroutine_threadsafe(run(), self._loop).result(timeout=10)

    def read_object(self, resource: str, name: str, namespace: str | None = None) -> Obj | None:
        return self.call(self.emu.read_object, resource, name, namespace=namespace)

    def list_objects(
        self, resource: str, namespace: str | None = None, **selectors: str
    ) -> list[Obj]:
        return self.call(self.emu.list_objects, resource, namespace=namespace, **selectors)

    def create_object(
        self, resource: str, body: Mapping[str, Any], namespace: str | None = None
    ) -> Obj:
        return self.call(self.emu.create_object, resource, body, namespace=namespace)

    def update_object(self, resource: str, name: str, body: Any, **options: Any) -> Obj:
        return self.call(self.emu.update_object, resource, name, body, **options)

    def delete_object(self, resource: str, name: str, namespace: str | None = None) -> Obj:
        return self.call(self.emu.delete_object, resource, name, namespace=namespace)

    def write_kubeconfig(
        self, path: str | os.PathLike[str], namespace: str = "default"
    ) -> pathlib.Path:
        return write_kubeconfig(path, self.url, namespace)


def write_kubeconfig(
    path: str | os.PathLike[str], url: str, namespace: str = "default"
) -> pathlib.Path:
    """Write a kubeconfig whose current context points at ``url`` (any token is accepted)."""
    context = {"cluster": "alertsim", "user": "alertsim", "namespace": namespace}
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "alertsim", "cluster": {"server": url}}],
        "users": [{"name": "alertsim", "user": {"token": "alertsim"}}],
        "contexts": [{"name": "alertsim", "context": context}],
        "current-context": "alertsim",
    }
    path = pathlib.Path(path)
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


DEFAULT_PORT = 18080  # the port `alertsim sandbox` serves it on, too


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="alertsim kubeapi", description="Serve a Kubernetes API emulator until interrupted."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        help=f"0 picks a free port (default {DEFAULT_PORT})",
    )
    parser.add_argument("--crds", action="append", default=[], help="a CRD file or directory")
    parser.add_argument(
        "--namespace",
        action="append",
        default=[],
        help="pre-create it, besides default (repeatable)",
    )
    parser.add_argument("--kubeconfig", help="write a kubeconfig pointing here")
    return parser


def emulator_from_args(args: argparse.Namespace) -> StrictEmulator:
    emu = StrictEmulator(namespaces=["default", *args.namespace])
    for source in args.crds:
        emu.load_crd(source)
    return emu


def main(argv: Sequence[str] | None = None) -> None:
    """Serve an emulator until SIGINT or SIGTERM."""
    args = build_parser().parse_args(argv)

    async def run() -> None:
        emu = emulator_from_args(args)
        stop = asyncio.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            asyncio.get_running_loop().add_signal_handler(signum, stop.set)
        async with serve(emu, args.host, args.port) as url:
            if args.kubeconfig:
                write_kubeconfig(args.kubeconfig, url)
            print(f"Kubernetes API emulator serving on {url}", flush=True)
            await stop.wait()

    asyncio.run(run())


if __name__ == "__main__":
    main()
