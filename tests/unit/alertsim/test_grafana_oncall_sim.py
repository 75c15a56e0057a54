"""The Grafana OnCall simulator answers as the platform notes say the engine does."""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from alertsim.core import FaultKind, FaultRule, ManualClock, RateLimiter, RequestLog
from alertsim.grafana_oncall import (
    GrafanaOnCallSimulator,
    Rate,
    build_parser,
    is_valid_jinja,
    simulator_from_args,
)
from alertsim.server import SimulatorServer, SimulatorThread

BASE = "http://oncall.test"
TOKEN = "editor-token"
VIEWER = "viewer-token"
TEAM_A = "TAAAAAAAAAAAA"
TEAM_B = "TBBBBBBBBBBBB"
INTEGRATIONS = "/api/v1/integrations/"
ID = re.compile(r"^C[A-NP-Z1-9]{12}$")
DUPLICATE = {"detail": "An integration with this name already exists for this team"}


@pytest.fixture
def sim(clock: ManualClock) -> GrafanaOnCallSimulator:
    return GrafanaOnCallSimulator(
        tokens={TOKEN: "editor", VIEWER: "viewer"},
        teams={TEAM_A, TEAM_B},
        base_url=BASE,
        clock=clock,
        seed=7,
        slack_channels={"C0SLACK"},
    )


def client_for(sim: GrafanaOnCallSimulator, token: str | None = TOKEN) -> httpx.AsyncClient:
    headers = {"Authorization": token} if token is not None else {}
    transport = httpx.MockTransport(sim.handle)
    return httpx.AsyncClient(transport=transport, base_url=BASE, headers=headers)


@pytest.fixture
async def api(sim: GrafanaOnCallSimulator) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(sim) as client:
        yield client


async def create(api: httpx.AsyncClient, **body: Any) -> dict[str, Any]:
    response = await api.post(INTEGRATIONS, json={"type": "webhook", **body})
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


# -- authentication and permissions ------------------------------------------------------------


@pytest.mark.parametrize("header", [None, "wrong", f"Bearer {TOKEN}"])
async def test_missing_bad_or_bearer_token_is_403_invalid_token(
    sim: GrafanaOnCallSimulator, header: str | None
) -> None:
    async with client_for(sim, header) as client:
        response = await client.get(INTEGRATIONS)
    assert response.status_code == 403
    assert response.json() == {"detail": "Invalid token."}


async def test_viewer_reads_but_cannot_write(sim: GrafanaOnCallSimulator) -> None:
    async with client_for(sim, VIEWER) as viewer:
        assert (await viewer.get(INTEGRATIONS)).status_code == 200
        response = await viewer.post(INTEGRATIONS, json={"type": "webhook"})
    assert response.status_code == 403
    assert response.json() == {"detail": "You do not have permission to perform this action."}
    assert sim.integrations() == []


# -- create ------------------------------------------------------------------------------------


async def test_create_webhook_returns_full_engine_shape(api: httpx.AsyncClient) -> None:
    body = await create(api)

    assert ID.match(body["id"])
    assert body["name"] == "Webhook :blush:"
    assert body["type"] == "webhook"
    assert re.fullmatch(rf"{BASE}/integrations/v1/webhook/[A-Za-z0-9]{{25}}/", body["link"])
    assert body["heartbeat"] == {"link": f"{body['link']}heartbeat/"}
    assert body["inbound_email"] is None
    assert body["team_id"] is None
    assert body["description_short"] is None
    assert (body["maintenance_mode"], body["maintenance_started_at"]) == (None, None)
    route = body["default_route"]
    assert re.fullmatch(r"R[A-NP-Z1-9]{12}", route["id"])
    assert route["slack"] == {"channel_id": None, "enabled": True}
    assert route["telegram"] == {"id": None, "enabled": False}
    assert route["escalation_chain_id"] is None
    for backend in ("mobile_app", "mobile_app_critical", "email", "webhook"):
        assert route[backend] == {"id": None, "enabled": False}
    templates = body["templates"]
    assert list(templates) == [
        *("grouping_key", "resolve_signal", "acknowledge_signal", "source_link"),
        *("slack", "web", "sms", "phone_call", "telegram", "mobile_app", "email", "webhook"),
    ]
    assert templates["slack"] == {"title": None, "message": None, "image_url": None}
    assert templates["mobile_app"] == {"title": None, "message": None}
    assert "msteams" not in templates


async def test_default_names_count_every_integration_ever_created(
    api: httpx.AsyncClient,
) -> None:
    first = await create(api)
    await api.delete(f"{INTEGRATIONS}{first['id']}/")
    second = await create(api, type="manual")
    assert second["name"] == "Manual :ghost:"


async def test_an_unnamed_formatted_webhook_has_the_engines_name_and_a_heartbeat(
    api: httpx.AsyncClient,
) -> None:
    body = await create(api, type="formatted_webhook")
    assert body["name"] == "Formatted webhook :blush:"  # lower-case "webhook"
    assert body["link"].startswith(f"{BASE}/integrations/v1/formatted_webhook/")
    assert body["heartbeat"] == {"link": f"{body['link']}heartbeat/"}


