"""The emulator's audit log: every HTTP request, as the verb and resource RBAC would check."""

from __future__ import annotations

import json
import pathlib
import threading
from collections import Counter
from collections.abc import Iterator

import httpx
import kubernetes
import pytest

from alertsim.kubeapi import ApiCall, EmulatorThread, StrictEmulator

WIDGET_CRD = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "widgets.example.dev"},
    "spec": {
        "group": "example.dev",
        "names": {"kind": "Widget", "plural": "widgets"},
        "scope": "Namespaced",
        "versions": [
            {
                "name": "v1",
                "served": True,
                "storage": True,
                "subresources": {"status": {}},
                "schema": {
                    "openAPIV3Schema": {
                        "type": "object",
                        "x-kubernetes-preserve-unknown-fields": True,
                    }
                },
            }
        ],
    },
}
WIDGETS = "/apis/example.dev/v1/namespaces/default/widgets"
AGENT = "audit-test/1.0"
MERGE = {"Content-Type": "application/merge-patch+json"}


def widget(name: str) -> dict[str, object]:
    return {"apiVersion": "example.dev/v1", "kind": "Widget", "metadata": {"name": name}}


def call(verb: str, group: str, resource: str, sub: str = "", namespaced: bool = True) -> ApiCall:
    return ApiCall(verb, group, resource, sub, namespaced, AGENT)


@pytest.fixture
def k8s() -> Iterator[EmulatorThread]:
    emu = StrictEmulator()
    emu.load_crd(WIDGET_CRD)
    with EmulatorThread(emu) as thread:
        yield thread


@pytest.fixture
def http(k8s: EmulatorThread) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=k8s.url, timeout=5, headers={"User-Agent": AGENT}) as client:
        yield client


def test_each_request_is_recorded_with_its_kubernetes_verb(
    k8s: EmulatorThread, http: httpx.Client
) -> None:
    assert http.post(WIDGETS, json=widget("w1")).status_code == 201
    assert http.get(f"{WIDGETS}/w1").status_code == 200
    assert http.get(WIDGETS).status_code == 200
    assert http.get("/apis/example.dev/v1/widgets").status_code == 200
    assert http.get(WIDGETS, params={"watch": "true", "timeoutSeconds": "0"}).status_code == 200
    watch_one = {"watch": "1", "timeoutSeconds": "0"}
    assert http.get(f"{WIDGETS}/w1", params=watch_one).status_code == 200
    assert http.put(f"{WIDGETS}/w1", json=widget("w1")).status_code == 200
    status = json.dumps({"status": {"phase": "on"}})
    assert http.patch(f"{WIDGETS}/w1/status", content=status, headers=MERGE).status_code == 200
    assert http.patch(f"{WIDGETS}/w1", content="{}", headers=MERGE).status_code == 200
    assert http.delete(f"{WIDGETS}/w1").status_code == 200
    assert http.delete(WIDGETS).status_code == 405  # not emulated, but still asked for

    assert k8s.emu.take_audit() == Counter(
        {
            call("create", "example.dev", "widgets"): 1,
            call("get", "example.dev", "widgets"): 1,
            call("list", "example.dev", "widgets"): 1,
            call("list", "example.dev", "widgets", namespaced=False): 1,
            call("watch", "example.dev", "widgets"): 2,
            call("update", "example.dev", "widgets"): 1,
            call("patch", "example.dev", "widgets", "status"): 1,
            call("patch", "example.dev", "widgets"): 1,
            call("delete", "example.dev", "widgets"): 1,
            call("deletecollection", "example.dev", "widgets"): 1,
        }
    )


def test_core_and_cluster_scoped_resources_and_refused_requests(
    k8s: EmulatorThread, http: httpx.Client
) -> None:
    # RBAC is checked before the object is looked up: a 404 needed the permission too.
    assert http.get("/api/v1/namespaces/default/secrets/missing").status_code == 404
    assert http.get("/api/v1/namespaces/default").status_code == 200
    assert http.get("/api/v1/namespaces").status_code == 200
    crds = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
    assert http.get(crds, params={"watch": "true", "timeoutSeconds": "0"}).status_code == 200

    assert set(k8s.emu.take_audit()) == {
        call("get", "", "secrets"),
        call("get", "", "namespaces", namespaced=False),
        call("list", "", "namespaces", namespaced=False),
        call("watch", "apiextensions.k8s.io", "customresourcedefinitions", namespaced=False),
    }


def test_discovery_is_recorded_as_non_resource_urls(
    k8s: EmulatorThread, http: httpx.Client
) -> None:
    for path in ("/version", "/api", "/api/v1", "/apis", "/apis/example.dev/v1"):
        assert http.get(path).status_code == 200
    assert set(k8s.emu.take_audit()) == {
        ApiCall("get", "", "", "", False, AGENT, path)
        for path in ("/version", "/api", "/api/v1", "/apis", "/apis/example.dev/v1")
    }


def test_taking_the_audit_clears_it_and_direct_calls_are_not_requests(
    k8s: EmulatorThread, http: httpx.Client
) -> None:
    k8s.create_object("widgets", widget("direct"), namespace="default")
    assert k8s.read_object("widgets", "direct", namespace="default") is not None
    assert k8s.emu.take_audit() == Counter()

    http.get(WIDGETS)
    assert k8s.emu.take_audit() == Counter({call("list", "example.dev", "widgets"): 1})
    assert k8s.emu.take_audit() == Counter()


def test_the_kubernetes_client_shows_its_user_agent(
    k8s: EmulatorThread, tmp_path: pathlib.Path
) -> None:
    config = k8s.write_kubeconfig(tmp_path / "kubeconfig")
    api = kubernetes.config.new_client_from_config(config_file=str(config))  # type: ignore[no-untyped-call]
    with api:
        kubernetes.client.CoreV1Api(api).list_namespaced_secret("default")
    [(recorded, count)] = k8s.emu.take_audit().items()
    assert recorded._replace(user_agent="") == ApiCall("list", "", "secrets", "", True, "")
    assert recorded.user_agent.startswith("OpenAPI-Generator/")
    assert count == 1


def test_recording_and_taking_from_several_threads_loses_nothing(
    k8s: EmulatorThread,
) -> None:
    per_thread, threads = 25, 4
    taken: Counter[ApiCall] = Counter()
    done = threading.Event()

    def send() -> None:
        with httpx.Client(base_url=k8s.url, timeout=5, headers={"User-Agent": AGENT}) as client:
            for _ in range(per_thread):
                assert client.get(WIDGETS).status_code == 200

    def take() -> None:
        while not done.is_set():
            taken.update(k8s.emu.take_audit())

    taker = threading.Thread(target=take)
    taker.start()
    senders = [threading.Thread(target=send) for _ in range(threads)]
    for sender in senders:
        sender.start()
    for sender in senders:
        sender.join()
    done.set()
    taker.join()
    taken.update(k8s.emu.take_audit())
    assert taken == Counter({call("list", "example.dev", "widgets"): per_thread * threads})
