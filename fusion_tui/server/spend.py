"""`GET /fusion/sessions`: what routing cost and saved, per session and in total, with cache
hit rates per session and per upstream, tier shares, and the budgets."""

from __future__ import annotations

from aiohttp import web

from fusion_tui.server.app_keys import STATE


async def sessions(request: web.Request) -> web.Response:
    """The spend ledger as JSON (see council/savings.SpendLedger.as_dict), plus the
    configured baseline and budgets with today's spending."""
    state = request.app[STATE]
    ledger = state.spend.as_dict()
    budget = state.settings.budget
    for session_id, row in ledger["sessions"].items():
        check = state.budgets.check(session_id)
        row["budget"] = check.state.value if check is not None else "ok"
    return web.json_response({
        **ledger,
        "baseline": state.settings.savings.baseline or "client model",
        "budget": {"session_usd": budget.session_usd, "daily_usd": budget.daily_usd,
                   "near": budget.near, "today_usd": round(state.budgets.day_usd, 6)},
    })
