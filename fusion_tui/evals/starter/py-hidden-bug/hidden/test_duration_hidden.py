import unittest

from duration import parse_duration


class HiddenDurationTest(unittest.TestCase):
    def test_hours_seconds(self):
        self.assertEqual(parse_duration("1h5s"), 3605)

    def test_minutes_seconds(self):
        self.assertEqual(parse_duration("2m3s"), 123)

    def test_all_three(self):
        self.assertEqual(parse_duration("1h1m1s"), 3661)

    def test_out_of_order_rejected(self):
        with self.assertRaises(ValueError):
            parse_duration("5s1h")


if __name__ == "__main__":
    unittest.main()
