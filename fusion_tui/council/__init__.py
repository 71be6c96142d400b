"""Council-then-act and the panel: several models' reasoning, one pair of hands."""
