"""The docs stand on their own.

Users get the repository, not the notes it was written from: no file in it may send a
reader to `shared/platforms` or `shared/seeds` (the platform references live in
docs/platforms/). And every relative link in its Markdown (README.md, docs/, the chart's
README) must lead to a file that exists and, for a Markdown file, to a heading it has.
"""

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from alertsync.models import ProductType

ROOT = Path(__file__).resolve().parents[2]
THIS = Path(__file__).resolve().relative_to(ROOT).as_posix()

# Built from parts, so that this file does not trip the rule it checks.
FORBIDDEN = tuple(
    part.encode() for part in ("shared/" + "platforms", "shared/" + "seeds", "../" + "shared/")
)
# CI plumbing, not part of what users read.
EXEMPT_PREFIXES = (".ci/",)
# Outside git (a source archive), the tree is walked instead, without these.
_SKIPPED_DIRS = {"__pycache__", "node_modules", "build", "dist"}

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,}).*?^ {0,3}\1[^\S\n]*$", re.MULTILINE | re.DOTALL)
_CODE_SPAN = re.compile(r"(`+)(?!`).+?(?<!`)\1(?!`)", re.DOTALL)
_INLINE_LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_REFERENCE = re.compile(r"^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+\"[^\"]*\")?\s*$", re.MULTILINE)
_HTML = re.compile(r"""\b(?:href|src)\s*=\s*["']([^"']+)["']""")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
_HEADING = re.compile(r"^ {0,3}#{1,6}[ \t]+(.*?)[ \t#]*$", re.MULTILINE)
_HTML_ANCHOR = re.compile(r"""<a\s[^>]*\b(?:name|id)\s*=\s*["']([^"']+)["']""")


def repository_files(root: Path = ROOT) -> list[str]:
    """Tracked files plus new ones not ignored (what the next commit can hold)."""
    git = shutil.which("git")
    if git is None or not (root / ".git").exists():
        return sorted(_walk(root))
    listed = subprocess.run(  # noqa: S603 - git with fixed arguments
        [git, "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=root,
        check=True,
        capture_output=True,
    ).stdout.decode()
    return sorted({name for name in listed.split("\0") if name})


def _walk(root: Path) -> Iterator[str]:
    for directory, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if not d.startswith(".") and d not in _SKIPPED_DIRS]
        for name in files:
            yield (Path(directory) / name).relative_to(root).as_posix()


def pointers_to_shared(root: Path, names: list[str]) -> list[str]:
    """`path:line` of every line that names the project's unpublished notes."""
    found = []
    for name in names:
        if name == THIS or name.startswith(EXEMPT_PREFIXES):
            continue
        path = root / name
        if not path.is_file():
            continue  # deleted in the working tree, still in the index
        for number, line in enumerate(path.read_bytes().splitlines(), start=1):
            if any(needle in line for needle in FORBIDDEN):
                found.append(f"{name}:{number}")
    return found


# "The seed" was the project's name for the API documents it began from, which users
# never see: the API is the ReconcileAlertIntegration API.
_SEED = re.compile(rb"(?i)\bthe seed\b|\bseed's\b|\bseed api\b")


def seed_mentions(root: Path, names: list[str]) -> list[str]:
    """`path:line` of every line that calls something "the seed" (its API, its docs)."""
    found = []
    for name in names:
        path = root / name
        if name == THIS or name.startswith(EXEMPT_PREFIXES) or not path.is_file():
            continue
        for number, line in enumerate(path.read_bytes().splitlines(), start=1):
            if _SEED.search(line):
                found.append(f"{name}:{number}")
    return found


def _prose(text: str) -> str:
    """The text without fenced code blocks and code spans, where brackets are not links."""
    return _CODE_SPAN.sub("", _FENCE.sub("", text))


def link_targets(text: str) -> list[str]:
    prose = _prose(text)
    return [
        match.group(1)
        for pattern in (_INLINE_LINK, _REFERENCE, _HTML)
        for match in pattern.finditer(prose)
    ]


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: its text, lower case, punctuation gone, '-' for spaces."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link's text only
    text = text.replace("`", "").strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(text: str) -> set[str]:
    found: set[str] = set()
    for match in _HEADING.finditer(_FENCE.sub("", text)):
        base = slug(match.group(1))
        anchor, n = base, 0
        while anchor in found:  # GitHub numbers repeats: a, a-1, a-2...
            n += 1
            anchor = f"{base}-{n}"
        found.add(anchor)
    found.update(_HTML_ANCHOR.findall(text))
    return found


