"""The OpenAPI document made readable: the shape the ``/api/v1/docs`` page renders, with no script."""

from __future__ import annotations

from typing import Any, Mapping

METHODS = ("get", "post", "put", "patch", "delete")


def schema_text(schema: Mapping[str, Any] | None) -> str:
    """A schema in a few words: ``Topic``, ``list of string``, ``string (≤ 300)``, ``advance | escalate``."""
    if not schema:
        return ""
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[-1]
    for combined in ("oneOf", "anyOf"):
        if combined in schema:
            parts = [schema_text(s) for s in schema[combined] if s.get("type") != "null"]
            nullable = any(s.get("type") == "null" for s in schema[combined])
            return " | ".join(parts) + (" | null" if nullable else "")
    kind = schema.get("type", "")
    if kind == "array":
        return f"list of {schema_text(schema.get('items'))}"
    if "enum" in schema:
        return " | ".join(str(v) for v in schema["enum"])
    if "const" in schema:
        return repr(schema["const"]).strip("'")
    limits = []
    if "maxLength" in schema:
        limits.append(f"≤ {schema['maxLength']}")
    if "minimum" in schema or "maximum" in schema:
        limits.append(f"{schema.get('minimum', '')}…{schema.get('maximum', '')}")
    if schema.get("format"):
        kind = f"{kind} {schema['format']}"
    return kind + (f" ({', '.join(limits)})" if limits else "")


def page(doc: Mapping[str, Any]) -> dict[str, Any]:
    """Operations grouped by tag, each with its parameters, body and answers; the schemas with their fields."""
    tags = {tag["name"]: {"name": tag["name"], "description": tag.get("description", ""), "operations": []}
            for tag in doc.get("tags", [])}
    for path, item in doc.get("paths", {}).items():
        for method in METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            body = (operation.get("requestBody") or {}).get("content", {})
            entry = {
                "method": method.upper(), "path": path, "id": operation.get("operationId", ""),
                "summary": operation.get("summary", ""), "description": operation.get("description", ""),
                "parameters": [{"name": p["name"], "in": p["in"], "required": p.get("required", False),
                                "type": schema_text(p.get("schema")),
                                "description": p.get("description") or p.get("schema", {}).get("description", "")}
                               for p in operation.get("parameters", [])],
                "body": [{"type": mime, "schema": schema_text(media.get("schema"))} for mime, media in body.items()],
                "responses": [{"status": status, "description": answer.get("description", ""),
                               "schema": ", ".join(schema_text(m.get("schema")) for m in answer.get("content", {}).values())}
                              for status, answer in sorted(operation.get("responses", {}).items())],
            }
            for tag in operation.get("tags") or ["api"]:
                tags.setdefault(tag, {"name": tag, "description": "", "operations": []})["operations"].append(entry)
    schemas = []
    for name, schema in sorted(doc.get("components", {}).get("schemas", {}).items()):
        required = set(schema.get("required", []))
        fields = [{"name": field, "type": schema_text(spec), "required": field in required,
                   "description": spec.get("description", "")}
                  for field, spec in schema.get("properties", {}).items()]
        schemas.append({"name": name, "description": schema.get("description", ""), "fields": fields,
                        "type": "" if fields else schema_text(schema)})
    return {"title": doc.get("info", {}).get("title", ""), "version": doc.get("info", {}).get("version", ""),
            "openapi": doc.get("openapi", ""), "description": doc.get("info", {}).get("description", ""),
            "tags": [t for t in tags.values() if t["operations"]], "schemas": schemas}
