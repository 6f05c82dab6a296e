// Package kube is the sandbox.Driver that runs each sandbox as a Pod in one Kubernetes
// namespace. An init container installs the guest from the guest image into an emptyDir,
// and the sandbox's container runs it as PID 1, listening on TCP with a per-sandbox token
// kept in a Secret. The Secret is also the unit's record (its InstanceSpec), so that a
// stopped unit, which has no Pod, survives a restart of Paddock; the Pod and the unit's
// NetworkPolicy are owned by it.
package kube

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/guestproto"
	"github.com/paddock/paddock/internal/sandbox"
)

// Config configures the driver.
type Config struct {
	// Client talks to the cluster. Required.
	Client kubernetes.Interface
	// Namespace holds every object the driver makes. Required.
	Namespace string
	// GuestImage holds the static paddock binary at /paddock. Required.
	GuestImage string
	// BaseImage is what sandboxes run when they ask for "base" (or no image). Required.
	BaseImage string
	// PullPolicy of both images (default IfNotPresent).
	PullPolicy corev1.PullPolicy
	// Port is where the guest listens in its pod (default guestproto.DefaultTCPPort).
	Port int
	// RuntimeClassName, NodeSelector and Tolerations place every sandbox's pod (gVisor or
	// Kata through a RuntimeClass, a dedicated node pool).
	RuntimeClassName string
	NodeSelector     map[string]string
	Tolerations      []corev1.Toleration
	// Placements place the pods of some templates' sandboxes differently (InstanceSpec.Template).
	Placements map[string]Placement
	// SeccompProfile is a Localhost profile path, relative to the kubelet's seccomp
	// directory ("" = RuntimeDefault).
	SeccompProfile string
	// RequestPercent sets requests to this share of limits (1–100, default 100), to let a
	// node hold more sandboxes than their limits add up to.
	RequestPercent int
	// StorageClass of the volumes' PersistentVolumeClaims ("" = the cluster's default class).
	StorageClass string
	// VolumeAccessMode of the volumes' claims (default ReadWriteOnce: every pod mounting a
	// volume must run on one node; ReadWriteMany lets sandboxes on several nodes share it, if
	// the storage class offers it).
	VolumeAccessMode corev1.PersistentVolumeAccessMode
	// VolumeDefaultMB is the size of volumes made without one (default DefaultVolumeMB).
	VolumeDefaultMB int64
	// ReadyTimeout bounds how long Start waits for the pod (default 2m).
	ReadyTimeout time.Duration
	// Logger receives cleanup problems (default: discard).
	Logger *slog.Logger
}

// Driver implements sandbox.Driver, sandbox.Networker, sandbox.EgressChecker,
// sandbox.DiskLimiter, sandbox.ExitWatcher and sandbox.VolumeManager (volumes.go); not
// sandbox.Pauser (Kubernetes has no freezer). Safe for concurrent use on distinct IDs;
// callers serialise operations on one ID.
type Driver struct {
	cfg Config
	c   kubernetes.Interface
	ns  string
	log *slog.Logger

	// volMu keeps this process's volume deletes apart from its creates and re-mounts of units
	// that mount volumes, so that a delete's check of the units mounting a volume sees them
	// (replicas still race: the claim's protection then keeps a mounted volume until its
	// pods go).
	volMu sync.RWMutex

	mu     sync.Mutex
	guests map[string]guestAddr // what Dial needs, per running unit (dial.go)
	// watches cancel the exit watches of running units (exitwatch.go); each watch's
	// goroutine ends with its context, which Stop, Delete, a new watch or the caller's ends.
	watches map[string]context.CancelFunc
}

var (
	_ sandbox.Driver        = (*Driver)(nil)
	_ sandbox.Networker     = (*Driver)(nil)
	_ sandbox.EgressChecker = (*Driver)(nil)
	_ sandbox.DiskLimiter   = (*Driver)(nil)
)

// Labels and annotations of the objects the driver makes.
const (
	labelManagedBy = "app.kubernetes.io/managed-by"
	managedBy      = "paddock"
	// annInstance holds the unit's InstanceSpec as JSON, on its Secret.
	annInstance = "paddock.dev/instance"
	// tokenKey is the Secret's key holding the guest token.
	tokenKey = "token"
	// guestDir is where the guest binary is mounted in the sandbox's container, as with runc.
	guestDir = "/.paddock/bin"
	// containerName is the sandbox's container, initName the one installing the guest.
	containerName = "sandbox"
	initName      = "install-guest"
)

// idRE keeps object names ("paddock-" + ID) within a DNS label.
var idRE = regexp.MustCompile(`^[a-z0-9]{1,55}$`)

