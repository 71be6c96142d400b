"""The configuration reference (docs/configuration.md), generated from the Settings schema so
the docs cannot drift from the code: `python scripts/gen_config_reference.py`."""

from __future__ import annotations

import types
import typing
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from fusion_tui.config.settings import Settings

INTRO = """# Configuration reference

Generated from the settings schema (`python scripts/gen_config_reference.py`); a test keeps it
in step with the code.

Sources, strongest first: `FUSION_` environment variables (nested keys joined by `__`, e.g.
`FUSION_SERVER__PORT=9000`, `FUSION_ROUTING__MODE=single`; lists and mappings as JSON, e.g.
`FUSION_POOLS='{"actor": ["opus"]}'`), then the YAML file (`--config FILE`, else
`$FUSION_CONFIG`, else `./config.yaml`). Unknown keys are errors, so a typo is reported, not
ignored; a bad file names the file, the key and what was expected, and exits 2.
`fusion-tui check` prints the resolved configuration with secrets masked. API keys never go
in the file: `api_key_env` names the environment variable that holds one.
"""


def _type_name(annotation: Any) -> str:
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Literal:
        return " \\| ".join(str(a) for a in args)
    if isinstance(annotation, type) and issubclass(annotation, StrEnum):
        return " \\| ".join(member.value for member in annotation)
    if origin in (typing.Union, types.UnionType):
        return " \\| ".join(_type_name(a) for a in args)
    if origin in (list, tuple):
        return f"list of {_type_name(args[0])}" if args else "list"
    if origin is dict:
        return f"map of {_type_name(args[1])}" if len(args) == 2 else "map"
    if annotation is type(None):
        return "null"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation.__name__
    return getattr(annotation, "__name__", str(annotation))


def _default(field: FieldInfo) -> str:
    if field.default is PydanticUndefined and field.default_factory is None:
        return "required"
    if field.default_factory is not None:
        value = field.default_factory()  # type: ignore[call-arg]
        if isinstance(value, BaseModel):
            return "(section)"
        if isinstance(value, Path):  # a platform folder (config/paths.py): machine-specific
            return "platform folder"
        return f"`{value!r}`" if value not in ({}, []) else "empty"
    if isinstance(field.default, StrEnum):
        return f"`{field.default.value!r}`"
    if isinstance(field.default, bool):
        return f"`{str(field.default).lower()}`"
    return f"`{field.default!r}`" if field.default is not None else "`null`"


def _models(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    found: list[type[BaseModel]] = []
    for arg in typing.get_args(annotation):
        found += _models(arg)
    return found


def _section(path: str, model: type[BaseModel], seen: set[type[BaseModel]]) -> list[str]:
    lines = [f"## {path}", ""]
    if model.__doc__ and model is not Settings:
        lines += [" ".join(model.__doc__.split()), ""]
    lines += ["| key | type | default | meaning |", "| --- | --- | --- | --- |"]
    nested: list[tuple[str, type[BaseModel]]] = []
    for name, field in model.model_fields.items():
        description = " ".join((field.description or "").split()).replace("|", "\\|")
        lines.append(f"| `{name}` | {_type_name(field.annotation)} | {_default(field)} | "
                     f"{description} |")
        for sub in _models(field.annotation):
            origin = typing.get_origin(field.annotation)
            suffix = "[]" if origin is list else ".<id>" if origin is dict else ""
            prefix = "" if model is Settings else f"{path}."
            nested.append((f"{prefix}{name}{suffix}", sub))
    lines.append("")
    for sub_path, sub in nested:
        if sub not in seen:
            seen.add(sub)
            lines += _section(sub_path, sub, seen)
    return lines


def render() -> str:
    """The whole reference as Markdown."""
    body = _section("top level", Settings, {Settings})
    return INTRO + "\n" + "\n".join(body).rstrip() + "\n"

