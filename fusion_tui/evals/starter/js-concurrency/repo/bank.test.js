const test = require("node:test");
const assert = require("node:assert");
const { Bank } = require("./bank");

test("one transfer", async () => {
  const bank = new Bank({ a: 10, b: 0 });
  await bank.transfer("a", "b", 4);
  assert.deepStrictEqual(bank.balances, { a: 6, b: 4 });
});
