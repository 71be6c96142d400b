const { GREETINGS, DEFAULT_LOCALE } = require("./locales");
const { findUser } = require("./users");

function greetingFor(locale) {
  return GREETINGS[locale] || GREETINGS[DEFAULT_LOCALE];
}

function greet(users, id) {
  const user = findUser(users, id);
  return `${greetingFor(user.locale)}, ${user.name}!`;
}

module.exports = { greet, greetingFor };
