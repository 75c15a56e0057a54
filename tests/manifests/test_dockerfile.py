"""The Dockerfile, read as Docker reads it (no engine here): the operator alone, its ports."""

import re
import shutil
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).parents[2]

Instruction = tuple[str, str]  # (INSTRUCTION, its arguments)


def stages() -> list[list[Instruction]]:
    """The Dockerfile's instructions, one list per FROM (continuations joined)."""
    text = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text())
    found: list[list[Instruction]] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        instruction, _, arguments = line.partition(" ")
        if instruction.upper() == "FROM":
            found.append([])
        found[-1].append((instruction.upper(), arguments.strip()))
    return found


def arguments(stage: list[Instruction], instruction: str) -> list[str]:
    return [args for name, args in stage if name == instruction]


def discovered(root: Path) -> set[str]:
    """What setuptools' packages.find (namespaces on, as in pyproject.toml) finds under root:
    every directory, as a dotted name."""
    return {
        ".".join(path.relative_to(root).parts)
        for path in root.rglob("*")
        if path.is_dir() and "__pycache__" not in path.parts
    }


def documented_port(flag: str) -> int:
    """The default port of an `alertsync run` flag, from docs/configuration.md's table."""
    for line in (ROOT / "docs" / "configuration.md").read_text().splitlines():
        if line.startswith(f"| `{flag}`"):
            found = re.search(r":(\d+)", line.split("|")[2])
            assert found, line
            return int(found.group(1))
    raise AssertionError(f"{flag} is not in docs/configuration.md")


def test_the_image_exposes_health_metrics_and_the_api() -> None:
    values = yaml.safe_load((ROOT / "charts" / "alertsync" / "values.yaml").read_text())
    final = stages()[-1]
    exposed = {int(port) for line in arguments(final, "EXPOSE") for port in line.split()}
    assert exposed == {
        documented_port("--health"),
        documented_port("--metrics"),
        values["api"]["port"],
    }
    assert exposed == {8080, 8081, 8082}


def test_the_image_installs_the_operator_and_not_the_sandbox(tmp_path: Path) -> None:
    build = stages()[0]
    # Lay out the build context as its COPY instructions do, then discover packages as
    # pyproject.toml tells setuptools to: only alertsync may be found.
    for line in arguments(build, "COPY"):
        *sources, destination = line.split()
        assert not any(source.startswith("--") for source in sources), line
        for source in sources:
            target = tmp_path / destination / (Path(source).name if destination == "./" else "")
            if (ROOT / source).is_dir():
                shutil.copytree(ROOT / source, target, dirs_exist_ok=True)
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy(ROOT / source, target)
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    where = pyproject["tool"]["setuptools"]["packages"]["find"]["where"]
    packages = {p for root in where for p in discovered(tmp_path / root)}
    assert "alertsync" in packages
    assert {p.split(".")[0] for p in packages} == {"alertsync"}
    assert not (tmp_path / "operator" / "alertsim").exists()
    installs = [line for line in arguments(build, "RUN") if "pip install" in line]
    assert installs, "the build stage installs nothing"
    assert all("[" not in line for line in installs), "no extras (sandbox, dev) in the image"


def test_the_image_runs_the_operator_as_non_root() -> None:
    final = stages()[-1]
    assert arguments(final, "USER")[-1].split(":")[0] not in ("", "0", "root")
    assert arguments(final, "ENTRYPOINT") == ['["alertsync", "run"]']
    assert (ROOT / "LICENSE").read_text().strip().startswith("Apache License")
