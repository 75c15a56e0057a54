"""The platforms index's tables are made from the pages' At a glance tables.

`make docs` writes them (tests/support/platform_index.py); a page that lacks a fact the
index shows, or has one it does not, stops it with a message naming the page and row.
"""

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from alertsync.models import ProductType
from tests.support.platform_index import (
    PAGES,
    ROWS,
    TARGET,
    PageError,
    marker,
    pages,
    parse_page,
    render,
)


def test_the_platforms_index_is_current() -> None:
    assert TARGET.read_text(encoding="utf-8") == render(), "run `make docs`"


def test_every_page_is_in_the_index_in_the_order_of_product_type() -> None:
    found = [page.product_type for page in pages()]
    assert found == [product.value for product in ProductType]
    index = TARGET.read_text(encoding="utf-8")
    for page in pages():
        assert f"[{page.title}]({page.file})" in index


# -- the generator refuses what it cannot read ----------------------------------------


def glance(rows: dict[str, str]) -> str:
    body = "\n".join(f"| {name} | {value} |" for name, value in rows.items())
    return f"# New Platform\n\nIntro.\n\n## At a glance\n\n| | |\n|---|---|\n{body}\n\n## More\n"


def complete(product_type: str) -> dict[str, str]:
    rows = {name: f"{name} of {product_type}" for name in ROWS}
    rows["`productType`"] = f"`{product_type}`"
    rows["short name"] = product_type.title()
    return rows


def index_text() -> str:
    return "".join(
        f"Before.\n\n{marker(region, 'begin')}\nold\n{marker(region, 'end')}\n\nAfter.\n"
        for region in ("platforms", "side by side")
    )


def test_a_new_page_gets_a_row_and_a_column_and_the_prose_stays(tmp_path: Path) -> None:
    for page in PAGES.glob("*.md"):
        (tmp_path / page.name).write_text(page.read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "README.md").write_text(index_text(), encoding="utf-8")
    (tmp_path / "newplatform.md").write_text(glance(complete("newplatform")), encoding="utf-8")
    text = render(tmp_path / "README.md", tmp_path)
    assert text.count("Before.") == 2
    assert text.count("After.") == 2
    assert "old" not in text.splitlines()
    assert "| `newplatform` | [New Platform](newplatform.md) |" in text
    # Not a ProductType member yet: after the others, in the first table and as a column.
    header = next(line for line in text.splitlines() if line.startswith("| | "))
    assert header.endswith(" | Newplatform |")
    last = list(ProductType)[-1].value
    assert text.index(f"| `{last}` |") < text.index("| `newplatform` |")
    length = next(line for line in text.splitlines() if line.startswith("| name length |"))
    assert length.endswith(" | name length of newplatform |")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda rows: rows.pop("name length"), "lacks the rows 'name length'"),
        (lambda rows: rows.update({"colour": "blue"}), "unknown row 'colour'"),
        (lambda rows: rows.update({"listing": ""}), "row 'listing' is empty"),
        (lambda rows: rows.update({"`productType`": "`other`"}), "the file name `new`"),
    ],
    ids=["missing", "unknown", "empty", "product type"],
)
def test_a_page_missing_a_row_or_with_an_unknown_one_is_refused(
    tmp_path: Path, change: Callable[[dict[str, str]], object], message: str
) -> None:
    rows = complete("new")
    change(rows)
    page = tmp_path / "new.md"
    page.write_text(glance(rows), encoding="utf-8")
    with pytest.raises(PageError, match=re.escape("new.md: ")) as refused:
        parse_page(page)
    assert message in str(refused.value)


def test_a_page_without_at_a_glance_and_an_index_without_markers_are_refused(
    tmp_path: Path,
) -> None:
    page = tmp_path / "new.md"
    page.write_text("# New\n\n## Connecting\n\n| | |\n|---|---|\n", encoding="utf-8")
    with pytest.raises(PageError, match=re.escape("new.md: no `## At a glance` heading")):
        parse_page(page)
    page.write_text("# New\n\n## At a glance\n\nSoon.\n\n## Connecting\n", encoding="utf-8")
    with pytest.raises(PageError, match=re.escape("new.md: no table under")):
        parse_page(page)
    (tmp_path / "new.md").write_text(glance(complete("new")), encoding="utf-8")
    (tmp_path / "README.md").write_text("# Platforms\n\n| a | b |\n", encoding="utf-8")
    with pytest.raises(PageError, match=re.escape("README.md: needs exactly one")):
        render(tmp_path / "README.md", tmp_path)
