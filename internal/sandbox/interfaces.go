package sandbox

import (
	"context"
	"io"
	"net"
	"time"
)

// LabelID is the label every driver puts on the units it creates, so that a reconciler can
// find them.
const LabelID = "paddock.sandbox.id"

// Driver manages isolation units (containers, pods, VMs). It knows nothing of names, owners,
// pools or processes inside the sandbox: everything inside goes through the guest, reached
// with Dial.
//
// Implementations are safe for concurrent use across different IDs; callers serialise
// operations on one ID. Methods on an unknown ID return an errdefs.ErrNotFound-class error,
// except Delete, which returns nil when the unit is already gone.
type Driver interface {
	// Name is a short identifier such as "runc".
	Name() string
	// Create prepares the unit (writable layer, config) without starting it.
	Create(ctx context.Context, spec InstanceSpec) error
	// Start runs a created or stopped unit; the guest starts as PID 1.
	Start(ctx context.Context, id string) error
	// Stop ends every process of the unit and keeps the writable layer so that Start can
	// bring the same filesystem back. The unit's init gets SIGTERM and up to grace to exit
	// before everything is killed. Paddock's guest ignores SIGTERM, so callers that want
	// the sandbox's processes to end gracefully ask the guest first (POST /terminate) and
	// pass 0.
	Stop(ctx context.Context, id string, grace time.Duration) error
	// Delete stops the unit if needed and removes everything it owns.
	Delete(ctx context.Context, id string) error
	// Stats reads the unit's cgroup.
	Stats(ctx context.Context, id string) (*Stats, error)
	// List returns every unit this driver created (running or not), for reconciling.
	List(ctx context.Context) ([]Instance, error)
	// Dial opens a connection to the guest of a running unit. A guest that does not answer
	// is a GuestUnreachable error, whose public message names no host path.
	Dial(ctx context.Context, id string) (net.Conn, error)
}

// Pauser is implemented by drivers that can freeze a unit's processes in place, keeping
// memory and disk.
type Pauser interface {
	Pause(ctx context.Context, id string) error
	Resume(ctx context.Context, id string) error
}

// ExitWatcher is implemented by drivers that learn at once when a unit's init exits without
// anyone asking (a crash, a kill from the host), so that the sandbox can be marked failed
// before the next reconcile pass. Safe for concurrent use.
type ExitWatcher interface {
	// WatchExit watches the init of the running unit id until it exits, Stop or Delete is
	// called for id, or ctx ends. It calls exited(id) once, from a goroutine of the driver,
	// when the init exits while watched; exited must not block. A new watch of id replaces
	// the previous one. A unit that does not run is an ErrFailedPrecondition-class error, an
	// unknown ID ErrNotFound-class.
	WatchExit(ctx context.Context, id string, exited func(id string)) error
}

// DiskLimiter is implemented by drivers that can bound a unit's writable layer to
// Resources.DiskMB. Whether they can may depend on the host (loop devices, filesystem tools):
// CheckDiskLimit returns nil when the driver would enforce spec's DiskMB, or an error whose
// message says why not, fit for a client (no host path). Drivers that do not implement it
// enforce no disk limit. Safe for concurrent use.
type DiskLimiter interface {
	CheckDiskLimit(spec InstanceSpec) error
}

// Networker is implemented by drivers that enforce egress policies. SetEgress records p for
// the unit's later starts and applies it at once when the unit runs, reconnecting a running
// unit's network when the driver lost it (after a restart of Paddock). Connections already
// open are not cut. An unknown ID is ErrNotFound-class, an invalid policy
// ErrInvalidArgument-class, a unit without a network (NetworkNone) ErrFailedPrecondition-class.
type Networker interface {
	SetEgress(ctx context.Context, id string, p EgressPolicy) error
}

// EgressChecker is implemented by Networkers that enforce only some kinds of egress rules
// (the kube driver's NetworkPolicies match addresses, not domain names). CheckEgress returns
// nil when the driver would enforce every rule of p, or an ErrInvalidArgument-class error
// naming the first rule it cannot, fit for a client; Create and SetEgress refuse such a
// policy with that error rather than ignore a rule. Safe for concurrent use.
type EgressChecker interface {
	CheckEgress(p EgressPolicy) error
}

