"""Composing the council from the dashboard: a few pickers in a row (what to change, where,
with whom) that end in one `SteeringControls` act: add an upstream as an advisor, replace
an advisor with another upstream, change the judge, give an advisor a perspective, or undo.
For the selected session or everywhere."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from fusion_tui.core.steering_api import Act, SteeringControls
from fusion_tui.tui.screens.picker import PickerScreen

if TYPE_CHECKING:
    from fusion_tui.tui.screens.dashboard import DashboardScreen

PERSPECTIVES: tuple[str, ...] = (
    "adversarial reviewer: find what will break",
    "security reviewer: what could leak, be injected or escalate",
    "simplicity: the smallest change that solves it",
    "performance: what will be slow at scale",
    "tests first: how will we know it works",
)
"""Stances offered by the picker (any text goes over HTTP: `fusion-tui steer set_perspective`)."""

CHANGES: tuple[tuple[str, str], ...] = (
    ("add", "add an upstream as an advisor"),
    ("replace", "replace an advisor with another upstream"),
    ("judge", "change the judge"),
    ("perspective", "give an advisor a perspective"),
    ("undo", "undo an addition or replacement"),
    ("judge_reset", "the configured judge again"),
)

def composer(screen: DashboardScreen, controls: SteeringControls, session: str | None,
             advisors: list[str], upstreams: list[str],
             steer: Callable[[Callable[[], Act], str], bool]) -> None:
    """Open the first picker; each choice opens the next, the last applies the act."""

    def pick(title: str, options: list[tuple[str, str]], then: Callable[[str], object]
             ) -> None:
        def chosen(choice: str | None) -> None:
            if choice:
                then(choice)
        screen.app.push_screen(PickerScreen(title, options), chosen)

    def scoped(change: str) -> None:
        if not session:
            with_scope(change, "global")
            return
        pick(f"{change}: where", [("session", f"in session {session}"),
                                  ("global", "everywhere")],
             lambda scope: with_scope(change, scope))

    def with_scope(change: str, scope: str) -> None:
        where = session if scope == "session" else None
        said = f"in {session}" if where else "everywhere"
        everyone = [(u, u) for u in upstreams]
        seated = [(a, a) for a in advisors]
        if change == "add":
            pick("add which upstream as an advisor", everyone, lambda u: steer(
                lambda: controls.add_advisor(u, where), f"{u} sits on the council {said}"))
        elif change == "replace":
            pick("replace which advisor", seated, lambda a: pick(
                f"who sits instead of {a}", [o for o in everyone if o[0] != a],
                lambda u: steer(lambda: controls.replace_advisor(a, u, where),
                                f"{u} replaces {a} {said}")))
        elif change == "judge":
            pick("who judges", everyone, lambda u: steer(
                lambda: controls.set_judge(u, where), f"{u} judges {said}"))
        elif change == "judge_reset":
            steer(lambda: controls.set_judge(None, where), f"the configured judge {said}")
        elif change == "perspective":
            pick("give which advisor a perspective", seated, lambda a: pick(
                f"perspective for {a}", [(p, p) for p in PERSPECTIVES]
                + [("", "(the configured one)")],
                lambda p: steer(lambda: controls.set_perspective(a, p or None, where),
                                f"{a}: {p or 'configured perspective'} {said}")))
        elif change == "undo":
            pick("undo which addition or replacement", everyone, lambda u: steer(
                lambda: controls.remove_advisor(u, where), f"{u} off the council {said}"))

    title = f"compose the council{' of ' + session if session else ' (everywhere)'}"
    pick(title, list(CHANGES), scoped)
