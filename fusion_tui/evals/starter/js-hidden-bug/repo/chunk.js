// Split an array into pages of `size` items (the last page may be shorter).
function chunk(items, size) {
  if (!Number.isInteger(size) || size < 1) throw new RangeError("size must be a positive integer");
  const pages = [];
  for (let i = 0; i + size <= items.length; i += size) {
    pages.push(items.slice(i, i + size));
  }
  return pages;
}

module.exports = { chunk };
