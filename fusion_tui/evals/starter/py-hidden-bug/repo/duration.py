"""Parse durations like "1h30m", "45s", "2h"."""
import re

_PART = re.compile(r"(\d+)([hms])")
_SECONDS = {"h": 3600, "m": 60, "s": 1}
_ORDER = {"h": 0, "m": 1, "s": 2}


def parse_duration(text: str) -> int:
    """Seconds in a duration made of <number><unit> parts (units h, m, s, each at most once,
    in that order). Raises ValueError for anything else."""
    parts = _PART.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise ValueError(f"not a duration: {text!r}")
    for (_, before), (_, after) in zip(parts, parts[1:]):
        if _ORDER[after] <= _ORDER[before]:
            raise ValueError(f"units out of order in {text!r}")
    # Each part is worth 60 times the next one, counting back from the last unit.
    last = _SECONDS[parts[-1][1]]
    return sum(int(number) * last * 60 ** (len(parts) - 1 - i)
               for i, (number, _) in enumerate(parts))