@pytest.mark.parametrize(
    ("kind", "link", "heartbeat", "email"),
    [
        ("manual", False, False, False),
        ("inbound_email", False, False, True),
        ("alertmanager", True, True, False),
        ("formatted_webhook", True, True, False),
        ("grafana", True, False, False),
    ],
)
async def test_link_heartbeat_and_inbound_email_depend_on_type(
    api: httpx.AsyncClient, kind: str, link: bool, heartbeat: bool, email: bool
) -> None:
    body = await create(api, type=kind)
    assert (body["link"] is not None) is link
    assert (body["heartbeat"] is not None) is heartbeat
    assert (body["inbound_email"] is not None) is email


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"type": "nagios"}, {"detail": "Invalid integration type"}),
        ({"type": "legacy_alertmanager"}, {"detail": "This integration type is deprecated"}),
        ({"type": "direct_paging"}, {"detail": "Direct paging integrations can't be created"}),
        ({}, {"type": ["This field is required."]}),
        ({"type": None}, {"type": ["This field may not be null."]}),
        ({"type": ""}, {"type": ["This field may not be blank."]}),
        ({"type": "webhook", "name": "  "}, {"name": ["This field may not be blank."]}),
        (
            {"type": "webhook", "description_short": "x" * 251},
            {"description_short": ["Ensure this field has no more than 250 characters."]},
        ),
        ({"type": "webhook", "team_id": "TNOPE"}, {"team_id": ["Object does not exist"]}),
        (
            {"type": "webhook", "templates": "x"},
            {"templates": ['Expected a dictionary of items but got type "str".']},
        ),
        (
            {"type": "webhook", "default_route": ["x"]},
            {"default_route": ['Expected a dictionary of items but got type "list".']},
        ),
        (
            {"type": "webhook", "default_route": {"escalation_chain_id": "FNOPE"}},
            {"escalation_chain_id": ["Object does not exist"]},
        ),
        (
            {"type": "webhook", "default_route": {"slack": {"channel_id": "CNOPE"}}},
            {"detail": "Slack channel does not exist"},
        ),
    ],
)
async def test_create_errors_leave_nothing_behind(
    api: httpx.AsyncClient, sim: GrafanaOnCallSimulator, body: dict[str, Any], error: Any
) -> None:
    response = await api.post(INTEGRATIONS, json=body)
    assert response.status_code == 400
    assert response.json() == error
    assert sim.integrations() == []


async def test_field_errors_come_back_together(api: httpx.AsyncClient) -> None:
    response = await api.post(
        INTEGRATIONS,
        json={"name": None, "description_short": "x" * 300, "team_id": "TNOPE", "templates": 1},
    )
    assert response.status_code == 400
    assert response.json() == {
        "name": ["This field may not be null."],
        "description_short": ["Ensure this field has no more than 250 characters."],
        "team_id": ["Object does not exist"],
        "type": ["This field is required."],
        "templates": ['Expected a dictionary of items but got type "int".'],
    }


async def test_a_detail_error_wins_over_collected_field_errors(api: httpx.AsyncClient) -> None:
    response = await api.post(INTEGRATIONS, json={"name": None, "type": "nagios"})
    assert response.json() == {"detail": "Invalid integration type"}


async def test_names_are_trimmed_numbers_accepted_and_long_names_stored(
    api: httpx.AsyncClient,
) -> None:
    assert (await create(api, name="  padded  "))["name"] == "padded"
    assert (await create(api, name=42))["name"] == "42"
    long_name = "n" * 151
    assert (await create(api, name=long_name))["name"] == long_name


async def test_name_is_unique_per_team(api: httpx.AsyncClient) -> None:
    await create(api, name="prod")
    await create(api, name="prod", team_id=TEAM_A)  # another team: fine
    response = await api.post(INTEGRATIONS, json={"type": "manual", "name": "prod"})
    assert response.status_code == 400
    assert response.json() == DUPLICATE
    assert (await create(api, name="Prod"))["name"] == "Prod"  # case-sensitive


async def test_create_with_escalation_chain_and_team(
    api: httpx.AsyncClient, sim: GrafanaOnCallSimulator
) -> None:
    chain = sim.add_escalation_chain("team-a", team_id=TEAM_A)
    body = await create(api, team_id=TEAM_A, default_route={"escalation_chain_id": chain})
    assert body["default_route"]["escalation_chain_id"] == chain
    assert body["team_id"] == TEAM_A

    # The engine does not compare the chain's team with the integration's.
    elsewhere = await create(api, default_route={"escalation_chain_id": chain})
    assert (elsewhere["team_id"], elsewhere["default_route"]["escalation_chain_id"]) == (
        None,
        chain,
    )


