package image

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/paddock/paddock/internal/sandbox"
)

// baseVersion names the skeleton layout; bump it when the layout changes so that an existing
// skeleton (possibly in use by running sandboxes) is never modified in place.
const baseVersion = "v2"

// basePath is the PATH of processes in the base image.
const basePath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// usrMerged are the top-level dirs that usr-merged hosts make symlinks into /usr.
var usrMerged = []string{"bin", "sbin", "lib", "lib32", "lib64", "libx32"}

// buildBase makes (once) the skeleton lower dir of the base image and describes the image.
func buildBase(dataDir string) (*sandbox.Image, error) {
	root := filepath.Join(dataDir, "images", "base", baseVersion, "rootfs")
	img := &sandbox.Image{
		Ref:    Base,
		Layers: []string{root},
		Binds:  []sandbox.Bind{{Source: "/usr", Destination: "/usr"}},
		Config: sandbox.ImageConfig{Env: []string{"PATH=" + basePath, "LANG=C.UTF-8"}},
	}
	// Host CA certificates, and Debian's alternatives: /usr/bin/awk, node, editor... are
	// symlinks through /etc/alternatives, which is itself only symlinks into /usr.
	for _, d := range []string{"/etc/ssl/certs", "/etc/alternatives"} {
		if fi, err := os.Stat(d); err == nil && fi.IsDir() {
			img.Binds = append(img.Binds, sandbox.Bind{Source: d, Destination: d})
		}
	}
	for _, d := range usrMerged {
		if fi, err := os.Lstat("/" + d); err == nil && fi.Mode()&os.ModeSymlink == 0 && fi.IsDir() {
			img.Binds = append(img.Binds, sandbox.Bind{Source: "/" + d, Destination: "/" + d})
		}
	}
	if _, err := os.Stat(filepath.Join(root, "etc", "passwd")); err == nil {
		return img, nil
	}
	parent := filepath.Dir(root)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return nil, fmt.Errorf("create base image dir: %w", err)
	}
	tmp, err := os.MkdirTemp(parent, ".build-")
	if err != nil {
		return nil, fmt.Errorf("create base image dir: %w", err)
	}
	defer os.RemoveAll(tmp)
	if err := os.Chmod(tmp, 0o755); err != nil {
		return nil, err
	}
	if err := writeSkeleton(tmp); err != nil {
		return nil, fmt.Errorf("build base image: %w", err)
	}
	// Another process may have finished first; either result is identical.
	if err := os.Rename(tmp, root); err != nil && !os.IsExist(err) && !strings.Contains(err.Error(), "not empty") {
		return nil, fmt.Errorf("install base image: %w", err)
	}
	return img, nil
}

type entry struct {
	path     string
	mode     os.FileMode
	uid, gid int
	content  string // for files
	link     string // for symlinks
	dir      bool
}

func skeleton() []entry {
	es := []entry{
		{path: "usr", mode: 0o755, dir: true},
		{path: "proc", mode: 0o555, dir: true},
		{path: "sys", mode: 0o555, dir: true},
		{path: "dev", mode: 0o755, dir: true},
		{path: "run", mode: 0o755, dir: true},
		{path: "tmp", mode: os.ModeSticky | 0o777, dir: true},
		{path: "var", mode: 0o755, dir: true},
		{path: "var/tmp", mode: os.ModeSticky | 0o777, dir: true},
		{path: "root", mode: 0o700, dir: true},
		{path: "home", mode: 0o755, dir: true},
		{path: "home/user", mode: 0o755, uid: 1000, gid: 1000, dir: true},
		{path: "workspace", mode: 0o755, uid: 1000, gid: 1000, dir: true},
		{path: "mnt", mode: 0o755, dir: true},
		{path: "opt", mode: 0o755, dir: true},
		{path: ".paddock", mode: 0o755, dir: true},
		{path: ".paddock/run", mode: 0o755, dir: true},
		{path: ".paddock/bin", mode: 0o755, dir: true},
		{path: ".paddock/bin/paddock", mode: 0o555},
		{path: "etc", mode: 0o755, dir: true},
		{path: "etc/ssl", mode: 0o755, dir: true},
		{path: "etc/ssl/certs", mode: 0o755, dir: true},
		{path: "etc/alternatives", mode: 0o755, dir: true},
		{path: "etc/passwd", mode: 0o644, content: "root:x:0:0:root:/root:/bin/bash\n" +
			"user:x:1000:1000:user:/home/user:/bin/bash\n" +
			"nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"},
		{path: "etc/group", mode: 0o644, content: "root:x:0:\ntty:x:5:\nusers:x:100:user\n" +
			"user:x:1000:\nnogroup:x:65534:\n"},
		{path: "etc/hostname", mode: 0o644, content: "sandbox\n"},
		{path: "etc/hosts", mode: 0o644, content: "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n127.0.1.1\tsandbox\n"},
		{path: "etc/resolv.conf", mode: 0o644, content: "# Paddock: this sandbox has no network yet (loopback only).\nnameserver 127.0.0.1\n"},
		{path: "etc/nsswitch.conf", mode: 0o644, content: "passwd: files\ngroup: files\nshadow: files\nhosts: files dns\n"},
	}
	for _, d := range usrMerged {
		if target, err := os.Readlink("/" + d); err == nil {
			es = append(es, entry{path: d, link: target})
		}
	}
	if b, err := os.ReadFile("/etc/os-release"); err == nil {
		es = append(es, entry{path: "etc/os-release", mode: 0o644, content: string(b)})
	}
	return es
}

func writeSkeleton(root string) error {
	for _, e := range skeleton() {
		p := filepath.Join(root, e.path)
		var err error
		switch {
		case e.link != "":
			err = os.Symlink(e.link, p)
		case e.dir:
			if err = os.Mkdir(p, e.mode.Perm()); err == nil {
				err = os.Chmod(p, e.mode)
			}
		default:
			err = os.WriteFile(p, []byte(e.content), e.mode)
		}
		if err == nil && e.link == "" {
			err = os.Lchown(p, e.uid, e.gid)
		}
		if err != nil {
			return err
		}
	}
	return nil
}
