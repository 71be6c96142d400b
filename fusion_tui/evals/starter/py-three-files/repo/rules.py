"""Discount rules. Rates are fractions: 0.15 means 15 % off."""


def discounted(price_cents: int, rate: float) -> int:
    """The price after taking `rate` off, rounded to the nearest cent."""
    if not 0 <= rate <= 1:
        raise ValueError(f"rate must be a fraction in 0..1, got {rate}")
    return round(price_cents * (1 - rate))
