import unittest

from slugify import slugify


class SlugifyTest(unittest.TestCase):
    def test_simple(self):
        self.assertEqual(slugify("Hello World"), "hello-world")

    def test_punctuation_collapses(self):
        self.assertEqual(slugify("Hello, World!"), "hello-world")

    def test_edges_trimmed(self):
        self.assertEqual(slugify("  -- Ready? Go --  "), "ready-go")


if __name__ == "__main__":
    unittest.main()
