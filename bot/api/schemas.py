"""The API's pydantic models, made from the data standard's columns, and the OpenAPI 3.1 document made from them.

The models that validate request bodies are the ones the document describes, so the two cannot
drift. Structure (types, unknown fields, batch size) is checked here; the values' rules and
messages are the CSV importer's (bot.csvio), applied to every row the same way as to a file.
"""

from __future__ import annotations

from functools import cache
from typing import Any, Optional

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, create_model
from pydantic.json_schema import models_json_schema

from bot.csvio.columns import COLUMNS, Column
from bot.services.api_feed import EXTERNAL_KEY, MAX_PAGE, MODELS, WRITABLE, output_fields
from bot.services.api_write import MAX_BATCH

KINDS = tuple(MODELS)
_PATTERNS = {
    "money": r"^-?\d{1,16}(\.\d{1,2})?$",
    "user": r"^[UW][A-Z0-9]{2,31}$",
    "date": r"^\d{4}-\d{2}-\d{2}$",
    "period": r"^\d{4}(-Q[1-4]|-\d{2}|-W\d{2})?$",
}
_FORMATS = {"date": "date", "datetime": "date-time"}


_SINGULAR = {
    "members": "Member", "customers": "Customer", "deals": "Deal", "tasks": "Task", "targets": "Target",
    "activities": "Activity", "expenses": "Expense", "survey_answers": "SurveyAnswer",
}


def _title(kind: str) -> str:
    return _SINGULAR[kind]


def _extra(col: Column) -> dict[str, Any]:
    """What the document says about a column beyond its JSON type (the importer checks it, with its own messages)."""
    extra: dict[str, Any] = {}
    if col.choices:
        extra["enum"] = list(col.choices) + ([] if col.required else [None])
    if col.max_len:
        extra["maxLength"] = col.max_len
    if col.type in _PATTERNS and col.type != "money":
        extra["pattern"] = _PATTERNS[col.type]
    if col.type in _FORMATS:
        extra["format"] = _FORMATS[col.type]
    return extra


def _input_field(col: Column) -> tuple[Any, Any]:
    if col.type == "users":
        annotation: Any = list[StrictStr]
        extra: dict[str, Any] = {"items": {"type": "string", "pattern": _PATTERNS["user"]}}
    elif col.type == "money":
        # Decimal text (or a whole number), never a float: a binary fraction is not an amount of money.
        annotation = StrictStr | StrictInt
        extra = {"anyOf": [{"type": "string", "pattern": _PATTERNS["money"]}, {"type": "integer"}]}
    elif col.type == "int":
        annotation = StrictInt
        extra = {"minimum": col.minimum, "maximum": col.maximum}
    else:
        annotation = StrictStr
        extra = _extra(col)
    examples = [col.example] if col.example else None
    if col.type == "users" and col.example:
        examples = [col.example.split()]
    if col.required:
        return annotation, Field(..., description=col.meaning, examples=examples, json_schema_extra=extra)
    if "anyOf" in extra:
        extra = {"anyOf": [*extra["anyOf"], {"type": "null"}]}
    return Optional[annotation], Field(None, description=col.meaning, examples=examples, json_schema_extra=extra)


@cache
def row_model(kind: str) -> type[BaseModel]:
    """The body of one row of a writable kind: the data standard's columns; one left out leaves that field as it is."""
    fields = {c.name: _input_field(c) for c in COLUMNS[kind]}
    return create_model(f"{_title(kind)}Row", __config__=ConfigDict(extra="forbid"), __doc__=f"One row of {kind} in the data standard.", **fields)


@cache
def upsert_model(kind: str) -> type[BaseModel]:
    """The body of a single upsert: a row whose external_id may be left out (the path names it)."""
    fields = {c.name: _input_field(c) for c in COLUMNS[kind]}
    annotation, info = fields["external_id"]
    fields["external_id"] = (Optional[annotation], Field(None, description="must equal the path's external id when given"))
    return create_model(f"{_title(kind)}Upsert", __config__=ConfigDict(extra="forbid"), __doc__=f"One {kind} row to create or update.", **fields)


@cache
def batch_model(kind: str) -> type[BaseModel]:
    """The body of a batch upsert: up to MAX_BATCH rows, applied all or nothing."""
    return create_model(
        f"{_title(kind)}Batch", __config__=ConfigDict(extra="forbid"), __doc__=f"Up to {MAX_BATCH} {kind} rows, applied all or nothing.",
        rows=(list[row_model(kind)], Field(..., min_length=1, max_length=MAX_BATCH)),
    )


_OUT_TYPES: dict[str, Any] = {"int": Optional[int], "bool": Optional[bool], "users": list[str]}


@cache
def out_model(kind: str) -> type[BaseModel]:
    """A row as the API returns it: id, updated_at and the kind's fields."""
    fields: dict[str, Any] = {
        "id": (int, Field(..., description="the row's id in salesbot")),
        "updated_at": (Optional[str], Field(None, description="when the row last changed (UTC)", json_schema_extra={"format": "date-time"})),
    }
    for name, type_, meaning in output_fields(kind):
        fields[name] = (_OUT_TYPES.get(type_, Optional[str]), Field(..., description=meaning))
    return create_model(_title(kind), __doc__=f"One row of {kind}.", **fields)


