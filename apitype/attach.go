package apitype

// AttachRequest is the first message of an attach session (GET
// /sandboxes/{name}/exec/attach, a WebSocket): what to run and on what terminal.
type AttachRequest struct {
	Command []string          `json:"command"`
	Env     map[string]string `json:"env,omitempty"`
	Cwd     string            `json:"cwd,omitempty"`
	User    string            `json:"user,omitempty"`
	TTY     bool              `json:"tty"`
	Rows    uint32            `json:"rows,omitempty"`
	Cols    uint32            `json:"cols,omitempty"`
}

// AttachMessage is every later message of an attach session, both ways. Client to server:
// stdin (Data), resize (Rows, Cols), eof, signal (Signal "TERM" or "KILL"). Server to
// client: output (Stream, Data), exit (ExitCode, Reason), error (Message). Data is raw bytes
// (base64 in JSON).
type AttachMessage struct {
	Type     string `json:"type"`
	Data     []byte `json:"data,omitempty"`
	Stream   string `json:"stream,omitempty"`
	Rows     uint32 `json:"rows,omitempty"`
	Cols     uint32 `json:"cols,omitempty"`
	Signal   string `json:"signal,omitempty"`
	ExitCode int    `json:"exit_code,omitempty"`
	Reason   string `json:"reason,omitempty"`
	Message  string `json:"message,omitempty"`
}

// WebSocketProtocol is the subprotocol that Paddock's WebSockets (attach, terminal) select.
// Browsers cannot set headers on a WebSocket, so a browser offers two subprotocols: this
// one and WebSocketKeyPrefix + the key in unpadded base64url. The server authenticates
// with the second and answers with the first, so the key is never echoed back.
const WebSocketProtocol = "paddock.v1"

// WebSocketKeyPrefix starts the subprotocol that carries an API key or login token.
const WebSocketKeyPrefix = "paddock.key."
