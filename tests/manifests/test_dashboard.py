"""The Grafana dashboard queries only the series docs/metrics.md documents, with
labels those series have, shows every one of them, keeps its uid and title,
and its picture in the docs is a current rendering of it.

The PromQL check is a small scanner, not a PromQL parser: it finds selectors
(`name{matchers}`), grouping clauses (`by`, `without`, `on`, `ignoring`,
`group_left`, `group_right`) and bare names; any name that is not a known
function or keyword must be a documented series. The self-tests at the end
show it catching the mistakes it is there for.
"""

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from tools import render_dashboard

ROOT = Path(__file__).parents[2]
DASHBOARD_PATH = ROOT / "charts" / "alertsync" / "dashboards" / "alertsync.json"
METRICS_DOC = ROOT / "docs" / "metrics.md"
PICTURE = ROOT / "docs" / "images" / "dashboard.svg"

# Links, bookmarks and the chart's ConfigMap find the dashboard by these.
UID = "alertsync-overview"
TITLE = "AlertSync"

# PromQL functions, aggregations and keywords the dashboard may use. A name
# outside this set and outside docs/metrics.md fails the test.
PROMQL_WORDS = {
    "sum",
    "avg",
    "min",
    "max",
    "count",
    "rate",
    "irate",
    "increase",
    "histogram_quantile",
    "vector",
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "or",
    "and",
    "unless",
}

Labels = frozenset[str]


def documented_series(text: str) -> dict[str, Labels]:
    """Every queryable series in the docs/metrics.md table, with its labels.

    A histogram `h` is queried as `h_bucket` (its labels and `le`), `h_sum` and `h_count`.
    """
    series: dict[str, Labels] = {}
    for line in text.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) < 3 or not re.fullmatch(r"`alertsync_\w+`", cells[0]):
            continue
        name, kind = cells[0].strip("`"), cells[1]
        labels = frozenset(re.findall(r"`(\w+)`", cells[2]))
        if kind == "histogram":
            series[f"{name}_bucket"] = labels | {"le"}
            series[f"{name}_sum"] = labels
            series[f"{name}_count"] = labels
        else:
            series[name] = labels
    return series


SERIES = documented_series(METRICS_DOC.read_text())
DASHBOARD: dict[str, Any] = json.loads(DASHBOARD_PATH.read_text())
PANELS = [p for p in DASHBOARD["panels"] if p["type"] != "row"]


@dataclass
class Query:
    """What one PromQL expression names: series, and labels by where they appear."""

    series: set[str] = field(default_factory=set)
    # (series, label) for each label matcher in a selector.
    matched: set[tuple[str, str]] = field(default_factory=set)
    grouped: set[str] = field(default_factory=set)
    unknown: set[str] = field(default_factory=set)


def scan(expr: str) -> Query:
    query = Query()
    # Strings first: regexes in matchers may hold anything.
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    text = re.sub(r"\[[^\]]*\]", " ", text)  # range and subquery durations

    def selector(match: re.Match[str]) -> str:
        name = match.group(1)
        labels = set(re.findall(r"([A-Za-z_]\w*)\s*(?:=~|!~|!=|=)", match.group(2)))
        if name:
            query.series.add(name)
            query.matched |= {(name, label) for label in labels}
        else:
            query.unknown.add("{...} without a metric name")
        return " "

    text = re.sub(r"([A-Za-z_:][\w:]*)?\s*\{([^}]*)\}", selector, text)

    def grouping(match: re.Match[str]) -> str:
        query.grouped |= {label.strip() for label in match.group(2).split(",") if label.strip()}
        return f" {match.group(1)} "

    text = re.sub(
        r"\b(by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)", grouping, text
    )
    for word in re.findall(r"(?<![\w.])[A-Za-z_:][\w:]*", text):
        if word in PROMQL_WORDS:
            continue
        query.series.add(word)
    return query


