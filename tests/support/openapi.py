"""Checks a response of the ReconcileAlertIntegration API against docs/api/openapi.yaml."""

from pathlib import Path
from typing import Any

import httpx
import jsonschema
import yaml

__all__ = ["OPENAPI", "conforms"]

OPENAPI: dict[str, Any] = yaml.safe_load(
    (Path(__file__).parents[2] / "docs" / "api" / "openapi.yaml").read_text()
)


def conforms(response: httpx.Response, path: str, method: str) -> None:
    """The response is one the OpenAPI file documents, status and body."""
    operation = OPENAPI["paths"][path][method]
    documented = operation["responses"][str(response.status_code)]
    if "$ref" in documented:
        documented = OPENAPI["components"]["responses"][documented["$ref"].rsplit("/", 1)[1]]
    schema = documented["content"]["application/json"]["schema"]
    jsonschema.validate(
        response.json(),
        {**schema, "components": OPENAPI["components"]},
        format_checker=jsonschema.FormatChecker(),
    )
