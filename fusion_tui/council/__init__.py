"""Council-then-act and the panel: several models' reasoning, one pair of hands. Run by the
turn engine (core/engine); it calls upstreams and publishes events, and knows no HTTP."""
