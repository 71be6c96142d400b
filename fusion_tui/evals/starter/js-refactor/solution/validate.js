// Form validators: each returns a list of error messages (empty when valid).
function checkLength(field, value, min, max) {
  return value.length < min || value.length > max
    ? [`${field} must be ${min} to ${max} characters`] : [];
}

function validateName(value) {
  return checkLength("name", value, 2, 40);
}

function validateCity(value) {
  return checkLength("city", value, 1, 60);
}

function validateCode(value) {
  const errors = checkLength("code", value, 4, 10);
  if (!/^[A-Z0-9]*$/.test(value)) errors.push("code must be upper-case letters and digits");
  return errors;
}

module.exports = { validateName, validateCity, validateCode };
