package process

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"

	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/guest/guestenv"
	"github.com/paddock/paddock/internal/guestproto"
	pb "github.com/paddock/paddock/proto/process"
)

// defaultPath is the PATH of processes whose environment sets none.
const defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// Environ builds a process environment from scratch: PATH, the user's HOME/USER/LOGNAME, the
// sandbox-wide variables, then the request's (last wins). The guest's own env never leaks.
func Environ(u *guestenv.User, global, req map[string]string) []string {
	env := map[string]string{"PATH": defaultPath, "HOME": u.Home, "USER": u.Name, "LOGNAME": u.Name}
	for k, v := range global {
		env[k] = v
	}
	for k, v := range req {
		env[k] = v
	}
	out := make([]string, 0, len(env))
	for k, v := range env {
		if k == "" || strings.ContainsAny(k, "=\x00") || strings.ContainsRune(v, 0) {
			continue // not representable in an environment block
		}
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}

// LookPath finds cmd like a shell does, in the sandbox's filesystem: a name with a slash is
// taken as a path (relative to cwd), any other is searched in env's PATH. A missing command
// is ErrNotFound-class ("<cmd>: command not found"), one that cannot be run
// ErrPermissionDenied-class.
func LookPath(cmd, cwd string, env []string) (string, error) {
	if strings.Contains(cmd, "/") {
		p := cmd
		if !filepath.IsAbs(p) {
			p = filepath.Join(cwd, p)
		}
		return p, checkExecutable(cmd, p)
	}
	path := defaultPath
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			path = v
		}
	}
	denied := false
	for _, dir := range filepath.SplitList(path) {
		if !filepath.IsAbs(dir) {
			dir = filepath.Join(cwd, dir) // "" too: it means the working directory
		}
		p := filepath.Join(dir, cmd)
		fi, err := os.Stat(p)
		switch {
		case err != nil || !fi.Mode().IsRegular():
		case fi.Mode()&0o111 != 0:
			return p, nil
		default:
			denied = true
		}
	}
	if denied { // like a shell: found, but not runnable
		return "", errdefs.New(errdefs.ErrPermissionDenied, "%s: permission denied", cmd)
	}
	return "", errdefs.NotFound("%s", guestproto.CommandNotFound(cmd))
}

func checkExecutable(cmd, p string) error {
	fi, err := os.Stat(p)
	switch {
	case errors.Is(err, os.ErrNotExist), errors.Is(err, syscall.ENOTDIR):
		return errdefs.NotFound("%s", guestproto.CommandNotFound(cmd))
	case err != nil:
		return errdefs.New(errdefs.ErrPermissionDenied, "%s: permission denied", cmd)
	case fi.IsDir():
		return errdefs.New(errdefs.ErrPermissionDenied, "%s: is a directory", cmd)
	case fi.Mode()&0o111 == 0:
		return errdefs.New(errdefs.ErrPermissionDenied, "%s: permission denied", cmd)
	}
	return nil
}

// execError classes a fork/exec failure; what passed LookPath can still fail as the target
// user (permissions, a missing interpreter, a cwd the user may not enter).
func execError(cmd string, err error) error {
	var errno syscall.Errno
	if !errors.As(err, &errno) {
		return fmt.Errorf("start %s: %w", cmd, err)
	}
	switch errno {
	case syscall.ENOENT, syscall.ENOTDIR:
		return errdefs.NotFound("%s: %v", cmd, errno)
	case syscall.EACCES, syscall.EPERM:
		return errdefs.New(errdefs.ErrPermissionDenied, "%s: %v", cmd, errno)
	case syscall.ENOEXEC, syscall.E2BIG, syscall.ELOOP, syscall.ENAMETOOLONG, syscall.EINVAL:
		return errdefs.InvalidArgument("%s: %v", cmd, errno)
	case syscall.EAGAIN, syscall.ENOMEM:
		return errdefs.New(errdefs.ErrResourceExhausted, "%s: %v", cmd, errno)
	}
	return fmt.Errorf("start %s: %w", cmd, err)
}

// workdir picks and checks the process's working directory: the request's, else the
// sandbox default, else the user's home.
func workdir(cfg *pb.ProcessConfig, settings *guestenv.Settings, u *guestenv.User) (string, error) {
	dir := u.Home
	switch {
	case cfg.GetCwd() != "":
		dir = guestenv.ResolvePath(cfg.GetCwd(), u)
	case settings.DefaultWorkdir() != "":
		dir = guestenv.ResolvePath(settings.DefaultWorkdir(), u)
	}
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return "", errdefs.InvalidArgument("cwd '%s' does not exist", dir)
	}
	return dir, nil
}

// Credential returns the identity to run as, or nil to keep the guest's own (setgroups needs
// privileges the guest may not have, and is pointless when nothing changes).
func Credential(u *guestenv.User) (*syscall.Credential, error) {
	if int(u.UID) == os.Geteuid() && int(u.GID) == os.Getegid() {
		return nil, nil
	}
	if os.Geteuid() != 0 {
		return nil, errdefs.New(errdefs.ErrPermissionDenied, "cannot run as user %s: the sandbox's profile does not allow switching users", u.Name)
	}
	return &syscall.Credential{Uid: u.UID, Gid: u.GID, Groups: supplementaryGroups(u)}, nil
}

// supplementaryGroups reads the user's extra groups from the sandbox's /etc/group.
func supplementaryGroups(u *guestenv.User) []uint32 {
	groups := []uint32{} // empty, not nil: clear the guest's own groups
	f, err := os.Open("/etc/group")
	if err != nil {
		return groups
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		parts := strings.Split(sc.Text(), ":")
		if len(parts) < 4 {
			continue
		}
		gid, err := strconv.ParseUint(parts[2], 10, 32)
		if err != nil || uint32(gid) == u.GID {
			continue
		}
		for _, m := range strings.Split(parts[3], ",") {
			if strings.TrimSpace(m) == u.Name {
				groups = append(groups, uint32(gid))
				break
			}
		}
	}
	return groups
}

// childOOMScore is the oom_score_adj of every process the guest starts. Raising a score
// needs no privilege, so this works rootless too. At the maximum, the OOM killer's score of a
// child is its memory plus the whole limit, which no guest can exceed within the same limit:
// user processes go before the guest whatever the guest's own size (500 let a guest whose
// binary pages count against a 32 MiB sandbox be picked before the process filling it).
const childOOMScore = "1000"

// RaiseOOMScore makes the child a preferred OOM victim over the guest. Errors are ignored:
// a child that already exited, or a /proc that is read-only, leaves nothing to do.
func RaiseOOMScore(pid int) {
	_ = os.WriteFile(fmt.Sprintf("/proc/%d/oom_score_adj", pid), []byte(childOOMScore), 0)
}
