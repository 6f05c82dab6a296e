package engine

import (
	"context"
	"testing"

	"github.com/paddock/paddock/internal/guestproto"
	"github.com/paddock/paddock/internal/sandbox"
)

// TestCodeContextsInSandbox runs cells through a real sandbox's guest, including under the
// restrictive profile (read-only root, uid 1000): the harnesses need no writable file.
func TestCodeContextsInSandbox(t *testing.T) {
	eng, _ := newTestEngine(t)
	for _, prof := range []string{"moderate", "restrictive"} {
		t.Run(prof, func(t *testing.T) {
			sb := mustCreate(t, eng, sandbox.Spec{Name: "code-" + prof, Profile: prof})
			ctx := context.Background()
			run := func(req guestproto.ExecuteRequest) (results []string, stdout string) {
				err := eng.ExecuteCode(ctx, sb.ID, req, func(ev map[string]any) error {
					switch ev["type"] {
					case "result":
						results = append(results, ev["text"].(string))
					case "stdout":
						stdout += ev["text"].(string)
					case "error":
						t.Errorf("%s: %v", req.Code, ev)
					}
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			run(guestproto.ExecuteRequest{Code: "import os\nx = os.getuid()"})
			if res, _ := run(guestproto.ExecuteRequest{Code: "x, 6 * 7"}); len(res) != 1 {
				t.Fatalf("results %v", res)
			} else if want := map[string]string{"moderate": "(0, 42)", "restrictive": "(1000, 42)"}[prof]; res[0] != want {
				t.Errorf("python in %s: %q, want %q", prof, res[0], want)
			}
			run(guestproto.ExecuteRequest{Language: "bash", Code: "cd /tmp; N=5"})
			if _, out := run(guestproto.ExecuteRequest{Language: "bash", Code: "echo $(pwd) $N"}); out != "/tmp 5\n" {
				t.Errorf("bash in %s: %q", prof, out)
			}
		})
	}
}
