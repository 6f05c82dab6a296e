package fs

import (
	"bufio"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
	"google.golang.org/protobuf/types/known/timestamppb"

	pb "github.com/paddock/paddock/proto/filesystem"
)

// metaPrefix is the xattr namespace that holds file metadata set through /files.
const metaPrefix = "user.e2b."

// entryInfo describes path without following a final symlink.
func entryInfo(path string) (*pb.EntryInfo, error) {
	fi, err := os.Lstat(path)
	if err != nil {
		return nil, err
	}
	return infoFrom(path, fi), nil
}

func infoFrom(path string, fi os.FileInfo) *pb.EntryInfo {
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
		if t, err := os.Readlink(path); err == nil {
			e.SymlinkTarget = &t
		}
	case fi.IsDir():
		e.Type = pb.FileType_FILE_TYPE_DIRECTORY
	default:
		e.Type = pb.FileType_FILE_TYPE_FILE
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		e.Owner = lookupName("/etc/passwd", st.Uid)
		e.Group = lookupName("/etc/group", st.Gid)
	}
	return e
}

// lookupName maps an id to its name in a passwd-format file, or the number itself.
func lookupName(file string, id uint32) string {
	want := strconv.FormatUint(uint64(id), 10)
	if f, err := os.Open(file); err == nil {
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			parts := strings.SplitN(sc.Text(), ":", 4)
			if len(parts) >= 3 && parts[2] == want {
				return parts[0]
			}
		}
	}
	return want
}

// readMetadata returns the user.e2b.* xattrs of path, prefix stripped (never following links).
func readMetadata(path string) map[string]string {
	buf := make([]byte, 4096)
	n, err := unix.Llistxattr(path, buf)
	if err != nil || n <= 0 {
		return nil
	}
	out := map[string]string{}
	for _, name := range strings.Split(string(buf[:n]), "\x00") {
		key, ok := strings.CutPrefix(name, metaPrefix)
		if !ok || key == "" {
			continue
		}
		val := make([]byte, 4096)
		if m, err := unix.Lgetxattr(path, name, val); err == nil {
			out[key] = string(val[:m])
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// walk lists dir's entries down to depth levels (1 = direct children), not descending into
// symlinked directories.
func walk(dir string, depth uint32) ([]*pb.EntryInfo, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []*pb.EntryInfo
	for _, de := range ents {
		p := filepath.Join(dir, de.Name())
		fi, err := de.Info()
		if err != nil {
			continue // vanished meanwhile
		}
		out = append(out, infoFrom(p, fi))
		if depth > 1 && de.IsDir() {
			sub, err := walk(p, depth-1)
			if err == nil {
				out = append(out, sub...)
			}
		}
	}
	return out, nil
}