def broken_links(root: Path, document: Path) -> list[str]:
    """Each relative link of `document` that leads nowhere, with the reason."""
    text = document.read_text(encoding="utf-8")
    problems = []
    for target in link_targets(text):
        if _SCHEME.match(target) or target.startswith("//"):
            continue  # a web address: not this test's business
        path_part, _, fragment = target.partition("#")
        if path_part:
            resolved = (document.parent / path_part).resolve()
            if not resolved.is_relative_to(root) or not resolved.exists():
                problems.append(f"{target}: no such file")
                continue
        else:
            resolved = document
        is_markdown = resolved.is_file() and resolved.suffix == ".md"
        if fragment and is_markdown and fragment not in anchors(resolved.read_text("utf-8")):
            problems.append(f"{target}: {resolved.name} has no heading #{fragment}")
    return problems


def documents() -> list[Path]:
    """Every Markdown file of the repository: README.md, docs/, the chart's README..."""
    return [
        ROOT / name
        for name in repository_files()
        if name.endswith(".md") and not name.startswith(EXEMPT_PREFIXES) and (ROOT / name).is_file()
    ]


# -- the rules, on the repository ---------------------------------------------------


def test_the_documents_checked_include_the_readme_and_every_page_of_docs() -> None:
    checked = {path.relative_to(ROOT).as_posix() for path in documents()}
    pages = {path.relative_to(ROOT).as_posix() for path in (ROOT / "docs").rglob("*.md")}
    assert "README.md" in checked
    assert "docs/platforms/README.md" in pages
    assert pages <= checked


def test_no_file_sends_readers_to_the_unpublished_notes() -> None:
    names = repository_files()
    # The listing itself works: it holds what is committed and what is new.
    assert "README.md" in names
    assert THIS in names
    assert pointers_to_shared(ROOT, names) == []


def test_no_file_calls_anything_the_seed() -> None:
    assert seed_mentions(ROOT, repository_files()) == []


@pytest.mark.parametrize(
    "document", documents(), ids=lambda path: path.relative_to(ROOT).as_posix()
)
def test_every_relative_link_leads_somewhere(document: Path) -> None:
    assert broken_links(ROOT, document) == []


def test_the_platform_pages_are_linked_from_the_readme_and_the_architecture() -> None:
    # One page per product, named by its productType, and the index.
    pages = sorted(p.name for p in (ROOT / "docs" / "platforms").glob("*.md"))
    assert pages == sorted(["README.md", *(f"{product.value}.md" for product in ProductType)])
    index = (ROOT / "docs" / "platforms" / "README.md").read_text()
    for page in pages:
        if page != "README.md":
            assert page in link_targets(index), page
    assert "docs/platforms/README.md" in link_targets((ROOT / "README.md").read_text())
    assert "platforms/README.md" in link_targets((ROOT / "docs" / "architecture.md").read_text())


# -- the checks themselves can fail --------------------------------------------------


def test_a_pointer_to_the_notes_is_found(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text("see ../" + "shared/platforms/ilert.md\n")
    (tmp_path / "b.py").write_text('"""Faithful to the docs."""\n\n# from shared/' + "seeds/x\n")
    (tmp_path / "c.md").write_text("clean\n")
    assert pointers_to_shared(tmp_path, ["a.md", "b.py", "c.md", "gone.md"]) == [
        "a.md:1",
        "b.py:3",
    ]


def test_a_mention_of_the_seed_is_found(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text("calls The Seed's API\n")
    (tmp_path / "b.py").write_text("# fixed by the random seed; seeded faults\n")
    assert seed_mentions(tmp_path, ["a.md", "b.py"]) == ["a.md:1"]


def test_broken_links_and_anchors_are_found(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "other.md").write_text("# Other\n\n## The `api.*` values (v2)\n")
    page = tmp_path / "docs" / "page.md"
    page.write_text(
        "# Page\n\n"
        "[fine](other.md#the-api-values-v2) [here](#page) [web](https://example.com/x)\n"
        "[missing](nothing.md) [anchor](other.md#nope) [self](#absent)\n"
        "[outside](../../etc/passwd)\n"
        "```console\n[not a link](fenced.md)\n```\n"
        "`[not a link](span.md)` ![picture](img.svg)\n\n"
        '[ref]: gone/ "title"\n<a href="also-gone.md">x</a>\n'
    )
    assert broken_links(tmp_path, page) == [
        "nothing.md: no such file",
        "other.md#nope: other.md has no heading #nope",
        "#absent: page.md has no heading #absent",
        "../../etc/passwd: no such file",
        "img.svg: no such file",
        "gone/: no such file",
        "also-gone.md: no such file",
    ]


def test_headings_become_githubs_anchors() -> None:
    text = (
        "# Troubleshooting\n## Stalled: waiting for you\n"
        "### The `ReconcileAlertIntegration` API (`api.*`)\n"
        "## How AlertSync spends a platform's rate limit\n## Notes\n## Notes\n"
        "```\n# not a heading\n```\n"
    )
    assert anchors(text) == {
        "troubleshooting",
        "stalled-waiting-for-you",
        "the-reconcilealertintegration-api-api",
        "how-alertsync-spends-a-platforms-rate-limit",
        "notes",
        "notes-1",
    }
