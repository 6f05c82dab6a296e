package fs

import (
	"os"
	"path/filepath"
	"syscall"

	"google.golang.org/protobuf/types/known/timestamppb"

	pb "github.com/paddock/paddock/proto/filesystem"
)

// entryInfo describes path without following a final symlink. A missing path is
// ErrNotFound.
func entryInfo(path string) (*pb.EntryInfo, error) {
	fi, err := os.Lstat(path)
	if err != nil {
		return nil, lookupError(path, err)
	}
	return infoFrom(path, fi, currentNames()), nil
}

// infoFrom builds the EntryInfo of path from its Lstat result.
func infoFrom(path string, fi os.FileInfo, names *nameTable) *pb.EntryInfo {
	e := &pb.EntryInfo{
		Name:         fi.Name(),
		Path:         path,
		Size:         fi.Size(),
		Mode:         uint32(fi.Mode().Perm()),
		Permissions:  fi.Mode().String(),
		ModifiedTime: timestamppb.New(fi.ModTime()),
		Metadata:     readMetadata(path),
	}
	switch {
	case fi.Mode()&os.ModeSymlink != 0:
		e.Type = pb.FileType_FILE_TYPE_SYMLINK
		if t, ok := symlinkTarget(path); ok {
			e.SymlinkTarget = &t
		}
	case fi.IsDir():
		e.Type = pb.FileType_FILE_TYPE_DIRECTORY
	default:
		// Devices, sockets and FIFOs too: the protocol has no type for them and the SDK
		// drops entries of unknown type.
		e.Type = pb.FileType_FILE_TYPE_FILE
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		e.Owner = names.user(st.Uid)
		e.Group = names.group(st.Gid)
	}
	return e
}

// symlinkTarget is the absolute path the symlink at path resolves to, every link on the way
// followed (as envd reports it). A link that does not resolve (dangling, a loop) gets the
// absolute path it names.
func symlinkTarget(path string) (string, bool) {
	if t, err := filepath.EvalSymlinks(path); err == nil {
		if abs, err := filepath.Abs(t); err == nil {
			return abs, true
		}
	}
	t, err := os.Readlink(path)
	if err != nil {
		return "", false
	}
	if !filepath.IsAbs(t) {
		t = filepath.Join(filepath.Dir(path), t)
	}
	return filepath.Clean(t), true
}

// walk lists dir's entries down to depth levels (1 = direct children), not descending into
// symlinked directories. Entries that vanish meanwhile and unreadable subdirectories are
// skipped.
func walk(dir string, depth uint32, names *nameTable) ([]*pb.EntryInfo, error) {
	des, err := os.ReadDir(dir)
	if err != nil {
		return nil, osError("read dir", dir, err)
	}
	var out []*pb.EntryInfo
	for _, de := range des {
		p := filepath.Join(dir, de.Name())
		fi, err := de.Info() // Lstat semantics
		if err != nil {
			continue
		}
		out = append(out, infoFrom(p, fi, names))
		if depth > 1 && de.IsDir() {
			if sub, err := walk(p, depth-1, names); err == nil {
				out = append(out, sub...)
			}
		}
	}
	return out, nil
}
