// The refactor happened: one exported-or-internal checkLength used by all three validators.
const fs = require("node:fs");
const source = fs.readFileSync("validate.js", "utf8");
const problems = [];
if (!/function\s+checkLength\s*\(|const\s+checkLength\s*=/.test(source)) {
  problems.push("no checkLength function");
}
const calls = (source.match(/checkLength\s*\(/g) || []).length;
if (calls < 4) problems.push(`checkLength is called ${Math.max(0, calls - 1)} times, expected 3`);
if ((source.match(/\.length\s*</g) || []).length > 1) problems.push("length checks still copied");
if (problems.length) {
  console.log("refactor check failed: " + problems.join("; "));
  process.exit(1);
}
console.log("refactor check passed");
