package fs

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Files that name the sandbox's users and groups.
const (
	passwdFile = "/etc/passwd"
	groupFile  = "/etc/group"
)

// nameTable maps uids and gids to names. Immutable once built.
type nameTable struct {
	users, groups map[uint32]string
}

// user returns the name of uid, or the number itself when it has none.
func (t *nameTable) user(uid uint32) string { return lookupID(t.users, uid) }

// group returns the name of gid, or the number itself when it has none.
func (t *nameTable) group(gid uint32) string { return lookupID(t.groups, gid) }

func lookupID(m map[uint32]string, id uint32) string {
	if name, ok := m[id]; ok {
		return name
	}
	return strconv.FormatUint(uint64(id), 10)
}

// fileStamp identifies one version of a file.
type fileStamp struct {
	ino, size int64
	mtime     time.Time
}

func stampOf(path string) fileStamp {
	fi, err := os.Stat(path)
	if err != nil {
		return fileStamp{}
	}
	st := fileStamp{size: fi.Size(), mtime: fi.ModTime()}
	if sys, ok := fi.Sys().(*syscall.Stat_t); ok {
		st.ino = int64(sys.Ino)
	}
	return st
}

// names caches the table built from passwdFile and groupFile, rebuilt when either changes
// (users may be added inside the sandbox at any time).
var names struct {
	mu            sync.Mutex
	passwd, group fileStamp
	table         *nameTable
}

// currentNames returns the name table for the sandbox's current passwd and group files.
func currentNames() *nameTable {
	pw, gr := stampOf(passwdFile), stampOf(groupFile)
	names.mu.Lock()
	defer names.mu.Unlock()
	if names.table == nil || pw != names.passwd || gr != names.group {
		names.table = &nameTable{users: readIDFile(passwdFile), groups: readIDFile(groupFile)}
		names.passwd, names.group = pw, gr
	}
	return names.table
}

// readIDFile reads "name:x:id:..." lines; the first name of each id wins.
func readIDFile(path string) map[uint32]string {
	out := map[uint32]string{}
	f, err := os.Open(path)
	if err != nil {
		return out
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		parts := strings.SplitN(sc.Text(), ":", 4)
		if len(parts) < 3 || parts[0] == "" || strings.HasPrefix(parts[0], "#") {
			continue
		}
		id, err := strconv.ParseUint(parts[2], 10, 32)
		if err != nil {
			continue
		}
		if _, dup := out[uint32(id)]; !dup {
			out[uint32(id)] = parts[0]
		}
	}
	return out
}
