const test = require("node:test");
const assert = require("node:assert");
const { Bank } = require("./bank");

test("parallel transfers keep the total", async () => {
  const bank = new Bank({ a: 100, b: 100, c: 100 });
  const moves = [];
  for (let i = 0; i < 30; i++) {
    moves.push(bank.transfer("a", "b", 1), bank.transfer("b", "c", 1), bank.transfer("c", "a", 1));
  }
  await Promise.all(moves);
  const { a, b, c } = bank.balances;
  assert.strictEqual(a + b + c, 300);
  assert.deepStrictEqual(bank.balances, { a: 100, b: 100, c: 100 });
});