// New validates cfg and returns a driver.
func New(cfg Config) (*Driver, error) {
	switch {
	case cfg.Client == nil:
		return nil, errors.New("kube driver: a client is required")
	case cfg.Namespace == "":
		return nil, errors.New("kube driver: a namespace is required (--kube-namespace)")
	case cfg.GuestImage == "":
		return nil, errors.New("kube driver: a guest image is required (--kube-guest-image)")
	case cfg.BaseImage == "":
		return nil, errors.New("kube driver: a base image is required (--kube-base-image)")
	case cfg.RequestPercent < 0 || cfg.RequestPercent > 100:
		return nil, fmt.Errorf("kube driver: request percent %d: use 1 to 100", cfg.RequestPercent)
	}
	if cfg.VolumeAccessMode == "" {
		cfg.VolumeAccessMode = corev1.ReadWriteOnce
	}
	if err := CheckVolumeAccessMode(string(cfg.VolumeAccessMode)); err != nil {
		return nil, fmt.Errorf("kube driver: volume access mode %w", err)
	}
	if cfg.StorageClass != "" && !ValidStorageClass(cfg.StorageClass) {
		return nil, fmt.Errorf("kube driver: storage class %q is not a StorageClass name", cfg.StorageClass)
	}
	if cfg.VolumeDefaultMB < 0 {
		return nil, fmt.Errorf("kube driver: default volume size %d MiB is negative", cfg.VolumeDefaultMB)
	}
	if cfg.VolumeDefaultMB == 0 {
		cfg.VolumeDefaultMB = DefaultVolumeMB
	}
	if cfg.PullPolicy == "" {
		cfg.PullPolicy = corev1.PullIfNotPresent
	}
	if cfg.Port == 0 {
		cfg.Port = guestproto.DefaultTCPPort
	}
	if cfg.RequestPercent == 0 {
		cfg.RequestPercent = 100
	}
	if cfg.ReadyTimeout == 0 {
		cfg.ReadyTimeout = 2 * time.Minute
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Driver{cfg: cfg, c: cfg.Client, ns: cfg.Namespace, log: cfg.Logger, guests: map[string]guestAddr{}, watches: map[string]context.CancelFunc{}}, nil
}

// Name implements sandbox.Driver.
func (d *Driver) Name() string { return "kube" }

// PidsUnenforced says why Resources.Pids is not enforced (drivertest.PidsUnenforced).
func (d *Driver) PidsUnenforced() string {
	return "Kubernetes bounds processes per node (the kubelet's podPidsLimit), not per pod"
}

// objectName is the name of the unit's Secret, Pod and NetworkPolicy.
func objectName(id string) string { return "paddock-" + id }

// selector matches every object the driver made in its namespace.
var selector = labelManagedBy + "=" + managedBy

// record is a unit's Secret and the InstanceSpec it holds.
type record struct {
	secret *corev1.Secret
	spec   sandbox.InstanceSpec
}

// record reads the unit's record; an unknown unit is ErrNotFound-class.
func (d *Driver) record(ctx context.Context, id string) (*record, error) {
	if !idRE.MatchString(id) {
		return nil, errdefs.NotFound("sandbox %q not found", id)
	}
	s, err := d.c.CoreV1().Secrets(d.ns).Get(ctx, objectName(id), metav1.GetOptions{})
	if err != nil {
		return nil, d.apiError("read sandbox "+id, err)
	}
	return parseRecord(s)
}

func parseRecord(s *corev1.Secret) (*record, error) {
	r := &record{secret: s}
	if err := json.Unmarshal([]byte(s.Annotations[annInstance]), &r.spec); err != nil {
		return nil, fmt.Errorf("sandbox record %s: %w", s.Name, err)
	}
	return r, nil
}

// apiError turns an API error into a class, with a public message naming what failed and no
// cluster detail.
func (d *Driver) apiError(what string, err error) error {
	switch {
	case apierrors.IsNotFound(err):
		return errdefs.Hide(errdefs.ErrNotFound, what+": not found", err)
	case apierrors.IsAlreadyExists(err):
		return errdefs.Hide(errdefs.ErrAlreadyExists, what+": already exists", err)
	case apierrors.IsConflict(err):
		return errdefs.Hide(errdefs.ErrFailedPrecondition, what+": changed concurrently", err)
	case apierrors.IsForbidden(err), apierrors.IsUnauthorized(err):
		return errdefs.Hide(errdefs.ErrUnavailable, what+": the cluster refused Paddock's credentials", err)
	case apierrors.IsInvalid(err):
		return errdefs.Hide(errdefs.ErrInvalidArgument, what+": the cluster refused the object", err)
	}
	return errdefs.Hide(errdefs.ErrUnavailable, what+": the cluster is unavailable", err)
}
