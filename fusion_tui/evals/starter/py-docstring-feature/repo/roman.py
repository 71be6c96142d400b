"""Roman numerals."""


def to_roman(n: int) -> str:
    """The Roman numeral for n, 1 <= n <= 3999, in standard subtractive form
    (4 -> "IV", 9 -> "IX", 40 -> "XL", 90 -> "XC", 400 -> "CD", 900 -> "CM").
    Raises ValueError for n outside that range (and TypeError for a non-int)."""
    raise NotImplementedError