async def test_put_accepts_an_escalation_chain_of_another_team(
    api: httpx.AsyncClient, sim: GrafanaOnCallSimulator
) -> None:
    theirs = sim.add_escalation_chain("team-b", team_id=TEAM_B)
    nobodys = sim.add_escalation_chain("no team")
    mine = await create(api, team_id=TEAM_A)
    url = f"{INTEGRATIONS}{mine['id']}/"

    for chain in (theirs, nobodys):
        response = await api.put(url, json={"default_route": {"escalation_chain_id": chain}})
        assert response.status_code == 200, response.text
        body = response.json()
        assert (body["team_id"], body["default_route"]["escalation_chain_id"]) == (TEAM_A, chain)
    # Moving the integration to another team in the same request is fine too.
    both = await api.put(
        url, json={"team_id": None, "default_route": {"escalation_chain_id": theirs}}
    )
    assert (both.json()["team_id"], both.json()["default_route"]["escalation_chain_id"]) == (
        None,
        theirs,
    )


async def test_invalid_json_is_a_parse_error(api: httpx.AsyncClient) -> None:
    response = await api.post(
        INTEGRATIONS, content=b"{nope", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["detail"].startswith("JSON parse error - ")


async def test_non_object_body_is_a_non_field_error(api: httpx.AsyncClient) -> None:
    response = await api.post(INTEGRATIONS, json=["webhook"])
    assert response.json() == {
        "non_field_errors": ["Invalid data. Expected a dictionary, but got list."]
    }


# -- templates -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("templates", "detail"),
    [
        ({"slack": {"title": "{{ payload.title"}}, "invalid slack title template"),
        ({"web": {"message": "{% if x %}open"}}, "invalid web message template"),
        ({"resolve_signal": "{{ }}"}, "Invalid resolve_signal template data"),
        ({"grouping_key": {"a": 1}}, "Invalid grouping_key template data"),
        ({"telegram": "x"}, "Invalid telegram template data"),
        ({"slack": {"colour": "x"}}, "Invalid template data"),
    ],
)
async def test_template_errors(
    api: httpx.AsyncClient, templates: dict[str, Any], detail: str
) -> None:
    response = await api.post(INTEGRATIONS, json={"type": "webhook", "templates": templates})
    assert response.status_code == 400
    assert response.json() == {"detail": detail}


async def test_template_writes_are_partial_and_null_resets(api: httpx.AsyncClient) -> None:
    created = await create(
        api,
        templates={
            "grouping_key": "{{ payload.labels.alertname }}",
            "slack": {"title": "t", "message": "m"},
            "mobile_app": {"title": "a", "unknown": "ignored by backends"},
        },
    )
    url = f"{INTEGRATIONS}{created['id']}/"

    updated = (await api.put(url, json={"templates": {"slack": {"title": "t2"}}})).json()
    assert updated["templates"]["slack"] == {"title": "t2", "message": "m", "image_url": None}
    assert updated["templates"]["grouping_key"] == "{{ payload.labels.alertname }}"
    assert updated["templates"]["mobile_app"] == {"title": "a", "message": None}

    reset = (await api.patch(url, json={"templates": {"slack": None}})).json()
    assert reset["templates"]["slack"] == {"title": None, "message": None, "image_url": None}
    assert reset["templates"]["grouping_key"] == "{{ payload.labels.alertname }}"


@pytest.mark.parametrize(
    ("source", "valid"),
    [
        ("{{ payload.labels.alertname }}", True),
        ("plain text }} with a stray closer", True),
        ("{%- if payload.state == 'ok' -%}ok{% else %}no{% endif %}", True),
        ("{% for a in payload.alerts %}{{ a }}{% endfor %}", True),
        ("{# a comment #}{{ payload['x'] | tojson }}", True),
        ("{{ payload.labels", False),
        ("{{ }}", False),
        ("{{ payload['x' }}", False),
        ("{% if x %}", False),
        ("{% endif %}", False),
        ("{% frobnicate %}", False),
        ("{{ 'unclosed }}", False),
    ],
)
def test_jinja_approximation(source: str, valid: bool) -> None:
    assert is_valid_jinja(source) is valid


# -- update and delete ---------------------------------------------------------------------------


async def test_put_is_partial_and_ignores_type(api: httpx.AsyncClient) -> None:
    created = await create(api, name="a", description_short="marker")
    url = f"{INTEGRATIONS}{created['id']}/"

    response = await api.put(url, json={"name": "b", "type": "manual"})

    assert response.status_code == 200
    body = response.json()
    assert (body["name"], body["type"], body["description_short"]) == ("b", "webhook", "marker")
    assert body["link"] == created["link"]


async def test_update_checks_name_uniqueness_in_the_resulting_team(
    api: httpx.AsyncClient,
) -> None:
    await create(api, name="taken", team_id=TEAM_A)
    mine = await create(api, name="mine")
    url = f"{INTEGRATIONS}{mine['id']}/"

    assert (await api.put(url, json={"name": "mine"})).status_code == 200  # its own name
    assert (await api.put(url, json={"name": "taken"})).status_code == 200  # other team
    clash = await api.put(url, json={"name": "taken", "team_id": TEAM_A})
    assert clash.json() == DUPLICATE


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
async def test_renaming_onto_a_name_taken_in_the_same_team_is_refused(
    api: httpx.AsyncClient, sim: GrafanaOnCallSimulator, method: str
) -> None:
    await create(api, name="taken", team_id=TEAM_A)
    mine = await create(api, name="mine", team_id=TEAM_A)

    clash = await api.request(method, f"{INTEGRATIONS}{mine['id']}/", json={"name": " taken "})

    assert clash.status_code == 400
    assert clash.json() == DUPLICATE  # compared after trimming, as the engine stores it
    assert [i["name"] for i in sim.integrations()] == ["taken", "mine"]


