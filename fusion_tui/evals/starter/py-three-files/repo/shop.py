"""What the shop shows at the till."""
import rules
import settings


def member_price(price_cents: int) -> int:
    """A member's price in cents."""
    return rules.discounted(price_cents, settings.MEMBER_DISCOUNT)


def label(price_cents: int, member: bool) -> str:
    """The price tag, e.g. "8.50 EUR"."""
    cents = member_price(price_cents) if member else price_cents
    return f"{cents / 100:.2f} {settings.CURRENCY}"
