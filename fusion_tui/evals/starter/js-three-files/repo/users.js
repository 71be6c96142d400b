// Users as the accounts service returns them: locale is a BCP 47 tag or missing.
function findUser(users, id) {
  const user = users.find((u) => u.id === id);
  if (!user) throw new Error(`no user ${id}`);
  return { name: user.name, locale: user.locale || null };
}

module.exports = { findUser };
