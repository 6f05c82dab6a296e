package accounts

import (
	"github.com/paddock/paddock/client"
	"github.com/paddock/paddock/internal/api/openapi"
)

// Operations documents every route of Routes for the OpenAPI document.
func (a *API) Operations() []openapi.Operation {
	const admin = " (admin role; a user gets 403)"
	keyReq := client.CreateKeyRequest{}
	return []openapi.Operation{
		{Pattern: "POST " + TokenPath, Tag: "accounts", Summary: "Log in: exchange an email and password for a bearer token (JWT)", Public: true,
			Description: "OAuth2 password flow, as FastAPI's: a form (application/x-www-form-urlencoded) with username (the email) and password. " +
				"Answers {access_token, token_type: bearer, expires_in} without the envelope; errors are {detail}. Send the token as Authorization: Bearer.",
			Request: struct {
				Username string `json:"username"`
				Password string `json:"password"`
			}{}, Required: []string{"username", "password"}},
		{Pattern: "GET /me", Tag: "accounts", Summary: "The caller: their user and the key or token they presented", Response: client.Me{}},
		{Pattern: "PUT /me/password", Tag: "accounts", Summary: "Change the caller's password (current_password is needed when they have one)",
			Request: client.PasswordRequest{}, Required: []string{"password"}},
		{Pattern: "GET /me/keys", Tag: "accounts", Summary: "The caller's API keys", Response: []client.APIKey{}},
		{Pattern: "POST /me/keys", Tag: "accounts", Summary: "Make an API key for the caller; the key is in this answer only",
			Request: keyReq, Response: client.NewAPIKey{}, Status: 201},
		{Pattern: "DELETE /me/keys/{id}", Tag: "accounts", Summary: "Revoke one of the caller's keys (at once)"},
		{Pattern: "POST /users", Tag: "accounts", Summary: "Add a user" + admin, Request: client.CreateUserRequest{},
			Required: []string{"email"}, Response: client.User{}, Status: 201},
		{Pattern: "GET /users", Tag: "accounts", Summary: "List users" + admin, Response: []client.User{}},
		{Pattern: "GET /users/{email}", Tag: "accounts", Summary: "Describe a user" + admin, Response: client.User{}},
		{Pattern: "PATCH /users/{email}", Tag: "accounts", Summary: "Change a user's name, role, disabled flag or password" + admin,
			Description: "A change that leaves no enabled admin answers 409.", Request: client.UpdateUserRequest{}, Response: client.User{}},
		{Pattern: "DELETE /users/{email}", Tag: "accounts", Summary: "Remove a user and their keys" + admin,
			Description: "Removing the last enabled admin answers 409."},
		{Pattern: "POST /users/{email}/keys", Tag: "accounts", Summary: "Make an API key for a user; the key is in this answer only" + admin,
			Request: keyReq, Response: client.NewAPIKey{}, Status: 201},
		{Pattern: "GET /users/{email}/keys", Tag: "accounts", Summary: "A user's API keys" + admin, Response: []client.APIKey{}},
		{Pattern: "DELETE /users/{email}/keys/{id}", Tag: "accounts", Summary: "Revoke a user's key (at once)" + admin},
	}
}
