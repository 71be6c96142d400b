// An in-memory bank whose storage is asynchronous (like a database).
class Bank {
  constructor(balances) {
    this.balances = { ...balances };
    this.queue = Promise.resolve();
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
  transfer(from, to, amount) {
    const run = async () => {
      const a = await this.read(from);
      if (a < amount) throw new Error("insufficient funds");
      const b = await this.read(to);
      await this.write(from, a - amount);
      await this.write(to, b + amount);
    };
    const result = this.queue.then(run);
    this.queue = result.catch(() => {});
    return result;
  }
}

module.exports = { Bank };
