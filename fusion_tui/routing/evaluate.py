"""Evaluate the gate on labelled requests: accuracy, per-tier precision and recall, the
confusion matrix, request kinds, and the hard rules (every plan-mode request at plan, every
compaction at compact).

Which requests are plan mode or compaction is decided here independently of the gate, from
the label file and the wire: a synthetic record's `kind` (plan_mode*, compaction*), a capture's
`kind` (compaction), `permission_mode: "plan"`, or Claude Code's literal plan-mode banner in a
system message or reminder. These literal checks are the evaluation's oracle only; the gate
never routes on them."""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from fusion_tui.routing.corpus import Labelled
from fusion_tui.routing.gate import Gate
from fusion_tui.routing.segments import permission_mode

TIERS = ("compact", "regular", "plan")
_PLAN_BANNER = "Plan mode is active"
_EXITED = ("Exited Plan Mode", "exited plan mode")


def _texts(body: dict[str, Any]) -> Iterable[tuple[str, str]]:
    for message in body.get("messages") or []:
        if not isinstance(message, dict):
            continue
        content = message.get("content")
        blocks = [content] if isinstance(content, str) else content or []
        for block in blocks:
            text = block if isinstance(block, str) else (
                block.get("text") if isinstance(block, dict) else None)
            if isinstance(text, str):
                yield str(message.get("role")), text


def plan_mode_truth(body: dict[str, Any]) -> bool:
    """Whether the request was sent in plan mode, by the wire's own marks (oracle only)."""
    mode = permission_mode(body)
    if mode is not None:
        return mode == "plan"
    state = False
    for _, text in _texts(body):
        if _PLAN_BANNER in text:
            state = True
        if any(e in text for e in _EXITED):
            state = False
    return state


def compaction_truth(item: Labelled) -> bool:
    """Whether the labelled request is a compaction request."""
    return item.kind.startswith("compact")


@dataclass
class EvalReport:
    """The outcome of `evaluate`. `confusion[true][predicted]` counts requests."""

    file: str
    total: int = 0
    correct: int = 0
    confusion: dict[str, dict[str, int]] = field(
        default_factory=lambda: {t: dict.fromkeys(TIERS, 0) for t in TIERS})
    plan_mode_total: int = 0
    plan_mode_below_plan: int = 0
    compaction_total: int = 0
    compaction_not_compact: int = 0
    kinds: dict[str, int] = field(default_factory=dict)
    latency_ms: list[float] = field(default_factory=list)
    misses: list[tuple[str, str, str, str]] = field(default_factory=list)  # id, true, got, why
    by_group: dict[str, list[int]] = field(default_factory=dict)  # group -> [correct, total]
    by_client: dict[str, list[int]] = field(default_factory=dict)
    by_lang: dict[str, list[int]] = field(default_factory=dict)

    @property
    def accuracy(self) -> float:
        """Share of requests put in their labelled tier."""
        return self.correct / self.total if self.total else 0.0

    def precision(self, tier: str) -> float:
        """Of the requests judged `tier`, the share labelled `tier`."""
        judged = sum(self.confusion[t][tier] for t in TIERS)
        return self.confusion[tier][tier] / judged if judged else 0.0

    def recall(self, tier: str) -> float:
        """Of the requests labelled `tier`, the share judged `tier`."""
        labelled = sum(self.confusion[tier].values())
        return self.confusion[tier][tier] / labelled if labelled else 0.0

    def add(self, item: Labelled, tier: str, reason: str, kind: str,
            latency_ms: float | None = None) -> None:
        """Count one judged request."""
        self.total += 1
        if latency_ms is not None:
            self.latency_ms.append(latency_ms)
        self.confusion[item.tier][tier] += 1
        self.kinds[kind] = self.kinds.get(kind, 0) + 1
        ok = tier == item.tier
        self.correct += ok
        if not ok:
            self.misses.append((item.id, item.tier, tier, reason))
        for table, key in ((self.by_group, item.group), (self.by_client, item.client),
                           (self.by_lang, item.lang)):
            if key:
                counts = table.setdefault(key, [0, 0])
                counts[0] += ok
                counts[1] += 1
        in_plan = item.kind.startswith("plan_mode") or plan_mode_truth(item.body)
        if in_plan and not compaction_truth(item):
            self.plan_mode_total += 1
            self.plan_mode_below_plan += tier != "plan"
        if compaction_truth(item):
            self.compaction_total += 1
            self.compaction_not_compact += tier != "compact"


def evaluate(items: Iterable[Labelled], gate: Gate, name: str = "") -> EvalReport:
    """Classify every labelled request and score the gate."""
    report = EvalReport(file=name)
    for item in items:
        decision = gate.classify(item.body)
        report.add(item, decision.tier, decision.reason, decision.kind, decision.latency_ms)
    return report


def format_report(report: EvalReport, misses: int = 10, groups: bool = False) -> str:
    """A plain-text report for the terminal."""
    lines = [f"routing eval: {report.file}",
             f"requests: {report.total}   accuracy: {report.accuracy:.1%} "
             f"({report.correct}/{report.total})",
             f"plan-mode requests: {report.plan_mode_total}   below plan: "
             f"{report.plan_mode_below_plan}",
             f"compaction requests: {report.compaction_total}   not compact: "
             f"{report.compaction_not_compact}",
             "kinds: " + ", ".join(f"{k} {v}" for k, v in sorted(report.kinds.items()))]
    if report.latency_ms:
        lat = sorted(report.latency_ms)
        p90 = lat[min(len(lat) - 1, int(0.9 * len(lat)))]
        lines.append(f"latency ms: p50 {statistics.median(lat):.1f}   p90 {p90:.1f}")
    lines += ["", f"{'tier':<9}{'precision':>10}{'recall':>8}{'n':>6}"]
    for tier in TIERS:
        lines.append(f"{tier:<9}{report.precision(tier):>10.2f}{report.recall(tier):>8.2f}"
                     f"{sum(report.confusion[tier].values()):>6}")
    lines += ["", "confusion (rows: label, columns: predicted)",
              f"{'':<9}" + "".join(f"{t:>9}" for t in TIERS)]
    for tier in TIERS:
        lines.append(f"{tier:<9}" + "".join(f"{report.confusion[tier][t]:>9}" for t in TIERS))
    for title, table in (("client", report.by_client), ("language", report.by_lang)):
        if table:
            lines += ["", f"by {title}: " + ", ".join(
                f"{k} {c}/{n} ({c / n:.0%})" for k, (c, n) in sorted(table.items()))]
    if groups and report.by_group:
        lines += ["", "by client/scenario (correct/total):"]
        lines += [f"  {g}: {c}/{n}" for g, (c, n) in sorted(report.by_group.items())]
    if report.misses and misses:
        lines += ["", f"first {min(misses, len(report.misses))} misses (id label -> got, why):"]
        lines += [f"  {i} {t} -> {g} ({why})" for i, t, g, why in report.misses[:misses]]
    return "\n".join(lines)
