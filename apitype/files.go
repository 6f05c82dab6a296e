package apitype

// FileWrite is the JSON body of PUT /sandboxes/{name}/files/{path}: Content is required,
// Encoding is utf8 (the default) or base64. Raw bodies (Content-Type
// application/octet-stream) carry the file's bytes instead.
type FileWrite struct {
	Content  *string `json:"content"`
	Encoding string  `json:"encoding,omitempty"`
}

// FileWritten answers a file write: the file's path and its size in bytes.
type FileWritten struct {
	Path string `json:"path"`
	Size int64  `json:"size"`
}

// File is the JSON answer of GET /sandboxes/{name}/files/{path}: Encoding is utf8 for valid
// UTF-8 content, base64 otherwise. The server writes it field by field as the file streams.
type File struct {
	Path     string `json:"path"`
	Size     int64  `json:"size"`
	Encoding string `json:"encoding"`
	Content  string `json:"content"`
}

// DownloadURLRequest is the body of POST /sandboxes/{name}/download-url: the file (a path in
// the sandbox) and how long the URL lives, in seconds (default 60, at most 300).
type DownloadURLRequest struct {
	Path      string `json:"path"`
	ExpiresIn int    `json:"expires_in,omitempty"`
}

// DownloadURL answers it: a URL relative to the server that downloads the file's bytes
// without the API key, until ExpiresAt.
type DownloadURL struct {
	URL       string `json:"url"`
	ExpiresAt string `json:"expires_at"`
}
