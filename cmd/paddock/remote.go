package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/paddock/paddock/client"
	"github.com/paddock/paddock/internal/auth"
	"github.com/paddock/paddock/internal/engine"
)

// remoteFlags are the root's persistent flags for commands that talk to a server.
type remoteFlags struct {
	host    string
	apiKey  string
	dataDir string
	json    bool
}

var remote remoteFlags

func addRemoteFlags(root *cobra.Command) {
	pf := root.PersistentFlags()
	pf.StringVar(&remote.host, "host", "", "server URL (env PADDOCK_HOST; default http://127.0.0.1:18888)")
	pf.StringVar(&remote.apiKey, "api-key", "", "API key (env PADDOCK_API_KEY; default: the local server's key file)")
	pf.BoolVar(&remote.json, "json", false, "print JSON instead of tables")
}

// newClient resolves the server and key: flags, then PADDOCK_HOST / PADDOCK_API_KEY, then
// the local server's defaults (its address and <data-dir>/api-key).
func newClient() *client.Client {
	host := firstNonEmpty(remote.host, os.Getenv("PADDOCK_HOST"), "http://127.0.0.1:18888")
	if !strings.Contains(host, "://") {
		host = "http://" + host
	}
	key := firstNonEmpty(remote.apiKey, os.Getenv("PADDOCK_API_KEY"))
	if key == "" {
		dir := firstNonEmpty(remote.dataDir, os.Getenv("PADDOCK_DATA_DIR"), engine.DefaultDataDir())
		if b, err := os.ReadFile(filepath.Join(dir, auth.KeyFileName)); err == nil {
			key = strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[0])
		}
	}
	return client.New(host, key)
}

func firstNonEmpty(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

// printJSON writes v indented.
func printJSON(cmd *cobra.Command, v any) error {
	enc := json.NewEncoder(cmd.OutOrStdout())
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
