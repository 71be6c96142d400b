"""Make a small JSON value that satisfies a JSON schema (the subset tools and structured
output use in practice): objects, arrays, scalars, enum/const, anyOf/oneOf/allOf, local $ref."""

from __future__ import annotations

from typing import Any


def fill(schema: Any, root: Any = None, hint: str = "", depth: int = 0) -> Any:
    """A deterministic value valid for `schema`; `hint` (the property name) shapes strings."""
    root = schema if root is None else root
    if depth > 12 or not isinstance(schema, dict):
        return None
    if "$ref" in schema:
        return fill(_resolve(root, schema["$ref"]), root, hint, depth + 1)
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    for combinator in ("anyOf", "oneOf"):
        if schema.get(combinator):
            return fill(schema[combinator][0], root, hint, depth + 1)
    if schema.get("allOf"):
        merged: dict[str, Any] = {}
        for part in schema["allOf"]:
            merged = _merge(merged, part)
        return fill(merged, root, hint, depth + 1)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), kind[0] if kind else None)
    if kind == "object" or (kind is None and "properties" in schema):
        props = schema.get("properties") or {}
        required = schema["required"] if "required" in schema else list(props)
        return {name: fill(props.get(name, {}), root, name, depth + 1) for name in required}
    if kind == "array":
        count = max(1, int(schema.get("minItems", 1)))
        return [fill(schema.get("items", {}), root, hint, depth + 1) for _ in range(count)]
    if kind == "integer":
        return int(schema.get("minimum", schema.get("exclusiveMinimum", -1) + 1 or 1))
    if kind == "number":
        return float(schema.get("minimum", 1.0))
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    return _string(schema, hint)


def _string(schema: dict[str, Any], hint: str) -> str:
    text = {"title": "Simulated title", "summary": "A simulated summary.",
            "name": "example"}.get(hint, f"simulated {hint or 'value'}")
    min_len = int(schema.get("minLength", 0))
    max_len = schema.get("maxLength")
    if len(text) < min_len:
        text = text + "x" * (min_len - len(text))
    if max_len is not None:
        text = text[: int(max_len)]
    return text


def _resolve(root: Any, ref: str) -> Any:
    if not ref.startswith("#/"):
        return {}
    node = root
    for part in ref[2:].split("/"):
        if not isinstance(node, dict):
            return {}
        node = node.get(part, {})
    return node


def _merge(a: dict[str, Any], b: Any) -> dict[str, Any]:
    if not isinstance(b, dict):
        return a
    out = dict(a)
    for key, value in b.items():
        if key == "properties":
            out["properties"] = {**out.get("properties", {}), **value}
        elif key == "required":
            out["required"] = list(dict.fromkeys([*out.get("required", []), *value]))
        else:
            out[key] = value
    return out