async def test_update_merges_default_route(
    api: httpx.AsyncClient, sim: GrafanaOnCallSimulator
) -> None:
    chain = sim.add_escalation_chain("ops")
    created = await create(api)
    url = f"{INTEGRATIONS}{created['id']}/"

    await api.put(url, json={"default_route": {"escalation_chain_id": chain}})
    body = (await api.patch(url, json={"default_route": {"slack": {"enabled": False}}})).json()

    assert body["default_route"]["escalation_chain_id"] == chain
    assert body["default_route"]["slack"] == {"channel_id": None, "enabled": False}
    assert body["default_route"]["id"] == created["default_route"]["id"]


async def test_delete_is_soft_then_404(api: httpx.AsyncClient, sim: GrafanaOnCallSimulator) -> None:
    created = await create(api)
    url = f"{INTEGRATIONS}{created['id']}/"

    deleted = await api.delete(url)
    assert (deleted.status_code, deleted.content) == (204, b"")
    for response in (await api.get(url), await api.delete(url), await api.put(url, json={})):
        assert response.status_code == 404
        assert response.json() == {"detail": "Not found."}
    assert (await api.get(INTEGRATIONS)).json()["count"] == 0
    assert sim.get(created["id"]) is None


async def test_direct_paging_cannot_be_deleted(
    api: httpx.AsyncClient, sim: GrafanaOnCallSimulator
) -> None:
    paging = sim.add_integration("direct_paging", name="Direct paging (A team)", team_id=TEAM_A)
    response = await api.delete(f"{INTEGRATIONS}{paging['id']}/")
    assert response.status_code == 400
    assert response.json() == {"detail": "Direct paging integrations can't be deleted"}


# -- listing -----------------------------------------------------------------------------------


async def test_paging_envelope_and_absolute_links(api: httpx.AsyncClient) -> None:
    names = [f"i{n}" for n in range(7)]
    for name in names:
        await create(api, name=name)

    first = (await api.get(INTEGRATIONS, params={"perpage": 3})).json()
    assert first["count"] == 7
    assert (first["page_size"], first["current_page_number"], first["total_pages"]) == (3, 1, 3)
    assert first["previous"] is None
    assert first["next"] == f"{BASE}{INTEGRATIONS}?page=2&perpage=3"
    assert [i["name"] for i in first["results"]] == names[:3]  # oldest first

    second = (await api.get(first["next"])).json()
    assert second["previous"] == f"{BASE}{INTEGRATIONS}?perpage=3"
    assert second["next"] == f"{BASE}{INTEGRATIONS}?page=3&perpage=3"

    collected = []
    url: str | None = INTEGRATIONS + "?perpage=3"
    while url is not None:
        page = (await api.get(url)).json()
        collected += [i["name"] for i in page["results"]]
        url = page["next"]
    assert collected == names


@pytest.mark.parametrize(
    ("params", "page_size", "page"),
    [
        ({"perpage": 2, "page": 99}, 2, 3),  # past the end: the last page
        ({"perpage": 2, "page": 0}, 2, 1),  # observed: page 0 is the first page
        ({"perpage": 2, "page": -4}, 2, 1),
        ({"perpage": 2, "page": "abc"}, 2, 1),
        ({"perpage": 2, "page": "last"}, 2, 3),
        ({"perpage": 0}, 50, 1),
        ({"perpage": -1}, 50, 1),
        ({"perpage": "abc"}, 50, 1),
        ({"perpage": 500}, 100, 1),
        ({}, 50, 1),
    ],
)
async def test_page_and_perpage_fallbacks(
    api: httpx.AsyncClient, params: dict[str, Any], page_size: int, page: int
) -> None:
    for n in range(5):
        await create(api, name=f"i{n}")
    body = (await api.get(INTEGRATIONS, params=params)).json()
    assert (body["page_size"], body["current_page_number"]) == (page_size, page)


async def test_page_zero_is_the_first_page(api: httpx.AsyncClient) -> None:
    for n in range(5):
        await create(api, name=f"i{n}")
    body = (await api.get(INTEGRATIONS, params={"perpage": 2, "page": 0})).json()
    assert [i["name"] for i in body["results"]] == ["i0", "i1"]
    assert body["previous"] is None
    assert body["next"] == f"{BASE}{INTEGRATIONS}?page=2&perpage=2"


