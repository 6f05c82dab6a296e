package fs

import (
	"errors"
	"os"
	"path/filepath"

	"github.com/fsnotify/fsnotify"
	"golang.org/x/sys/unix"

	"github.com/paddock/paddock/internal/errdefs"
	pb "github.com/paddock/paddock/proto/filesystem"
)

// networkFS are the filesystem types (statfs magic) whose remote changes inotify cannot
// see; watching them needs allow_network_mounts, as in envd.
var networkFS = map[int64]string{
	unix.NFS_SUPER_MAGIC:  "nfs",
	unix.SMB_SUPER_MAGIC:  "smb",
	unix.SMB2_SUPER_MAGIC: "smb2",
	unix.CIFS_SUPER_MAGIC: "cifs",
	unix.AFS_SUPER_MAGIC:  "afs",
	unix.CODA_SUPER_MAGIC: "coda",
	unix.NCP_SUPER_MAGIC:  "ncp",
	unix.CEPH_SUPER_MAGIC: "ceph",
}

// watchOptions are the fields shared by WatchDirRequest and CreateWatcherRequest.
type watchOptions interface {
	GetPath() string
	GetRecursive() bool
	GetIncludeEntry() bool
	GetAllowNetworkMounts() bool
}

// watcher turns fsnotify events under root into protocol events. Its methods are called
// from one goroutine at a time; close may be called from any.
type watcher struct {
	root      string
	recursive bool
	entries   bool
	fsw       *fsnotify.Watcher
}

// openWatcher starts watching root, which must be a directory.
func openWatcher(root string, opts watchOptions) (*watcher, error) {
	fi, err := os.Stat(root)
	if err != nil {
		return nil, lookupError(root, err)
	}
	if !fi.IsDir() {
		return nil, errdefs.InvalidArgument("path %s is not a directory", root)
	}
	if !opts.GetAllowNetworkMounts() {
		var st unix.Statfs_t
		if err := unix.Statfs(root, &st); err == nil {
			if name, ok := networkFS[int64(st.Type)]; ok {
				return nil, errdefs.InvalidArgument("path %s is on a network mount (%s): set allow_network_mounts to watch it", root, name)
			}
		}
	}
	fsw, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, errdefs.New(errdefs.ErrResourceExhausted, "cannot create a watcher: %v", err)
	}
	w := &watcher{root: root, recursive: opts.GetRecursive(), entries: opts.GetIncludeEntry(), fsw: fsw}
	if err := w.add(root); err != nil {
		_ = fsw.Close()
		if errors.Is(err, unix.ENOSPC) || errors.Is(err, unix.EMFILE) {
			return nil, errdefs.New(errdefs.ErrResourceExhausted, "cannot watch %s: inotify limit reached", root)
		}
		return nil, osError("watch", root, err)
	}
	return w, nil
}

// add watches dir and, when recursive, every directory below it (not following symlinks).
// Only a failure on dir itself is an error.
func (w *watcher) add(dir string) error {
	if err := w.fsw.Add(dir); err != nil || !w.recursive {
		return err
	}
	return filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.IsDir() && p != dir {
			_ = w.fsw.Add(p)
		}
		return nil
	})
}

// convert turns one fsnotify event into protocol events, in envd's order. A directory
// created under a recursive watch is watched before its create event is returned, so a
// client that sees the event can rely on changes inside it being reported.
func (w *watcher) convert(ev fsnotify.Event) []*pb.FilesystemEvent {
	rel, err := filepath.Rel(w.root, ev.Name)
	if err != nil {
		return nil
	}
	if w.recursive && ev.Has(fsnotify.Create) {
		if fi, err := os.Lstat(ev.Name); err == nil && fi.IsDir() {
			_ = w.add(ev.Name)
		}
	}
	var out []*pb.FilesystemEvent
	emit := func(op fsnotify.Op, t pb.EventType, withEntry bool) {
		if !ev.Has(op) {
			return
		}
		fe := &pb.FilesystemEvent{Name: rel, Type: t}
		if withEntry && w.entries {
			fe.Entry, _ = entryInfo(ev.Name) // nil if already gone
		}
		out = append(out, fe)
	}
	emit(fsnotify.Create, pb.EventType_EVENT_TYPE_CREATE, true)
	emit(fsnotify.Rename, pb.EventType_EVENT_TYPE_RENAME, false)
	emit(fsnotify.Chmod, pb.EventType_EVENT_TYPE_CHMOD, true)
	emit(fsnotify.Write, pb.EventType_EVENT_TYPE_WRITE, true)
	emit(fsnotify.Remove, pb.EventType_EVENT_TYPE_REMOVE, false)
	return out
}

func (w *watcher) close() { _ = w.fsw.Close() }