def problems(expr: str, legend: str, documented: Mapping[str, Labels] = SERIES) -> list[str]:
    """Why `expr` (and its legend) does not fit the documented series; empty when it does."""
    query = scan(expr)
    found = [f"unknown: {item}" for item in sorted(query.unknown)]
    undocumented = sorted(query.series - documented.keys())
    found += [f"series not in docs/metrics.md: {name}" for name in undocumented]
    known = [documented[name] for name in query.series if name in documented]
    found += [
        f"{name} has no label {label!r}"
        for name, label in sorted(query.matched)
        if name in documented and label not in documented[name]
    ]
    # Grouping and legend labels must exist on every series the query combines.
    common: Labels = frozenset.intersection(*known) if known else frozenset()
    found += [
        f"grouping by {label!r}, not a label of every series"
        for label in sorted(query.grouped - common)
    ]
    legend_labels = set(re.findall(r"\{\{\s*(\w+)\s*\}\}", legend))
    found += [
        f"legend uses {label!r}, not a label of the series"
        for label in sorted(legend_labels - (common - {"le"}))
    ]
    return found


def targets(panels: Iterable[Mapping[str, Any]]) -> list[tuple[str, Mapping[str, Any]]]:
    return [(f"{p['title']}/{t['refId']}", t) for p in panels for t in p["targets"]]


def test_the_metrics_doc_table_is_parsed() -> None:
    # Guards the parser: a changed table layout must not make every check vacuous.
    assert SERIES["alertsync_drift_total"] == {"platform", "field", "action"}
    assert SERIES["alertsync_platform_request_duration_seconds_bucket"] == {
        "platform",
        "operation",
        "le",
    }
    assert {"alertsync_integrations", "alertsync_resync_duration_seconds_count"} <= SERIES.keys()


def test_dashboard_identity_and_schema() -> None:
    assert (DASHBOARD["uid"], DASHBOARD["title"]) == (UID, TITLE)
    assert DASHBOARD["schemaVersion"] >= 36
    # Provisioned from a ConfigMap: no database id, no import-time inputs.
    assert DASHBOARD.get("id") is None
    assert "__inputs" not in DASHBOARD


def test_variables_pick_a_prometheus_and_the_platforms() -> None:
    variables = {v["name"]: v for v in DASHBOARD["templating"]["list"]}
    assert variables.keys() == {"datasource", "platform"}
    source = variables["datasource"]
    assert (source["type"], source["query"]) == ("datasource", "prometheus")
    platform = variables["platform"]
    assert platform["type"] == "query"
    assert platform["query"] == "label_values(alertsync_integrations, platform)"
    assert "platform" in SERIES["alertsync_integrations"]
    assert platform["datasource"]["uid"] == "${datasource}"
    assert platform["multi"]
    assert platform["includeAll"]
    assert platform["allValue"] == ".*"


@pytest.mark.parametrize("panel", PANELS, ids=[p["title"] for p in PANELS])
def test_every_panel_reads_the_chosen_datasource_and_platforms(panel: Mapping[str, Any]) -> None:
    assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
    assert panel["targets"], "a panel without a query"
    for target in panel["targets"]:
        assert target["datasource"] == panel["datasource"]
        for name in scan(target["expr"]).series:
            # Every selector honours the platform picker.
            assert re.search(rf'{name}\{{[^}}]*platform=~"\$platform"', target["expr"]), name
    ref_ids = [t["refId"] for t in panel["targets"]]
    assert len(ref_ids) == len(set(ref_ids))


@pytest.mark.parametrize(("where", "target"), targets(PANELS), ids=[w for w, _ in targets(PANELS)])
def test_every_query_names_documented_series_and_their_labels(
    where: str, target: Mapping[str, Any]
) -> None:
    assert problems(target["expr"], target.get("legendFormat", "")) == []


def test_every_documented_series_is_on_the_dashboard() -> None:
    shown = set().union(*(scan(t["expr"]).series for _, t in targets(PANELS)))
    histograms = {name.removesuffix("_bucket") for name in SERIES if name.endswith("_bucket")}
    missing = {
        name
        for name in SERIES
        if name not in shown
        and not any(name.startswith(h) and f"{h}_bucket" in shown for h in histograms)
    }
    assert missing == set()


