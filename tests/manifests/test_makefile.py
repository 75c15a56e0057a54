"""`make help` lists every target, and every target is phony and documented."""

import re
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).parents[2]
MAKEFILE = (ROOT / "Makefile").read_text()
# A rule with a help text: `name: prerequisites ## help` (not a variable assignment).
DOCUMENTED = re.compile(r"^([^\s:=$#]+):(?!=)[^#\n]*## (.+)$", re.MULTILINE)


def documented() -> dict[str, str]:
    return {name: text.strip() for name, text in DOCUMENTED.findall(MAKEFILE)}


def phony() -> set[str]:
    return {
        name
        for line in re.findall(r"^\.PHONY:(.*)$", MAKEFILE, re.MULTILINE)
        for name in line.split()
    }


def test_make_help_lists_every_documented_target() -> None:
    make = shutil.which("make")
    assert make is not None
    done = subprocess.run(  # noqa: S603 - make with fixed arguments
        [make, "-s", "--no-print-directory", "help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    listed = dict(line.split(maxsplit=1) for line in done.stdout.splitlines() if line.strip())
    assert listed == documented()
    assert "test-e2e" in listed  # a name with a digit


def test_every_target_is_phony_and_has_a_help_line() -> None:
    # Phony: `make docs` must run although docs/ exists.
    assert phony() == set(documented())
