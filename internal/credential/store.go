package credential

import (
	"context"
	"crypto/rand"
	"time"

	"github.com/paddock/paddock/internal/errdefs"
)

// Record is one credential file an agent was given, as the store keeps it: the content
// sealed with the server's key (nonce, then AES-256-GCM ciphertext and tag), bound to the
// agent and the path so that rows cannot be swapped.
type Record struct {
	Path      string
	Sealed    []byte
	UpdatedAt time.Time
}

// Store keeps the credential files injected into each agent (by stable agent ID), so that a
// start injects them again. It only ever sees sealed content. Implementations are safe for
// concurrent use; deleting what is gone returns nil.
type Store interface {
	// PutCredentials adds or replaces records of an agent, all or none.
	PutCredentials(ctx context.Context, agentID string, recs []Record) error
	// ListCredentials returns an agent's records ordered by path (empty when none).
	ListCredentials(ctx context.Context, agentID string) ([]Record, error)
	// DeleteAgentCredentials removes every record of an agent.
	DeleteAgentCredentials(ctx context.Context, agentID string) error
}

// atRestLabel starts the additional data of a sealed record.
const atRestLabel = "paddock credential at rest v1\x00"

func atRestAD(agentID, path string) []byte {
	return []byte(atRestLabel + agentID + "\x00" + path)
}

// sealRecord encrypts one file for the store.
func sealRecord(key Key, agentID, path, content string, at time.Time) (Record, error) {
	nonce := make([]byte, nonceSize, nonceSize+len(content)+16)
	if _, err := rand.Read(nonce); err != nil {
		return Record{}, err
	}
	return Record{Path: path, Sealed: newGCM(key).Seal(nonce, nonce, []byte(content), atRestAD(agentID, path)), UpdatedAt: at}, nil
}

// openRecord decrypts one stored file.
func openRecord(key Key, agentID string, r Record) (string, error) {
	if len(r.Sealed) < nonceSize {
		return "", errdefs.FailedPrecondition("stored credential %s is damaged", r.Path)
	}
	plain, err := newGCM(key).Open(nil, r.Sealed[:nonceSize], r.Sealed[nonceSize:], atRestAD(agentID, r.Path))
	if err != nil {
		return "", errdefs.FailedPrecondition("stored credential %s does not decrypt with this server's key (was --credential-key changed?)", r.Path)
	}
	return string(plain), nil
}
