package storetest

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/paddock/paddock/internal/credential"
)

// RunCredentials is the conformance suite of credential.Store; newStore returns an empty
// store.
func RunCredentials(t *testing.T, newStore func(t *testing.T) credential.Store) {
	t.Run("RoundTrip", func(t *testing.T) { testCredentials(t, newStore(t)) })
}

func credRecord(path string, sealed string, at time.Time) credential.Record {
	return credential.Record{Path: path, Sealed: []byte(sealed), UpdatedAt: at}
}

func sameRecords(t *testing.T, what string, got []credential.Record, err error, want []credential.Record) {
	t.Helper()
	must(t, what, err)
	for i := range got {
		got[i].UpdatedAt = got[i].UpdatedAt.UTC()
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n got %+v\nwant %+v", what, got, want)
	}
}

func testCredentials(t *testing.T, s credential.Store) {
	ctx := context.Background()
	env, mcp := credRecord(".env", "\x00sealed-env\xff", epoch), credRecord(".mcp.json", "sealed-mcp", epoch.Add(time.Second))
	key := credRecord(".config/gcloud/key.json", "sealed-key", epoch)
	must(t, "put a", s.PutCredentials(ctx, "agt_a", []credential.Record{mcp, env}))
	must(t, "put b", s.PutCredentials(ctx, "agt_b", []credential.Record{key}))
	got, err := s.ListCredentials(ctx, "agt_a")
	sameRecords(t, "list a", got, err, []credential.Record{env, mcp})

	// The store keeps copies of the sealed bytes.
	got[0].Sealed[1] = 'X'
	got, err = s.ListCredentials(ctx, "agt_a")
	sameRecords(t, "after changing a returned copy", got, err, []credential.Record{env, mcp})

	// Put replaces a path and keeps the others.
	env2 := credRecord(".env", "sealed-env-2", epoch.Add(time.Minute))
	must(t, "replace", s.PutCredentials(ctx, "agt_a", []credential.Record{env2}))
	got, err = s.ListCredentials(ctx, "agt_a")
	sameRecords(t, "after replace", got, err, []credential.Record{env2, mcp})

	got, err = s.ListCredentials(ctx, "agt_none")
	sameRecords(t, "list none", got, err, []credential.Record{})

	must(t, "delete a", s.DeleteAgentCredentials(ctx, "agt_a"))
	must(t, "delete a again", s.DeleteAgentCredentials(ctx, "agt_a"))
	got, err = s.ListCredentials(ctx, "agt_a")
	sameRecords(t, "after delete", got, err, []credential.Record{})
	got, err = s.ListCredentials(ctx, "agt_b")
	sameRecords(t, "b kept", got, err, []credential.Record{key})
}
