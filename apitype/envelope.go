package apitype

// Envelope is every JSON answer of the native API: Data on success, Error (a public message)
// otherwise. The server writes Envelope[any]; a client reads Envelope[json.RawMessage] and
// then decodes Data into the route's type.
type Envelope[T any] struct {
	Success bool   `json:"success"`
	Data    T      `json:"data,omitempty"`
	Error   string `json:"error,omitempty"`
}

// Health is the data of GET /health (also at the top level of its answer, for probes that do
// not unwrap envelopes).
type Health struct {
	Status  string `json:"status"`
	Version string `json:"version"`
}

// Deleted answers the delete routes: Name for a sandbox, Path for a file, Ref for an image.
type Deleted struct {
	Deleted bool   `json:"deleted"`
	Name    string `json:"name,omitempty"`
	Path    string `json:"path,omitempty"`
	Ref     string `json:"ref,omitempty"`
}