@cache
def page_model(kind: str) -> type[BaseModel]:
    """A page of a kind in change order, with the cursor the next pull starts from."""
    return create_model(
        f"{_title(kind)}Page", __doc__=f"A page of {kind}, oldest change first.",
        data=(list[out_model(kind)], ...),
        next_cursor=(str, Field(..., description="pass as `cursor` to get the changes after this page; kept at the end, so polling with it sees new changes")),
        has_more=(bool, Field(..., description="true when another page is ready now")),
    )


class Counts(BaseModel):
    """What an upsert did."""

    created: int
    updated: int
    unchanged: int
    failed: int


@cache
def upserted_model(kind: str) -> type[BaseModel]:
    """The answer to a single upsert: the counts and the row as stored."""
    return create_model(f"{_title(kind)}Upserted", __base__=Counts, __doc__=f"The {kind} row as stored.", data=(out_model(kind), ...))


class BatchDone(Counts):
    """The answer to a batch upsert: counts, and each row's external id in request order."""

    external_ids: list[str]


class FieldProblem(BaseModel):
    """One thing wrong with a request: the row (batch index), the field, a JSON pointer into the body and a message."""

    row: Optional[int] = None
    field: Optional[str] = None
    pointer: Optional[str] = None
    message: str


class Problem(BaseModel):
    """An error, as RFC 9457 problem details."""

    model_config = ConfigDict(extra="allow")

    type: str = "about:blank"
    title: str
    status: int
    detail: Optional[str] = None
    errors: Optional[list[FieldProblem]] = None


_PROBLEM = {"description": "problem details (RFC 9457)", "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}}


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(name: str, description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref(name)}}}


def _errors(*codes: int) -> dict[str, Any]:
    return {str(c): {"$ref": "#/components/responses/Problem"} for c in codes}


@cache
def openapi() -> dict[str, Any]:
    """The OpenAPI 3.1 document of /api/v1."""
    models: list[type[BaseModel]] = [Problem, FieldProblem, Counts, BatchDone]
    for kind in KINDS:
        models += [out_model(kind), page_model(kind)]
        if kind in WRITABLE:
            models += [row_model(kind), upsert_model(kind), batch_model(kind), upserted_model(kind)]
    _, schema = models_json_schema([(m, "validation") for m in models], ref_template="#/components/schemas/{model}")
    paths: dict[str, Any] = {}
    id_param = {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}
    ext_param = {"name": "external_id", "in": "path", "required": True, "schema": {"type": "string", "maxLength": 100}}
    key_header = {"name": "Idempotency-Key", "in": "header", "required": False, "schema": {"type": "string", "maxLength": 255},
                  "description": "a retry with the same key and body gets the first answer and changes nothing; another body with it is refused (422)"}
    for kind in KINDS:
        title = _title(kind)
        paths[f"/api/v1/{kind}"] = {"get": {
            "operationId": f"list_{kind}", "summary": f"List {kind}, oldest change first (incremental pull)", "tags": [kind],
            "parameters": [
                {"name": "cursor", "in": "query", "schema": {"type": "string"}, "description": "next_cursor of the previous page"},
                {"name": "updated_since", "in": "query", "schema": {"type": "string", "format": "date-time"}, "description": "only rows changed at or after this time"},
                {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 100}},
            ],
            "responses": {"200": _json(f"{title}Page", "a page"), **_errors(400, 401, 429, 503)},
        }}
        paths[f"/api/v1/{kind}/{{id}}"] = {"get": {
            "operationId": f"get_{kind}", "summary": f"One of {kind} by id", "tags": [kind], "parameters": [id_param],
            "responses": {"200": _json(title, "the row"), **_errors(401, 404, 429, 503)},
        }}
        if kind in EXTERNAL_KEY:
            item: dict[str, Any] = {"get": {
                "operationId": f"get_{kind}_by_external_id", "summary": f"One of {kind} by {EXTERNAL_KEY[kind]}", "tags": [kind],
                "parameters": [ext_param], "responses": {"200": _json(title, "the row"), **_errors(401, 404, 429, 503)},
            }}
            if kind in WRITABLE:
                item["put"] = {
                    "operationId": f"upsert_{kind}", "summary": f"Create or update one of {kind} by external id (write tokens)", "tags": [kind],
                    "parameters": [ext_param, key_header],
                    "requestBody": {"required": True, "content": {"application/json": {"schema": _ref(f"{title}Upsert")}}},
                    "responses": {"200": _json(f"{title}Upserted", "the row as stored"), **_errors(400, 401, 403, 409, 413, 422, 429, 503)},
                }
            paths[f"/api/v1/{kind}/external/{{external_id}}"] = item
        if kind in WRITABLE:
            paths[f"/api/v1/{kind}/batch"] = {"post": {
                "operationId": f"batch_{kind}", "summary": f"Create or update up to {MAX_BATCH} {kind}, all or nothing (write tokens)", "tags": [kind],
                "parameters": [key_header],
                "requestBody": {"required": True, "content": {"application/json": {"schema": _ref(f"{title}Batch")}}},
                "responses": {"200": _json("BatchDone", "every row applied"), **_errors(400, 401, 403, 409, 413, 422, 429, 503)},
            }}
    return {
        "openapi": "3.1.0",
        "info": {"title": "salesbot API", "version": "1.0.0", "description": "The data standard's kinds over HTTP: incremental pulls and all-or-nothing upserts."},
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {
            "schemas": schema.get("$defs", {}),
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "description": "a token from `/salesbot api token create`"}},
            "responses": {"Problem": _PROBLEM},
        },
    }

