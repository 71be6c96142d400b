const test = require("node:test");
const assert = require("node:assert");
const { chunk } = require("./chunk");

test("even split", () => {
  assert.deepStrictEqual(chunk([1, 2, 3, 4], 2), [[1, 2], [3, 4]]);
});

test("bad size", () => {
  assert.throws(() => chunk([1], 0), RangeError);
});