async def test_head_on_the_collection_is_200_without_a_body(
    api: httpx.AsyncClient, sim: GrafanaOnCallSimulator
) -> None:
    created = await create(api)
    collection = await api.head(INTEGRATIONS)
    assert collection.status_code == 200
    assert collection.content == b""
    assert collection.headers["content-type"] == "application/json"
    item = await api.head(f"{INTEGRATIONS}{created['id']}/")
    assert (item.status_code, item.content) == (200, b"")
    missing = await api.head(f"{INTEGRATIONS}CNOPE/")
    assert (missing.status_code, missing.content) == (404, b"")
    assert sim.requests.count("HEAD", "/api/v1/integrations/") == 1


async def test_head_needs_a_token_and_is_allowed_to_viewers(sim: GrafanaOnCallSimulator) -> None:
    async with client_for(sim, None) as anonymous:
        assert (await anonymous.head(INTEGRATIONS)).status_code == 403
    async with client_for(sim, VIEWER) as viewer:
        assert (await viewer.head(INTEGRATIONS)).status_code == 200


COLLECTION_ALLOW = "GET, POST, HEAD, OPTIONS"
ITEM_ALLOW = "GET, PUT, PATCH, DELETE, HEAD, OPTIONS"


async def test_every_api_answer_names_the_views_methods_in_allow(
    api: httpx.AsyncClient, sim: GrafanaOnCallSimulator
) -> None:
    created = await api.post(INTEGRATIONS, json={"type": "webhook"})
    pk = created.json()["id"]
    item = f"{INTEGRATIONS}{pk}/"
    answers = {
        "create": (created, COLLECTION_ALLOW),
        "list": (await api.get(INTEGRATIONS), COLLECTION_ALLOW),
        "head": (await api.head(INTEGRATIONS), COLLECTION_ALLOW),
        "refused": (await api.post(INTEGRATIONS, json={"type": "nagios"}), COLLECTION_ALLOW),
        "get": (await api.get(item), ITEM_ALLOW),
        "put": (await api.put(item, json={"name": "x"}), ITEM_ALLOW),
        "not found": (await api.get(f"{INTEGRATIONS}CNOPE/"), ITEM_ALLOW),
        "maintenance": (
            await api.post(f"{item}maintenance_start/", json={"mode": "debug", "duration": 60}),
            "POST, OPTIONS",
        ),
        "chains": (await api.get("/api/v1/escalation_chains/"), COLLECTION_ALLOW),
        "delete": (await api.delete(item), ITEM_ALLOW),
    }
    async with client_for(sim, "wrong") as stranger:
        answers["bad token"] = (await stranger.get(INTEGRATIONS), COLLECTION_ALLOW)
    sim.faults.throttle(3)
    answers["throttled"] = (await api.get(item), ITEM_ALLOW)

    assert {name: r.headers.get("allow") for name, (r, _) in answers.items()} == {
        name: allow for name, (_, allow) in answers.items()
    }
    assert answers["delete"][0].status_code == 204
    assert answers["throttled"][0].status_code == 429


async def test_djangos_own_pages_carry_no_allow(api: httpx.AsyncClient) -> None:
    assert "allow" not in (await api.get("/api/v1/nothing/")).headers
    assert "allow" not in (await api.delete(INTEGRATIONS)).headers  # the 500 page
    assert "allow" not in (await api.get(INTEGRATIONS, params={"team_id": TEAM_A})).headers


async def test_name_filter_is_exact(api: httpx.AsyncClient) -> None:
    await create(api, name="alpha")
    await create(api, name="alphabet")
    body = (await api.get(INTEGRATIONS, params={"name": "alpha"})).json()
    assert [i["name"] for i in body["results"]] == ["alpha"]


@pytest.mark.parametrize("team", [TEAM_A, "null"])
async def test_team_filter_is_a_server_error_page(api: httpx.AsyncClient, team: str) -> None:
    response = await api.get(INTEGRATIONS, params={"team_id": team})
    assert response.status_code == 500
    assert response.headers["content-type"].startswith("text/html")


async def test_unknown_team_filter_is_400(api: httpx.AsyncClient) -> None:
    response = await api.get(INTEGRATIONS, params={"team_id": "TNOPE"})
    assert response.status_code == 400
    assert list(response.json()) == ["team_id"]


async def test_trailing_slash_is_optional(api: httpx.AsyncClient) -> None:
    created = await create(api)
    assert (await api.get("/api/v1/integrations")).json()["count"] == 1
    assert (await api.get(f"/api/v1/integrations/{created['id']}")).json() == created


async def test_unknown_path_is_html_404_and_unsupported_method_html_500(
    api: httpx.AsyncClient,
) -> None:
    missing = await api.get("/api/v1/nothing/")
    assert missing.status_code == 404
    assert "<title>Not Found</title>" in missing.text
    unsupported = await api.delete(INTEGRATIONS)
    assert unsupported.status_code == 500
    assert "Server Error (500)" in unsupported.text


