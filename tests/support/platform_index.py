"""The tables of docs/platforms/README.md, made from the pages (`make docs` writes them).

Every page `docs/platforms/<productType>.md` has an "At a glance" section: a table of
two columns whose rows are the facts the index shows, one row each (`ROWS`). The index
gets one row per page in its first table and one column per page in "Side by side",
each between marker comments; the prose around them is left as it is. Pages come in
the order of `ProductType` (the CRDs' productType enum); a page whose productType is
not a member yet comes after them, by file name.
"""

import re
import sys
from dataclasses import dataclass
from pathlib import Path

from alertsync.models import ProductType

ROOT = Path(__file__).parents[2]
PAGES = ROOT / "docs" / "platforms"
TARGET = PAGES / "README.md"

GLANCE = "## At a glance"
PRODUCT_TYPE = "`productType`"
SHORT_NAME = "short name"  # the page's column heading in "Side by side"
# The first table: the page link comes between productType and these.
LISTED = ("what one AlertIntegration is there", "direction")
# "Side by side", a row each, in this order.
SIDE_BY_SIDE = (
    "`spec.url`",
    "credentials Secret",
    "sent as",
    "wrong credentials",
    "valid but may not write",
    "listing",
    "update",
    "`targetState: disabled`",
    "AlertSync's marker",
    "duplicate names",
    "name length",
    "documented rate limit",
    "AlertSync's default budget",
    "checked against a real server",
)
ROWS = (PRODUCT_TYPE, SHORT_NAME, *LISTED, *SIDE_BY_SIDE)

_TITLE = re.compile(r"^# (.+?)\s*$", re.MULTILINE)
_PIPE = re.compile(r"(?<!\\)\|")  # a cell border; `\|` is a pipe inside a cell


class PageError(ValueError):
    """A page or the index is not in the form the generator reads."""


@dataclass(frozen=True)
class Page:
    file: str  # e.g. "ilert.md"
    title: str  # the page's heading, the link's text in the index
    facts: dict[str, str]  # the At a glance table: row name -> cell text

    @property
    def product_type(self) -> str:
        return self.file.removesuffix(".md")


def _shown(path: Path) -> str:
    return path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else path.name


def _cells(line: str) -> list[str]:
    inner = line.strip().removeprefix("|").removesuffix("|")
    return [cell.strip() for cell in _PIPE.split(inner)]


def glance_table(text: str, where: str) -> list[list[str]]:
    """The rows (cells) of the first table after the At a glance heading."""
    lines = text.splitlines()
    if GLANCE not in lines:
        raise PageError(f"{where}: no `{GLANCE}` heading")
    after = lines[lines.index(GLANCE) + 1 :]
    start = next((n for n, line in enumerate(after) if line.startswith(("|", "## "))), len(after))
    if start == len(after) or not after[start].startswith("|"):
        raise PageError(f"{where}: no table under `{GLANCE}`")
    table = []
    for line in after[start:]:
        if not line.startswith("|"):
            break
        table.append(_cells(line))
    if len(table) < 2 or table[0] != ["", ""] or table[1] != ["---", "---"]:
        raise PageError(f"{where}: the At a glance table must start `| | |` and `|---|---|`")
    return table[2:]


def parse_page(path: Path) -> Page:
    where = _shown(path)
    text = path.read_text(encoding="utf-8")
    title = _TITLE.search(text)
    if title is None:
        raise PageError(f"{where}: no `# ` title")
    facts: dict[str, str] = {}
    for cells in glance_table(text, where):
        if len(cells) != 2:
            raise PageError(f"{where}: At a glance row {cells[0]!r} has {len(cells)} cells, not 2")
        name, value = cells
        if name not in ROWS:
            known = ", ".join(repr(row) for row in ROWS)
            raise PageError(f"{where}: At a glance has an unknown row {name!r}; known: {known}")
        if name in facts:
            raise PageError(f"{where}: At a glance has the row {name!r} twice")
        if not value:
            raise PageError(f"{where}: At a glance row {name!r} is empty")
        facts[name] = value
    missing = [row for row in ROWS if row not in facts]
    if missing:
        raise PageError(f"{where}: At a glance lacks the rows {', '.join(map(repr, missing))}")
    page = Page(file=path.name, title=title.group(1), facts=facts)
    if facts[PRODUCT_TYPE] != f"`{page.product_type}`":
        raise PageError(
            f"{where}: At a glance says productType {facts[PRODUCT_TYPE]}, "
            f"the file name `{page.product_type}`"
        )
    return page


def pages(directory: Path = PAGES) -> list[Page]:
    """Every page but the index, in ProductType's order, then new ones by file name."""
    members = [product.value for product in ProductType]
    found = [
        parse_page(path) for path in sorted(directory.glob("*.md")) if path.name != "README.md"
    ]

    def key(page: Page) -> tuple[int, str]:
        known = page.product_type in members
        return (members.index(page.product_type) if known else len(members), page.file)

    return sorted(found, key=key)


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def _rule(columns: int) -> str:
    return "|" + "---|" * columns


def platforms_table(found: list[Page]) -> list[str]:
    lines = [_row([PRODUCT_TYPE, "page", *LISTED]), _rule(2 + len(LISTED))]
    for page in found:
        link = f"[{page.title}]({page.file})"
        lines.append(_row([page.facts[PRODUCT_TYPE], link, *(page.facts[r] for r in LISTED)]))
    return lines


def side_by_side_table(found: list[Page]) -> list[str]:
    # `| |` rather than `|  |`: an empty first heading, as the pages write it.
    lines = ["| " + _row([page.facts[SHORT_NAME] for page in found])]
    lines.append(_rule(1 + len(found)))
    for row in SIDE_BY_SIDE:
        lines.append(_row([row, *(page.facts[row] for page in found)]))
    return lines


def marker(region: str, end: str) -> str:
    return f"<!-- generated by make docs: {end} {region} -->"


def replace_region(text: str, region: str, lines: list[str], where: str) -> str:
    """`text` with what lies between the region's two markers replaced by `lines`."""
    begin, end = marker(region, "begin"), marker(region, "end")
    pattern = re.compile(rf"^{re.escape(begin)}\n.*?^{re.escape(end)}$", re.MULTILINE | re.DOTALL)
    matches = pattern.findall(text)
    if len(matches) != 1:
        raise PageError(
            f"{where}: needs exactly one `{begin}` line followed by one `{end}` line "
            f"(found {len(matches)} such regions)"
        )
    # Blank lines around the table, so that no renderer reads a marker as a row.
    body = "\n".join([begin, "", *lines, "", end])
    return pattern.sub(lambda _: body, text)


def render(index: Path = TARGET, directory: Path = PAGES) -> str:
    """The index as `make docs` writes it: its text, the two tables made anew."""
    found = pages(directory)
    where = _shown(index)
    text = index.read_text(encoding="utf-8")
    text = replace_region(text, "platforms", platforms_table(found), where)
    return replace_region(text, "side by side", side_by_side_table(found), where)


def main() -> int:
    try:
        text = render()
    except PageError as error:
        sys.stderr.write(f"platform index: {error}\n")
        return 1
    TARGET.write_text(text, encoding="utf-8")
    sys.stdout.write(f"wrote {_shown(TARGET)}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
