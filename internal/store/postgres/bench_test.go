package postgres_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paddock/paddock/internal/sandbox"
	"github.com/paddock/paddock/internal/store/postgres"
	"github.com/paddock/paddock/internal/store/postgres/pgtest"
	"github.com/paddock/paddock/internal/store/sqlite"
)

// BenchmarkSandboxRecord measures one sandbox's record life as the manager writes it
// (create, get by name, update) on SQLite and on Postgres side by side: one cycle at a time
// (serial), and from 8 × GOMAXPROCS goroutines at once (parallel). Neither store waits for
// a disk here: SQLite commits to its WAL without fsync (synchronous=NORMAL) and the
// throwaway Postgres runs with fsync off, so the numbers are round trips and query work.
func BenchmarkSandboxRecord(b *testing.B) {
	ctx := context.Background()
	stores := []struct {
		name string
		open func(b *testing.B) sandbox.Store
	}{
		{"sqlite", func(b *testing.B) sandbox.Store {
			s, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "p.db"))
			if err != nil {
				b.Fatal(err)
			}
			return s
		}},
		{"postgres", func(b *testing.B) sandbox.Store {
			s, err := postgres.Open(ctx, pgtest.Start(b).NewSchema(b))
			if err != nil {
				b.Fatal(err)
			}
			return s
		}},
	}
	for _, st := range stores {
		b.Run(st.name+"/serial", func(b *testing.B) {
			s := st.open(b)
			defer s.Close()
			for i := 0; b.Loop(); i++ {
				cycle(b, s, i)
			}
		})
		b.Run(st.name+"/parallel", func(b *testing.B) {
			s := st.open(b)
			defer s.Close()
			var seq atomic.Int64
			b.SetParallelism(8)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					cycle(b, s, int(seq.Add(1)))
				}
			})
		})
	}
}

func cycle(b *testing.B, s sandbox.Store, i int) {
	ctx := context.Background()
	now := time.Now()
	sb := &sandbox.Sandbox{ID: fmt.Sprintf("id-%d", i), Name: fmt.Sprintf("name-%d", i), Owner: "alice",
		State: sandbox.StateCreating, CreatedAt: now, UpdatedAt: now, GuestToken: fmt.Sprintf("tok-%d", i),
		Spec: sandbox.Spec{Image: "base", Profile: "moderate", MemoryMB: 512, Env: map[string]string{"A": "1"}}}
	if err := s.CreateSandbox(ctx, sb); err != nil {
		b.Fatal(err)
	}
	got, err := s.GetSandbox(ctx, sb.Name)
	if err != nil {
		b.Fatal(err)
	}
	got.State, got.StartedAt = sandbox.StateRunning, &now
	if err := s.UpdateSandbox(ctx, got); err != nil {
		b.Fatal(err)
	}
}
