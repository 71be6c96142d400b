const test = require("node:test");
const assert = require("node:assert");
const { validateName, validateCity, validateCode } = require("./validate");

test("name", () => {
  assert.deepStrictEqual(validateName("Al"), []);
  assert.deepStrictEqual(validateName("A"), ["name must be 2 to 40 characters"]);
});
test("city", () => {
  assert.deepStrictEqual(validateCity(""), ["city must be 1 to 60 characters"]);
});
test("code", () => {
  assert.deepStrictEqual(validateCode("ab"), [
    "code must be 4 to 10 characters", "code must be upper-case letters and digits"]);
  assert.deepStrictEqual(validateCode("AB12"), []);
});
