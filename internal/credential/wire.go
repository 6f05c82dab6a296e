package credential

// InjectRequest is the body of POST /api/agents/{name}/credentials/inject: path (relative to
// the workspace) → content.
type InjectRequest struct {
	Files map[string]string `json:"files"`
}

// InjectResponse answers an inject (Trinity's CredentialInjectResponse).
type InjectResponse struct {
	Status       string   `json:"status"`
	FilesWritten []string `json:"files_written"`
	Message      string   `json:"message"`
}

// FileStatus is one file of a StatusResponse: Size and Modified (RFC 3339, UTC) only when it
// exists.
type FileStatus struct {
	Exists   bool   `json:"exists"`
	Size     *int64 `json:"size,omitempty"`
	Modified string `json:"modified,omitempty"`
}

// StatusResponse answers GET /api/agents/{name}/credentials/status, as Trinity's agent
// server: the well-known files and every injected path, and the KEY=VALUE lines of .env.
type StatusResponse struct {
	AgentName       string                `json:"agent_name"`
	Files           map[string]FileStatus `json:"files"`
	CredentialCount int                   `json:"credential_count"`
}

// ExportResponse answers POST /api/agents/{name}/credentials/export (Trinity's
// CredentialExportResponse; Bundle, the content of the file written, is Paddock's addition).
type ExportResponse struct {
	Status        string  `json:"status"`
	EncryptedFile string  `json:"encrypted_file"`
	FilesExported int     `json:"files_exported"`
	Bundle        *Bundle `json:"bundle,omitempty"`
}

// ImportRequest is the optional body of POST /api/agents/{name}/credentials/import: a bundle
// to import (Paddock's addition); without one, the workspace's .credentials.enc is imported.
type ImportRequest struct {
	Bundle *Bundle `json:"bundle,omitempty"`
}

// ImportResponse answers an import (Trinity's CredentialImportResponse).
type ImportResponse struct {
	Status        string   `json:"status"`
	FilesImported []string `json:"files_imported"`
	Message       string   `json:"message"`
}

// Results of Reinject, for the credentials_injection field of POST .../start.
const (
	InjectionSuccess = "success"
	InjectionSkipped = "skipped" // the agent has no credentials
	InjectionFailed  = "failed"
)
