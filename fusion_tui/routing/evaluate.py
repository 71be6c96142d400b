"""Evaluate the gate on a labelled JSONL file: accuracy, per-tier precision and recall, the
confusion matrix, and how many plan-mode requests were judged below plan."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from pathlib import Path

from fusion_tui.routing.data import TIERS, load_examples
from fusion_tui.routing.gate import Gate


@dataclass
class EvalReport:
    """The outcome of `evaluate`. `confusion[true][predicted]` counts requests."""

    file: str
    total: int
    correct: int
    confusion: dict[str, dict[str, int]]
    plan_mode_total: int
    plan_mode_below_plan: int
    latency_ms: list[float] = field(default_factory=list)
    misses: list[tuple[str, str, str, str]] = field(default_factory=list)  # id, true, got, why

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


def evaluate(file: Path | str, gate: Gate) -> EvalReport:
    """Classify every request of a labelled JSONL file (records with `label` and either a
    whole `body` or compact `messages`) and score the gate. A request is plan mode when its
    record's `kind` starts with "plan_mode" or the gate's harness check says so."""
    confusion = {t: dict.fromkeys(TIERS, 0) for t in TIERS}
    report = EvalReport(file=str(file), total=0, correct=0, confusion=confusion,
                        plan_mode_total=0, plan_mode_below_plan=0)
    for example in load_examples(file):
        decision = gate.classify(example.body)
        report.total += 1
        report.latency_ms.append(decision.latency_ms)
        confusion[example.label][decision.tier] += 1
        if decision.tier == example.label:
            report.correct += 1
        else:
            report.misses.append((example.id, example.label, decision.tier, decision.reason))
        if example.kind.startswith("plan_mode") or decision.reason.startswith("harness:p"):
            report.plan_mode_total += 1
            if decision.tier != "plan":
                report.plan_mode_below_plan += 1
    return report


def format_report(report: EvalReport, misses: int = 10) -> str:
    """A plain-text report for the terminal."""
    lines = [f"routing eval: {report.file}",
             f"requests: {report.total}   accuracy: {report.accuracy:.1%} "
             f"({report.correct}/{report.total})",
             f"plan-mode requests: {report.plan_mode_total}   classified below plan: "
             f"{report.plan_mode_below_plan}"]
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
    if report.misses and misses:
        lines += ["", f"first {min(misses, len(report.misses))} misses (id label -> got, why):"]
        lines += [f"  {i} {t} -> {g} ({why})" for i, t, g, why in report.misses[:misses]]
    return "\n".join(lines)
