package code

import (
	"context"
	"testing"
)

// BenchmarkCell measures one small cell through /execute per language: every language's
// cell should cost the same order (bash once paid for processes it started per cell).
func BenchmarkCell(b *testing.B) {
	for _, c := range []struct{ lang, bin, code string }{
		{"python", "python3", "1+1"},
		{"bash", "bash", "echo hi"},
		{"javascript", "node", "1+1"},
	} {
		b.Run(c.lang, func(b *testing.B) {
			need(b, c.bin)
			srv, _ := newServer(b)
			execute(b, context.Background(), srv.URL, map[string]any{"language": c.lang, "code": c.code})
			b.ResetTimer()
			for range b.N {
				execute(b, context.Background(), srv.URL, map[string]any{"language": c.lang, "code": c.code})
			}
		})
	}
}