// VolumeManager is implemented by drivers that keep volumes (persistent workspaces, shared
// folders) apart from units. Safe for concurrent use.
//
// CreateVolume makes an empty volume bounded to sizeMB MiB (0 = the driver's default); a
// taken ID is ErrAlreadyExists-class. DeleteVolume removes it and its content; a volume that
// is gone returns nil, one that a unit which exists (running or not) mounts is
// ErrFailedPrecondition-class. SetMounts replaces the mounts of an existing unit that is not
// running, for its next Start (ErrFailedPrecondition-class when it runs, ErrNotFound-class for
// an unknown unit or volume). A unit created or re-mounted with a Mount of an unknown volume is
// ErrNotFound-class, and a SubPath that is not clean or crosses a symlink ErrInvalidArgument-
// class. ListVolumes returns every volume, for reconciling.
type VolumeManager interface {
	CreateVolume(ctx context.Context, v Volume) error
	DeleteVolume(ctx context.Context, id string) error
	ListVolumes(ctx context.Context) ([]Volume, error)
	SetMounts(ctx context.Context, id string, mounts []Mount) error
}

// ImageResolver turns an image reference into a root filesystem. Unknown references return
// an errdefs.ErrNotFound-class error naming the reference. Safe for concurrent use.
type ImageResolver interface {
	Resolve(ctx context.Context, ref string) (*Image, error)
}

// ListFilter narrows Store.ListSandboxes. Zero fields match everything.
type ListFilter struct {
	Owner  string
	States []State
	// GuestToken matches the sandbox holding this guest token (its E2B access token); stores
	// index it, so that a request carrying only the token finds its sandbox without a scan.
	GuestToken string
}

// Store persists sandbox records. Safe for concurrent use. Get of an unknown ID or name
// returns an errdefs.ErrNotFound-class error; Create of a taken ID or name returns an
// errdefs.ErrAlreadyExists-class error; Delete of an unknown ID returns nil.
type Store interface {
	CreateSandbox(ctx context.Context, sb *Sandbox) error
	// GetSandbox looks a sandbox up by ID or by name.
	GetSandbox(ctx context.Context, idOrName string) (*Sandbox, error)
	ListSandboxes(ctx context.Context, f ListFilter) ([]*Sandbox, error)
	// UpdateSandbox replaces the record with the same ID; unknown IDs are ErrNotFound.
	UpdateSandbox(ctx context.Context, sb *Sandbox) error
	DeleteSandbox(ctx context.Context, id string) error
	Close() error
}

// ActivityStore shares when sandboxes were last used between replicas that share a Store, so
// that the replica judging idle timeouts sees use made through any of them. Safe for
// concurrent use.
type ActivityStore interface {
	// NoteActivity records uses: each sandbox's time replaces the stored one when it is
	// later. Sandboxes with no record are skipped.
	NoteActivity(ctx context.Context, used map[string]time.Time) error
	// LastActivity returns the latest recorded use of each of ids that has one.
	LastActivity(ctx context.Context, ids []string) (map[string]time.Time, error)
}

// RunStore keeps the history of runs, newest first when listed. Safe for concurrent use.
type RunStore interface {
	RecordRun(ctx context.Context, r Run) error
	ListRuns(ctx context.Context, owner string, limit int) ([]Run, error)
}

// ImageInfo describes one image an ImageManager holds.
type ImageInfo struct {
	Ref    string   `json:"ref"`
	Digest string   `json:"digest,omitempty"`
	Layers []string `json:"layers"`
}

// PruneReport is what PruneImages removed.
type PruneReport struct {
	Layers []string `json:"layers"` // removed layer directories
	Bytes  int64    `json:"bytes"`  // disk space freed
}

// ImageManager is implemented by image resolvers that keep pulled images: they can list them
// and remove one. Remove deletes the reference and every layer no other image nor any of
// inUse (layer paths of existing sandboxes) still needs; an unknown reference is
// ErrNotFound-class. PruneImages removes every layer and leftover no image references and
// none of inUse needs. ImportImage stores an archive (docker save, OCI layout or root
// filesystem tar) as ref. Safe for concurrent use.
type ImageManager interface {
	ListImages(ctx context.Context) ([]ImageInfo, error)
	RemoveImage(ctx context.Context, ref string, inUse map[string]bool) error
	PruneImages(ctx context.Context, inUse map[string]bool) (PruneReport, error)
	ImportImage(ctx context.Context, ref string, archive io.Reader) (*ImageInfo, error)
}
