// Form validators: each returns a list of error messages (empty when valid).
function validateName(value) {
  const errors = [];
  if (value.length < 2 || value.length > 40) errors.push("name must be 2 to 40 characters");
  return errors;
}

function validateCity(value) {
  const errors = [];
  if (value.length < 1 || value.length > 60) errors.push("city must be 1 to 60 characters");
  return errors;
}

function validateCode(value) {
  const errors = [];
  if (value.length < 4 || value.length > 10) errors.push("code must be 4 to 10 characters");
  if (!/^[A-Z0-9]*$/.test(value)) errors.push("code must be upper-case letters and digits");
  return errors;
}

module.exports = { validateName, validateCity, validateCode };