def test_panels_fit_the_grid_without_overlapping() -> None:
    ids = [p["id"] for p in DASHBOARD["panels"]]
    assert len(ids) == len(set(ids))
    cells: dict[tuple[int, int], str] = {}
    for panel in DASHBOARD["panels"]:
        grid = panel["gridPos"]
        assert 0 <= grid["x"] < grid["x"] + grid["w"] <= 24, panel["title"]
        for x in range(grid["x"], grid["x"] + grid["w"]):
            for y in range(grid["y"], grid["y"] + grid["h"]):
                assert (x, y) not in cells, f"{panel['title']} overlaps {cells[(x, y)]}"
                cells[(x, y)] = panel["title"]


def test_the_picture_is_a_current_rendering() -> None:
    # python tools/render_dashboard.py rewrites it.
    assert PICTURE.read_text() == render_dashboard.render(DASHBOARD)


def test_the_picture_shows_every_panel_and_says_it_is_not_a_screenshot() -> None:
    svg = ET.fromstring(PICTURE.read_text())  # noqa: S314 - our own file, and must parse
    texts = [el.text or "" for el in svg.iter("{http://www.w3.org/2000/svg}text")]
    for panel in DASHBOARD["panels"]:
        assert any(panel["title"] in text for text in texts), panel["title"]
    assert any("Not a Grafana screenshot" in text for text in texts)


def test_the_renderer_follows_the_dashboard() -> None:
    moved = json.loads(json.dumps(DASHBOARD))
    moved["panels"][1]["title"] = "Renamed panel"
    assert "Renamed panel" in render_dashboard.render(moved)
    assert render_dashboard.render(moved) != render_dashboard.render(DASHBOARD)
    # The sample data is a function of its seed only.
    assert render_dashboard.samples("x") == render_dashboard.samples("x")
    assert render_dashboard.samples("x") != render_dashboard.samples("y")


# -- the checker catches what it is there for ----------------------------------


@pytest.mark.parametrize(
    ("expr", "legend", "expected"),
    [
        ("sum(up)", "", "series not in docs/metrics.md: up"),
        ("sum(alertsync_reconciles)", "", "series not in docs/metrics.md: alertsync_reconciles"),
        (
            'sum(alertsync_integrations{name="payments"})',
            "",
            "alertsync_integrations has no label 'name'",
        ),
        (
            "sum by (field) (rate(alertsync_reconciles_total[5m]))",
            "",
            "grouping by 'field', not a label of every series",
        ),
        (
            "sum by (platform) (rate(alertsync_rate_limit_waits_total[5m]))",
            "{{operation}}",
            "legend uses 'operation', not a label of the series",
        ),
        (
            "histogram_quantile(0.9, sum by (le) (rate(alertsync_resync_duration_seconds[5m])))",
            "",
            "series not in docs/metrics.md: alertsync_resync_duration_seconds",
        ),
        (
            "sum by (le) (rate(alertsync_resync_duration_seconds_sum[5m]))",
            "",
            "grouping by 'le', not a label of every series",
        ),
        ('sum({__name__=~"alertsync.*"})', "", "unknown: {...} without a metric name"),
    ],
)
def test_the_checker_rejects(expr: str, legend: str, expected: str) -> None:
    assert expected in problems(expr, legend)


def test_the_checker_accepts_the_documented_queries() -> None:
    # The "Useful queries" of docs/metrics.md itself.
    block = METRICS_DOC.read_text().split("```promql", 1)[1].split("```", 1)[0]
    expressions = [line for line in block.splitlines() if line.strip() and not line.startswith("#")]
    joined = re.sub(r"\n\s+", " ", "\n".join(expressions))
    for expr in joined.splitlines():
        assert problems(expr, "") == [], expr