async def test_base_url_path_prefix_is_part_of_every_route() -> None:
    sim = GrafanaOnCallSimulator(tokens={TOKEN: "admin"}, base_url=f"{BASE}/oncall")
    async with client_for(sim) as client:
        assert (await client.get(INTEGRATIONS)).status_code == 404
        response = await client.post(f"/oncall{INTEGRATIONS}", json={"type": "webhook"})
    assert response.json()["link"].startswith(f"{BASE}/oncall/integrations/v1/webhook/")


# -- maintenance -------------------------------------------------------------------------------


async def test_maintenance_start_stop_and_expiry(
    api: httpx.AsyncClient, sim: GrafanaOnCallSimulator, clock: ManualClock
) -> None:
    created = await create(api)
    url = f"{INTEGRATIONS}{created['id']}"

    started = await api.post(f"{url}/maintenance_start/", json={"mode": "DEBUG", "duration": 90})
    assert started.status_code == 200
    body = started.json()
    assert body["maintenance_mode"] == "debug"
    assert body["maintenance_started_at"] == "2027-01-15T08:00:00Z"
    assert body["maintenance_end_at"] == "2027-01-15T08:01:30Z"

    again = await api.post(f"{url}/maintenance_start/", json={"mode": "debug", "duration": 90})
    assert (again.status_code, again.json()) == (400, {"detail": "Already on maintenance"})

    clock.advance(89)
    assert (await api.get(url)).json()["maintenance_mode"] == "debug"
    clock.advance(1)
    assert (await api.get(url)).json()["maintenance_mode"] is None

    await api.post(f"{url}/maintenance_start/", json={"mode": "maintenance", "duration": "60"})
    stopped = (await api.post(f"{url}/maintenance_stop/")).json()
    assert (stopped["maintenance_mode"], stopped["maintenance_end_at"]) == (None, None)
    assert (await api.post(f"{url}/maintenance_stop/")).status_code == 200  # idempotent


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"mode": "sleep", "duration": 60}, {"mode": ["Unknown mode"]}),
        ({"duration": 60}, {"mode": ["Unknown mode"]}),
        ({"mode": "debug", "duration": "an hour"}, {"duration": ["Invalid duration"]}),
        ({"mode": "debug"}, {"duration": ["Invalid duration"]}),
    ],
)
async def test_maintenance_start_errors(
    api: httpx.AsyncClient, body: dict[str, Any], error: Any
) -> None:
    created = await create(api)
    response = await api.post(f"{INTEGRATIONS}{created['id']}/maintenance_start/", json=body)
    assert (response.status_code, response.json()) == (400, error)


async def test_maintenance_on_unknown_integration_is_404(api: httpx.AsyncClient) -> None:
    response = await api.post(f"{INTEGRATIONS}CNOPE/maintenance_start/", json={})
    assert response.status_code == 404


async def test_first_maintenance_creates_the_hidden_maintenance_integration(
    api: httpx.AsyncClient, sim: GrafanaOnCallSimulator
) -> None:
    created = await create(api)
    await api.post(
        f"{INTEGRATIONS}{created['id']}/maintenance_start/", json={"mode": "debug", "duration": 5}
    )
    assert [i["id"] for i in sim.integrations()] == [created["id"]]
    # ...but it still counts for the next default name.
    assert (await create(api))["name"] == "Webhook :apple:"


# -- escalation chains -------------------------------------------------------------------------


async def test_escalation_chains(api: httpx.AsyncClient) -> None:
    created = await api.post("/api/v1/escalation_chains/", json={"name": "ops"})
    assert created.status_code == 201
    chain = created.json()
    assert re.fullmatch(r"F[A-NP-Z1-9]{12}", chain["id"])
    assert chain == {"id": chain["id"], "name": "ops", "team_id": None}

    listed = (await api.get("/api/v1/escalation_chains", params={"name": "ops"})).json()
    assert listed["results"] == [chain]
    assert (await api.get(f"/api/v1/escalation_chains/{chain['id']}/")).json() == chain
    assert (await api.get("/api/v1/escalation_chains/FNOPE/")).status_code == 404

    duplicate = await api.post("/api/v1/escalation_chains/", json={"name": "ops"})
    assert duplicate.status_code == 400
    missing = await api.post("/api/v1/escalation_chains/", json={})
    assert missing.json() == {"name": ["This field is required."]}


# -- rate limit --------------------------------------------------------------------------------


async def test_rate_limit_per_token_with_relative_reset_headers(clock: ManualClock) -> None:
    sim = GrafanaOnCallSimulator(
        tokens={TOKEN: "admin", "other": "admin"}, rate=Rate(3, 60), clock=clock
    )
    async with client_for(sim) as client, client_for(sim, "other") as other:
        for _ in range(3):
            ok = await client.get(INTEGRATIONS)
            assert ok.status_code == 200
            assert "Retry-After" not in ok.headers
            assert "RateLimit-Reset" not in ok.headers
            clock.advance(10)

        throttled = await client.get(INTEGRATIONS)
        assert throttled.status_code == 429
        assert throttled.json() == {
            "detail": "Request was throttled. Expected available in 30 seconds."
        }
        assert throttled.headers["Retry-After"] == "30"
        assert throttled.headers["RateLimit-Reset"] == "30"
        assert (await other.get(INTEGRATIONS)).status_code == 200  # per token

        clock.advance(29.5)
        last = await client.get(INTEGRATIONS)
        assert last.json()["detail"].endswith("in 1 second.")
        clock.advance(0.5)
        assert (await client.get(INTEGRATIONS)).status_code == 200


