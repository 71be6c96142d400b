import unittest

from report import render_summary, render_text


class ReportTest(unittest.TestCase):
    ROWS = [("apples", 3.5), ("  pears ", 12.25), ("a-very-long-fruit-name", 1.0)]

    def test_text(self):
        self.assertEqual(render_text(self.ROWS).splitlines(), [
            "apples            3.50", "pears            12.25", "a-very-long-      1.00"])

    def test_summary(self):
        self.assertEqual(render_summary(self.ROWS).splitlines(), [
            "pears            12.25", "TOTAL            16.75"])

    def test_empty(self):
        self.assertEqual(render_summary([]), "")


if __name__ == "__main__":
    unittest.main()
