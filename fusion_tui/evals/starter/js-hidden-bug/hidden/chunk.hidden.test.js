const test = require("node:test");
const assert = require("node:assert");
const { chunk } = require("./chunk");

test("short last page kept", () => {
  assert.deepStrictEqual(chunk([1, 2, 3, 4, 5], 2), [[1, 2], [3, 4], [5]]);
});

test("fewer items than a page", () => {
  assert.deepStrictEqual(chunk([1], 3), [[1]]);
});

test("empty", () => {
  assert.deepStrictEqual(chunk([], 3), []);
});
