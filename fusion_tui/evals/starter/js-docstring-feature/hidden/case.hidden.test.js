const test = require("node:test");
const assert = require("node:assert");
const { camelCase } = require("./case");

test("mixed separators and case", () => {
  assert.strictEqual(camelCase("  FOO-bar__baz qux "), "fooBarBazQux");
});

test("empty", () => {
  assert.strictEqual(camelCase(""), "");
  assert.strictEqual(camelCase(" -_ "), "");
});
