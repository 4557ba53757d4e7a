"""The project's packaging: environment.yml mirrors pyproject.toml; the layout is DESIGN.md's."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: pip names whose conda-forge package is named differently.
CONDA_NAME = {"psycopg[binary]": "psycopg"}


def _name(requirement: str) -> str:
    match = re.match(r"^([A-Za-z0-9_.\-]+(\[[a-z,]+\])?)", requirement)
    assert match, requirement
    name = match.group(1).lower()
    return CONDA_NAME.get(name, re.sub(r"\[.*\]", "", name))


def _bound(requirement: str) -> str:
    return requirement[len(re.match(r"^[A-Za-z0-9_.\-\[\],]+", requirement).group(0)) :]


def test_environment_yml_lists_the_pyproject_dependencies():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = {_name(r): _bound(r) for r in project["dependencies"]}
    wanted |= {_name(r): _bound(r) for r in project["optional-dependencies"]["test"]}
    listed = {}
    text = (ROOT / "environment.yml").read_text()
    for line in text.split("dependencies:", 1)[1].splitlines():
        item = re.match(r"^\s+-\s+([A-Za-z0-9_.\-]+)(.*)$", line)
        if item and item.group(1) == "pip" and item.group(2).strip() == ":":
            continue
        if item and item.group(1) not in ("python", "pip"):
            listed[item.group(1).lower()] = item.group(2).strip()
    assert listed == wanted


def test_lower_bounds_not_pins():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    for requirement in project["dependencies"]:
        assert "==" not in requirement and ">=" in requirement, requirement


def test_layout_of_design_md():
    for folder in ("app", "geo", "layers", "incidents", "store", "ingest", "assets"):
        assert (ROOT / folder).is_dir(), folder
    for folder in ("notebooks", "tests", "bench", "docs", ".ci"):
        assert (ROOT / folder).is_dir(), folder
    for package in ("app", "geo", "layers", "incidents", "store", "ingest"):
        assert (ROOT / package / "py.typed").is_file(), package
