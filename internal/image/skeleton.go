package image

import (
	"fmt"
	"os"
	"path/filepath"
)

// usrMerged are the top-level dirs that usr-merged hosts make symlinks into /usr. The
// skeleton copies such symlinks; a real directory becomes a mount point for a host bind.
var usrMerged = []string{"bin", "sbin", "lib", "lib32", "lib64", "libx32"}

// UID and GID of the unprivileged user of the base image.
const userID = 1000

// entry is one file, directory or symlink of the skeleton.
type entry struct {
	path     string // relative to the skeleton root, parents listed first
	mode     os.FileMode
	uid, gid int
	dir      bool
	link     string // symlink target
	content  string // regular file content
}

const (
	passwd = "root:x:0:0:root:/root:/bin/bash\n" +
		"user:x:1000:1000:user:/home/user:/bin/bash\n" +
		"nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"
	group = "root:x:0:\n" +
		"tty:x:5:\n" +
		"users:x:100:user\n" +
		"user:x:1000:\n" +
		"nogroup:x:65534:\n"
	hosts = "127.0.0.1\tlocalhost\n" +
		"::1\tlocalhost ip6-localhost ip6-loopback\n" +
		"127.0.1.1\tsandbox\n"
	// The egress-networking work replaces this with a resolver the sandbox can reach.
	resolvConf = "# Paddock: networking is off in this sandbox (loopback only).\n" +
		"nameserver 127.0.0.1\n"
	nsswitch = "passwd: files\ngroup: files\nshadow: files\nhosts: files dns\n"
)

// skeleton is the layout of the base image's lower dir: mount points, a generated /etc and,
// from the host (rooted at host), only the usr-merge symlinks and os-release. Parents come
// before children.
func skeleton(host string) []entry {
	dir := func(p string, mode os.FileMode) entry { return entry{path: p, mode: mode, dir: true} }
	file := func(p, content string) entry { return entry{path: p, mode: 0o644, content: content} }
	es := []entry{
		dir("usr", 0o755), dir("proc", 0o555), dir("sys", 0o555), dir("dev", 0o755), dir("run", 0o755),
		dir("tmp", os.ModeSticky|0o777),
		dir("var", 0o755), dir("var/tmp", os.ModeSticky|0o777),
		dir("root", 0o700),
		dir("home", 0o755),
		{path: "home/user", mode: 0o755, uid: userID, gid: userID, dir: true},
		{path: "workspace", mode: 0o755, uid: userID, gid: userID, dir: true},
		dir("mnt", 0o755), dir("opt", 0o755),
		// Mount points of the guest: its binary (a file) and its socket dir.
		dir(".paddock", 0o755), dir(".paddock/bin", 0o755), dir(".paddock/run", 0o755),
		{path: ".paddock/bin/paddock", mode: 0o555},
		dir("etc", 0o755), dir("etc/ssl", 0o755), dir("etc/ssl/certs", 0o755), dir("etc/alternatives", 0o755),
		file("etc/passwd", passwd),
		file("etc/group", group),
		file("etc/hostname", "sandbox\n"),
		file("etc/hosts", hosts),
		file("etc/resolv.conf", resolvConf),
		file("etc/nsswitch.conf", nsswitch),
	}
	for _, name := range usrMerged {
		p := filepath.Join(host, name)
		fi, err := os.Lstat(p)
		switch {
		case err != nil:
		case fi.Mode()&os.ModeSymlink != 0:
			if target, err := os.Readlink(p); err == nil {
				es = append(es, entry{path: name, link: target})
			}
		case fi.IsDir():
			es = append(es, dir(name, 0o755))
		}
	}
	if b, err := os.ReadFile(filepath.Join(host, "etc/os-release")); err == nil {
		es = append(es, file("etc/os-release", string(b)))
	}
	return es
}

// writeSkeleton creates es under root (an existing directory) with exact modes and owners,
// whatever the umask, and syncs the files.
func writeSkeleton(root string, es []entry) error {
	if err := os.Chmod(root, 0o755); err != nil {
		return err
	}
	for _, e := range es {
		if err := writeEntry(filepath.Join(root, e.path), e); err != nil {
			return fmt.Errorf("skeleton %s: %w", e.path, err)
		}
	}
	return nil
}

func writeEntry(p string, e entry) error {
	if e.link != "" {
		return os.Symlink(e.link, p)
	}
	if e.dir {
		if err := os.Mkdir(p, 0o700); err != nil {
			return err
		}
	} else if err := writeFile(p, e.content); err != nil {
		return err
	}
	if err := os.Lchown(p, e.uid, e.gid); err != nil {
		return fmt.Errorf("%w (building the base image needs root)", err)
	}
	return os.Chmod(p, e.mode) // after chown, which may clear set-id bits
}

func writeFile(p, content string) error {
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(content); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
