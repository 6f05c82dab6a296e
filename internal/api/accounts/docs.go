package accounts

import (
	"github.com/paddock/paddock/apitype"
	"github.com/paddock/paddock/internal/api/openapi"
)

// Operations documents every route of Routes for the OpenAPI document.
func (a *API) Operations() []openapi.Operation {
	const admin = " (admin role; a user gets 403)"
	keyReq := apitype.CreateKeyRequest{}
	return []openapi.Operation{
		{Pattern: "POST " + TokenPath, Tag: "accounts", Summary: "Log in: exchange an email and password for a bearer token (JWT)", Public: true,
			Description: "OAuth2 password flow, as FastAPI's: a form (application/x-www-form-urlencoded) with username (the email) and password. " +
				"Answers {access_token, token_type: bearer, expires_in} without the envelope; errors are {detail}. Send the token as Authorization: Bearer.",
			Request: struct {
				Username string `json:"username"`
				Password string `json:"password"`
			}{}, Required: []string{"username", "password"}},
		{Pattern: "GET /me", Tag: "accounts", Summary: "The caller: their user and the key or token they presented", Response: apitype.Me{}},
		{Pattern: "PUT /me/password", Tag: "accounts", Summary: "Change the caller's password (current_password is needed when they have one)",
			Request: apitype.PasswordRequest{}, Required: []string{"password"}},
		{Pattern: "GET /me/keys", Tag: "accounts", Summary: "The caller's API keys", Response: []apitype.APIKey{}},
		{Pattern: "POST /me/keys", Tag: "accounts", Summary: "Make an API key for the caller; the key is in this answer only",
			Request: keyReq, Response: apitype.NewAPIKey{}, Status: 201},
		{Pattern: "DELETE /me/keys/{id}", Tag: "accounts", Summary: "Revoke one of the caller's keys (at once)"},
		{Pattern: "POST /users", Tag: "accounts", Summary: "Add a user" + admin, Request: apitype.CreateUserRequest{},
			Required: []string{"email"}, Response: apitype.User{}, Status: 201},
		{Pattern: "GET /users", Tag: "accounts", Summary: "List users" + admin, Response: []apitype.User{}},
		{Pattern: "GET /users/{email}", Tag: "accounts", Summary: "Describe a user" + admin, Response: apitype.User{}},
		{Pattern: "PATCH /users/{email}", Tag: "accounts", Summary: "Change a user's name, role, disabled flag or password" + admin,
			Description: "A change that leaves no enabled admin answers 409.", Request: apitype.UpdateUserRequest{}, Response: apitype.User{}},
		{Pattern: "DELETE /users/{email}", Tag: "accounts", Summary: "Remove a user and their keys" + admin,
			Description: "Removing the last enabled admin answers 409."},
		{Pattern: "POST /users/{email}/keys", Tag: "accounts", Summary: "Make an API key for a user; the key is in this answer only" + admin,
			Request: keyReq, Response: apitype.NewAPIKey{}, Status: 201},
		{Pattern: "GET /users/{email}/keys", Tag: "accounts", Summary: "A user's API keys" + admin, Response: []apitype.APIKey{}},
		{Pattern: "DELETE /users/{email}/keys/{id}", Tag: "accounts", Summary: "Revoke a user's key (at once)" + admin},
		{Pattern: "GET /users/{email}/quota", Tag: "accounts", Summary: "A user's quota and what they use of it" + admin, Response: apitype.Me{}},
		{Pattern: "PUT /users/{email}/quota", Tag: "accounts", Summary: "Override a user's quota; absent fields keep their value, 0 = no limit" + admin,
			Request: apitype.Quota{}, Response: apitype.Me{}},
		{Pattern: "POST /sandboxes/{name}/shares", Tag: "accounts", Summary: "Share a sandbox with a user by email as viewer or operator (its owner or an admin)",
			Request: apitype.ShareRequest{}, Required: []string{"email", "role"}, Response: apitype.Share{}, Status: 201},
		{Pattern: "GET /sandboxes/{name}/shares", Tag: "accounts", Summary: "Who a sandbox is shared with", Response: []apitype.Share{}},
		{Pattern: "DELETE /sandboxes/{name}/shares/{email}", Tag: "accounts", Summary: "Unshare a sandbox (its owner, an admin, or the user leaving it)"},
	}
}
