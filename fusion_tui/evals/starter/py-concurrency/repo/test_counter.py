import unittest

from counter import Counter


class CounterTest(unittest.TestCase):
    def test_single_thread(self):
        c = Counter()
        for _ in range(10):
            c.hit("a")
        self.assertEqual(c.get("a"), 10)
        self.assertEqual(c.get("b"), 0)


if __name__ == "__main__":
    unittest.main()