def test_rate_limiter_remaining_and_sliding_window(clock: ManualClock) -> None:
    limiter = RateLimiter(2, 10, clock)
    assert limiter.hit("k") is None
    clock.advance(5)
    assert limiter.hit("k") is None
    assert limiter.remaining("k") == 0
    assert limiter.hit("k") == pytest.approx(5)
    clock.advance(5)
    assert limiter.remaining("k") == 1


# -- faults and counting -----------------------------------------------------------------------


async def test_status_fault_hits_only_matching_requests(
    api: httpx.AsyncClient, sim: GrafanaOnCallSimulator
) -> None:
    sim.faults.fail(503, method="POST", times=2)
    assert (await api.get(INTEGRATIONS)).status_code == 200
    for _ in range(2):
        failed = await api.post(INTEGRATIONS, json={"type": "webhook"})
        assert failed.status_code == 503
        assert "503 Service Unavailable" in failed.text
    assert (await api.post(INTEGRATIONS, json={"type": "webhook"})).status_code == 201
    sim.faults.fail(500)
    assert "Server Error (500)" in (await api.get(INTEGRATIONS)).text
    assert sim.faults.pending == []


async def test_throttle_fault_uses_the_platform_headers(
    api: httpx.AsyncClient, sim: GrafanaOnCallSimulator
) -> None:
    sim.faults.throttle(7)
    response = await api.get(INTEGRATIONS)
    assert response.status_code == 429
    assert (response.headers["Retry-After"], response.headers["RateLimit-Reset"]) == ("7", "7")


async def test_timeout_and_reset_faults_raise_transport_errors(
    api: httpx.AsyncClient, sim: GrafanaOnCallSimulator
) -> None:
    sim.faults.timeout(path="/api/v1/integrations")
    sim.faults.reset()
    with pytest.raises(httpx.ReadTimeout):
        await api.get(INTEGRATIONS)
    with pytest.raises(httpx.ReadError):
        await api.get(INTEGRATIONS)
    assert (await api.get(INTEGRATIONS)).status_code == 200


async def test_lost_create_response_still_creates(
    api: httpx.AsyncClient, sim: GrafanaOnCallSimulator
) -> None:
    sim.faults.lose_response(method="POST")
    with pytest.raises(httpx.TimeoutException):
        await api.post(INTEGRATIONS, json={"type": "webhook", "name": "lost"})
    assert [i["name"] for i in sim.integrations()] == ["lost"]


async def test_latency_fault_and_global_latency(
    api: httpx.AsyncClient, sim: GrafanaOnCallSimulator
) -> None:
    sim.faults.delay(0.05)
    sim.faults.latency = 0.02
    started = time.monotonic()
    await api.get(INTEGRATIONS)
    assert time.monotonic() - started >= 0.07
    started = time.monotonic()
    await api.get(INTEGRATIONS)
    assert 0.02 <= time.monotonic() - started < 0.07


async def test_requests_are_counted_by_route_template(
    api: httpx.AsyncClient, sim: GrafanaOnCallSimulator
) -> None:
    created = await create(api)
    await api.get(INTEGRATIONS)
    await api.get(f"{INTEGRATIONS}{created['id']}")
    await api.get(f"{INTEGRATIONS}{created['id']}/")
    await api.get("/_sim/requests")  # admin calls are not platform calls

    assert sim.requests.count("GET", "/api/v1/integrations/{id}/") == 2
    assert sim.requests.count(route="/api/v1/integrations/") == 2
    assert sim.requests.total == 4
    assert sim.requests.snapshot() == {
        "POST /api/v1/integrations/": 1,
        "GET /api/v1/integrations/": 1,
        "GET /api/v1/integrations/{id}/": 2,
    }


def test_request_log_counts_unknown_paths_raw() -> None:
    log = RequestLog()
    log.record("GET", "/nope")
    assert log.count("GET", "/nope") == 1
    log.clear()
    assert log.total == 0


# -- behind the operator's back ----------------------------------------------------------------


