const test = require("node:test");
const assert = require("node:assert");
const { total, toCents } = require("./cart");

test("total of integer cents", () => {
  assert.strictEqual(total([{ price: 250, qty: 2 }, { price: 99, qty: 1 }]), 599);
});

test("toCents rounds to whole cents", () => {
  assert.strictEqual(toCents(19.99), 1999);
  assert.strictEqual(toCents(0.29), 29);
});
