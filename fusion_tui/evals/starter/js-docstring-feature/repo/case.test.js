const test = require("node:test");
const assert = require("node:assert");
const { camelCase } = require("./case");

test("two words", () => {
  assert.strictEqual(camelCase("hello world"), "helloWorld");
});
