// An in-memory bank whose storage is asynchronous (like a database).
class Bank {
  constructor(balances) {
    this.balances = { ...balances };
  }

  async read(account) {
    await new Promise((resolve) => setImmediate(resolve));
    return this.balances[account];
  }

  async write(account, value) {
    await new Promise((resolve) => setImmediate(resolve));
    this.balances[account] = value;
  }

  // Move `amount` from one account to another; rejects if funds are short.
  async transfer(from, to, amount) {
    const a = await this.read(from);
    if (a < amount) throw new Error("insufficient funds");
    const b = await this.read(to);
    await this.write(from, a - amount);
    await this.write(to, b + amount);
  }
}

module.exports = { Bank };
