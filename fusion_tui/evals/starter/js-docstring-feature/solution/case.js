/**
 * Convert a phrase to camelCase: words are separated by spaces, hyphens or underscores
 * (any run of them); the first word is lower-cased, every later word is capitalised
 * (first letter upper, the rest lower). Empty or separator-only input gives "".
 * @param {string} text
 * @returns {string}
 */
function camelCase(text) {
  const words = text.split(/[\s_-]+/).filter(Boolean);
  return words
    .map((w, i) => (i === 0 ? w.toLowerCase() : w[0].toUpperCase() + w.slice(1).toLowerCase()))
    .join("");
}

module.exports = { camelCase };
