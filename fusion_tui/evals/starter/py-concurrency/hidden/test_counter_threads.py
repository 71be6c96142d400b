import threading
import unittest

from counter import Counter


class ThreadedCounterTest(unittest.TestCase):
    def test_many_threads(self):
        c = Counter()

        def work():
            for _ in range(2000):
                c.hit("k")

        threads = [threading.Thread(target=work) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(c.get("k"), 16000)


if __name__ == "__main__":
    unittest.main()
