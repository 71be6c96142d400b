"""The turn engine: a request's whole life after the server parsed it, with no HTTP in it.

`serve_turn(state, dialect, body, arrival, client)` routes, runs the council or the panel,
holds, calls the actor with failover, books the cost, publishes the events and reports the
outcome; everything for the client goes through the `Client` interface the server
implements. `Dialect` is what the engine knows of each client protocol."""

from fusion_tui.core.engine.client import Client
from fusion_tui.core.engine.dialects import ANTHROPIC, DIALECTS, OPENAI, RESPONSES, Dialect
from fusion_tui.core.engine.outcome import Outcome
from fusion_tui.core.engine.turn import Arrival, serve_turn

__all__ = ["ANTHROPIC", "DIALECTS", "OPENAI", "RESPONSES", "Arrival", "Client", "Dialect",
           "Outcome", "serve_turn"]
