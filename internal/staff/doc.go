// Package staff holds the vendor's staff accounts: argon2id passwords, TOTP
// second factors with recovery codes, sessions stored in the database, the
// roles and their permissions.
package staff
