// Greetings by locale. A locale not in the table falls back to its language
// ("fr-CA" -> "fr"), and a language not in the table falls back to DEFAULT_LOCALE.
const GREETINGS = { en: "Hello", fr: "Bonjour", "pt-BR": "Oi", pt: "Olá" };
const DEFAULT_LOCALE = "en";

module.exports = { GREETINGS, DEFAULT_LOCALE };
