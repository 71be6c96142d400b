import unittest

import shop


class ShopTest(unittest.TestCase):
    def test_regular(self):
        self.assertEqual(shop.label(1000, member=False), "10.00 EUR")

    def test_member(self):
        self.assertEqual(shop.label(1000, member=True), "8.50 EUR")

    def test_rounding(self):
        self.assertEqual(shop.member_price(999), 849)


if __name__ == "__main__":
    unittest.main()
