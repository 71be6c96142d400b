"""Arms: named config overlays applied to one base config, one proxy per arm.

Built in: `solo` (the actor alone), `council` (advisors + judge + actor on every tool turn),
`council-nojudge` (the same advisors, the judge skipped: the actor gets their opinions) and
`self` (council.self_consistency: the actor sampled N times as the advisors). Users add their
own in a YAML file of name -> overlay (see docs/eval.md)."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from fusion_tui.config import ConfigError, Settings, load_settings

BUILTIN_ARMS = ("solo", "council", "council-nojudge", "self")
SIMULATED_BASE = Path(__file__).resolve().parent / "simulated.yaml"
"""The base config when none is given: every model simulated, paced fast."""

ADD_UPSTREAMS = "add_upstreams"
"""Overlay key whose list is appended to the base's upstreams (instead of replacing them)."""

class ArmError(Exception):
    """An arm cannot be built; the message says which and why."""


@dataclass(frozen=True)
class Arm:
    """One arm: its name and the complete config it runs on (as plain data)."""

    name: str
    config: dict[str, Any]
    description: str


def deep_merge(base: dict[str, Any], overlay: dict[str, Any]) -> dict[str, Any]:
    """`overlay` over `base`: mappings merge key by key, anything else is replaced;
    `add_upstreams` is appended to `upstreams`."""
    out = copy.deepcopy(base)
    for key, value in overlay.items():
        if key == ADD_UPSTREAMS:
            if not isinstance(value, list):
                raise ArmError(f"{ADD_UPSTREAMS} must be a list of upstreams")
            out["upstreams"] = [*out.get("upstreams", []), *copy.deepcopy(value)]
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


SELF_TEMPERATURES = [0.2, 0.6, 1.0]
"""The `self` arm's sample temperatures, cycled (at most 1: Anthropic's API limit)."""


def self_overlay(base: dict[str, Any], n: int) -> dict[str, Any]:
    """The `self` arm: council.self_consistency, the turn's actor sampled N times (seats
    `<actor>#1..N`, temperatures SELF_TEMPERATURES cycled) as the whole council, the judge
    as configured."""
    if n < 1:
        raise ArmError("self needs at least one sample (--self-n)")
    if not (base.get("pools") or {}).get("actor"):
        raise ArmError("self: the base config has no pools.actor to sample")
    return {"council": {"enabled": True, "trigger": "always", "self_consistency": {
        "upstream": "actor", "samples": n, "temperatures": SELF_TEMPERATURES}}}


def builtin_overlay(name: str, base: dict[str, Any], self_n: int) -> dict[str, Any]:
    """The overlay of a built-in arm."""
    if name == "solo":
        return {"council": {"enabled": False}}
    if name == "council":
        return {"council": {"enabled": True, "trigger": "always"}}
    if name == "council-nojudge":
        return {"council": {"enabled": True, "trigger": "always", "synthesize": False}}
    if name == "self":
        return self_overlay(base, self_n)
    raise ArmError(f"no built-in arm {name!r}")


def read_arms_file(path: Path) -> dict[str, dict[str, Any]]:
    """A YAML mapping of arm name -> overlay."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ArmError(f"{path}: cannot read arms file: {exc.strerror or exc}") from exc
    except yaml.YAMLError as exc:
        raise ArmError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict) or not all(
            isinstance(k, str) and isinstance(v, dict) for k, v in data.items()):
        raise ArmError(f"{path}: expected a mapping of arm name -> config overlay mapping")
    return data


def read_base(path: Path | None) -> dict[str, Any]:
    """The base config as plain data (the simulated one when `path` is None)."""
    source = path or SIMULATED_BASE
    try:
        data = yaml.safe_load(source.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ArmError(f"{source}: cannot read config: {exc.strerror or exc}") from exc
    except yaml.YAMLError as exc:
        raise ArmError(f"{source}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ArmError(f"{source}: expected a mapping at the top level")
    return data


def build_arms(names: list[str], base: dict[str, Any], custom: dict[str, dict[str, Any]],
               sessions_root: Path, self_n: int = 3) -> list[Arm]:
    """Each named arm's full config: base + the arm's overlay + what the eval needs (a free
    loopback port, full recordings in a folder of the arm's own). Each is validated."""
    arms = []
    for name in names:
        if name in custom:
            overlay, what = custom[name], "user overlay"
        elif name in BUILTIN_ARMS:
            overlay, what = builtin_overlay(name, base, self_n), "built-in"
        elif name == "alloy":
            raise ArmError(
                "alloy (a fresh actor on every turn) cannot be written as an overlay yet: the "
                "proxy pins a session's actor; define an arm in --arms-file once it can")
        else:
            raise ArmError(f"unknown arm {name!r}: built-in arms are "
                           f"{', '.join(BUILTIN_ARMS)}; others go in --arms-file")
        config = deep_merge(base, overlay)
        config = deep_merge(config, {
            "server": {"host": "127.0.0.1", "port": 0},
            "sessions": {"dir": str(sessions_root / name), "record": "full",
                         "keep_days": None, "max_mb": None}})
        validate(name, config)
        arms.append(Arm(name, config, what))
    return arms


def validate(name: str, config: dict[str, Any]) -> Settings:
    """The arm's config as Settings, or an ArmError naming the arm and the bad key."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{name}.yaml"
        path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
        try:
            return load_settings(path)
        except ConfigError as exc:
            raise ArmError(f"arm {name!r}: {exc}") from exc
