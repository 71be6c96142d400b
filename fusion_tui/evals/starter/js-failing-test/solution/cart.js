// Totals of a shopping cart, in cents (integers) to avoid floating-point money.
function total(items) {
  let sum = 0;
  for (const item of items) {
    sum += item.price * item.qty;
  }
  return sum;
}

function toCents(price) {
  return Math.round(price * 100);
}

module.exports = { total, toCents };
