const test = require("node:test");
const assert = require("node:assert");
const { greet } = require("./greet");

const USERS = [
  { id: 1, name: "Ana", locale: "pt-BR" },
  { id: 2, name: "Luc", locale: "fr-CA" },
  { id: 3, name: "Rui", locale: "pt-PT" },
  { id: 4, name: "Kim" },
  { id: 5, name: "Ola", locale: "nb-NO" },
];

test("exact locale", () => assert.strictEqual(greet(USERS, 1), "Oi, Ana!"));
test("language fallback", () => {
  assert.strictEqual(greet(USERS, 2), "Bonjour, Luc!");
  assert.strictEqual(greet(USERS, 3), "Olá, Rui!");
});
test("default fallback", () => {
  assert.strictEqual(greet(USERS, 4), "Hello, Kim!");
  assert.strictEqual(greet(USERS, 5), "Hello, Ola!");
});