async def test_behind_the_back_changes_show_up_in_the_api(
    api: httpx.AsyncClient, sim: GrafanaOnCallSimulator
) -> None:
    created = await create(api, name="mine")
    url = f"{INTEGRATIONS}{created['id']}/"

    sim.rename(created["id"], "renamed")
    sim.set_template(created["id"], "slack.title", "{{ drift }}")
    sim.patch(created["id"], team_id=TEAM_B, escalation_chain_id="FSOMEONE", type="manual")
    body = (await api.get(url)).json()
    assert body["name"] == "renamed"
    assert body["templates"]["slack"]["title"] == "{{ drift }}"
    assert (body["team_id"], body["type"]) == (TEAM_B, "manual")
    assert body["default_route"]["escalation_chain_id"] == "FSOMEONE"

    sim.start_maintenance(created["id"], "debug", 60)
    assert (await api.get(url)).json()["maintenance_mode"] == "debug"
    sim.stop_maintenance(created["id"])

    duplicate = sim.add_integration("webhook", name="renamed", team_id=TEAM_B)
    listed = (await api.get(INTEGRATIONS, params={"name": "renamed"})).json()
    assert [i["id"] for i in listed["results"]] == [created["id"], duplicate["id"]]

    sim.remove(created["id"])
    assert (await api.get(url)).status_code == 404
    with pytest.raises(KeyError):
        sim.rename(created["id"], "gone")
    with pytest.raises(ValueError, match="unknown template"):
        sim.set_template(duplicate["id"], "slack.colour", "x")


async def test_admin_http_api(api: httpx.AsyncClient, sim: GrafanaOnCallSimulator) -> None:
    added = await api.post("/_sim/integrations", json={"type": "alertmanager", "name": "theirs"})
    assert added.status_code == 201
    pk = added.json()["id"]

    patched = await api.patch(
        f"/_sim/integrations/{pk}", json={"name": "drifted", "templates": {"grouping_key": "x"}}
    )
    assert patched.json()["name"] == "drifted"
    assert patched.json()["templates"]["grouping_key"] == "x"
    maintenance = await api.post(f"/_sim/integrations/{pk}/maintenance", json={"duration": 5})
    assert maintenance.json()["maintenance_mode"] == "debug"

    chain = (await api.post("/_sim/escalation_chains", json={"name": "ops"})).json()
    assert sim.escalation_chains() == [chain]
    assert (await api.post("/_sim/teams", json={"id": "TNEW"})).status_code == 201
    assert (await create(api, team_id="TNEW"))["team_id"] == "TNEW"

    fault = FaultRule(kind=FaultKind.STATUS, status=502, method="GET").model_dump(mode="json")
    assert (await api.post("/_sim/faults", json=fault)).status_code == 201
    assert (await api.get(INTEGRATIONS)).status_code == 502
    assert (await api.put("/_sim/faults/latency", json={"seconds": 0})).status_code == 200

    assert (await api.get("/_sim/requests")).json()["counts"] == {
        "GET /api/v1/integrations/": 1,
        "POST /api/v1/integrations/": 1,
    }
    assert (await api.delete(f"/_sim/integrations/{pk}")).status_code == 204
    assert (await api.get(f"/_sim/integrations/{pk}")).status_code == 404
    assert (await api.post("/_sim/faults", json={"kind": "nope"})).status_code == 400
    assert (await api.get("/_sim/nothing")).status_code == 404


def test_cli_arguments_build_the_simulator() -> None:
    args = build_parser().parse_args(
        ["--token", "a", "--token", "b:viewer", "--team", TEAM_A, "--escalation-chain", "ops"]
    )
    sim = simulator_from_args(args)
    assert [c["name"] for c in sim.escalation_chains()] == ["ops"]
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--token", "a:root"])


# -- served over real HTTP ---------------------------------------------------------------------


def test_served_in_a_thread_with_latency_timeout_and_reset(sim: GrafanaOnCallSimulator) -> None:
    with SimulatorThread(sim) as url, httpx.Client(base_url=url, timeout=2.0) as client:
        client.headers["Authorization"] = TOKEN
        created = client.post(INTEGRATIONS, json={"type": "webhook", "name": "served"})
        assert created.status_code == 201
        assert client.get(INTEGRATIONS).json()["results"] == [created.json()]

        sim.rename(created.json()["id"], "changed from the test thread")
        assert client.get(INTEGRATIONS).json()["results"][0]["name"].startswith("changed")

        sim.faults.delay(0.2)
        started = time.monotonic()
        assert client.get(INTEGRATIONS).status_code == 200
        assert time.monotonic() - started >= 0.2

        sim.faults.reset()
        with pytest.raises(httpx.ReadError):
            client.get(INTEGRATIONS)

        sim.faults.timeout()
        with pytest.raises(httpx.ReadTimeout):
            client.get(INTEGRATIONS, timeout=0.2)

        sim.faults.fail(503)
        assert client.get(INTEGRATIONS).status_code == 503
        assert client.delete(f"{INTEGRATIONS}{created.json()['id']}/").status_code == 204
        assert sim.requests.count("GET", INTEGRATIONS) == 6


async def test_served_async_with_admin_and_lost_response(sim: GrafanaOnCallSimulator) -> None:
    async with (
        SimulatorServer(sim) as url,
        httpx.AsyncClient(base_url=url, headers={"Authorization": TOKEN}) as client,
    ):
        added = await client.post("/_sim/integrations", json={"name": "theirs"})
        assert added.json()["link"].startswith(f"{BASE}/integrations/v1/webhook/")

        sim.faults.lose_response(method="POST")
        with pytest.raises(httpx.ReadTimeout):
            await client.post(INTEGRATIONS, json={"type": "webhook"}, timeout=0.2)
        assert len(sim.integrations()) == 2
