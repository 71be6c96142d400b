"""Shop settings."""

# Percent off for members, as a whole number: 15 means 15 %.
MEMBER_DISCOUNT = 15
CURRENCY = "EUR"
