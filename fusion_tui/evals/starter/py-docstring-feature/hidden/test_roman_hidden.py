import unittest

from roman import to_roman


class HiddenRomanTest(unittest.TestCase):
    def test_subtractive(self):
        for n, s in [(4, "IV"), (9, "IX"), (14, "XIV"), (40, "XL"), (90, "XC"),
                     (400, "CD"), (900, "CM"), (1994, "MCMXCIV"), (3999, "MMMCMXCIX")]:
            self.assertEqual(to_roman(n), s)

    def test_range(self):
        for bad in (0, -1, 4000):
            with self.assertRaises(ValueError):
                to_roman(bad)

    def test_type(self):
        with self.assertRaises(TypeError):
            to_roman("7")


if __name__ == "__main__":
    unittest.main()
