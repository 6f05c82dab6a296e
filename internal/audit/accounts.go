package audit

// Account event types. Their details name users by ID and email and keys by ID; a key, a
// password or a token never appears in one.
const (
	UserCreated     = "user_created"
	UserUpdated     = "user_updated"
	UserDeleted     = "user_deleted"
	KeyCreated      = "key_created"
	KeyRevoked      = "key_revoked"
	PasswordChanged = "password_changed"
	LoggedIn        = "logged_in"
	LoginFailed     = "login_failed"
	SandboxShared   = "sandbox_shared"
	SandboxUnshared = "sandbox_unshared"
	QuotaChanged    = "quota_changed"
)
