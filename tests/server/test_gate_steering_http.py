"""A person's tier override in smart mode becomes a labelled example for `gate retrain`."""

from __future__ import annotations

from pathlib import Path

from fusion_tui.routing.modelstore import TEST_MODEL_FILE
from fusion_tui.routing.steering import SteeringExamples
from tests.support.http import call


def sim(uid: str) -> dict[str, object]:
    return {"id": uid, "type": "simulated", "model": uid, "first_token_ms": 1,
            "tokens_per_s": 5000}


async def test_a_forced_tier_is_stored_as_an_example(make_settings, start_proxy,
                                                     test_model_dir: Path):
    settings = make_settings(
        upstreams=[sim("actor")], pools={"actor": ["actor"]}, sessions={
            "dir": str(make_settings().sessions.dir), "record": "metadata"},
        routing={"mode": "smart", "embeddings": {"model": str(test_model_dir),
                                                 "file": TEST_MODEL_FILE, "wait_s": 60}})
    runtime = await start_proxy(settings)
    store = SteeringExamples()
    before = len(store.load())
    ask = {"model": "m", "max_tokens": 20, "messages": [
        {"role": "user", "content": "move the session store from files to sqlite"}]}
    runtime.state.controls.force_next_tier("s-1", "plan")
    forced = await call(runtime.address, "POST", "/v1/messages", json_body=ask,
                        headers={"x-fusion-session": "s-1"})
    assert forced.status == 200 and "tier=plan" in forced.headers["x-fusion-route"]
    judged = await call(runtime.address, "POST", "/v1/messages", json_body=ask,
                        headers={"x-fusion-session": "s-1"})
    assert judged.status == 200
    examples = store.load()[before:]
    assert [(e.tier, e.session_id) for e in examples] == [("plan", "s-1")]
    assert examples[0].segments.user == "move the session store from files to sqlite"
    assert '"body"' not in store.path.read_text()  # sessions.record is metadata
