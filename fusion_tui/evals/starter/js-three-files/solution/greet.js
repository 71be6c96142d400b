const { GREETINGS, DEFAULT_LOCALE } = require("./locales");
const { findUser } = require("./users");

function greetingFor(locale) {
  if (locale && GREETINGS[locale]) return GREETINGS[locale];
  const language = locale ? locale.split("-")[0] : null;
  return (language && GREETINGS[language]) || GREETINGS[DEFAULT_LOCALE];
}

function greet(users, id) {
  const user = findUser(users, id);
  return `${greetingFor(user.locale)}, ${user.name}!`;
}

module.exports = { greet, greetingFor };
