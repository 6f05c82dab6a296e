package image

import (
	"archive/tar"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/paddock/paddock/internal/errdefs"
)

// Overlay whiteout conventions of OCI layers.
const (
	whiteoutPrefix = ".wh."
	opaqueMarker   = ".wh..wh..opq"
)

// unpackLayer extracts an uncompressed layer tar into dir (which must be new and empty) and
// returns the sha256 of the stream, for checking against the layer's diff ID. Whiteouts
// become overlayfs whiteouts (0:0 character devices) and opaque directories get
// trusted.overlay.opaque. Entries whose path leaves the layer, or that would be written
// through a symlink, are rejected; device nodes and FIFOs are skipped; setuid/setgid bits are
// kept (no_new_privs makes them inert in sandboxes); user.* xattrs are kept.
func unpackLayer(r io.Reader, dir string) (string, error) {
	h := sha256.New()
	tr := tar.NewReader(io.TeeReader(r, h))
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return "", fmt.Errorf("read layer: %w", err)
		}
		if err := extract(tr, hdr, dir); err != nil {
			return "", err
		}
	}
	if _, err := io.Copy(io.Discard, tr); err != nil {
		return "", err
	}
	// Tar padding after the end marker counts toward the digest; reading to the end also
	// lets a compressed source verify its own digest.
	if _, err := io.Copy(h, r); err != nil {
		return "", fmt.Errorf("read layer: %w", err)
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}

// inside resolves an entry name to a path under root, refusing names that leave it and
// parents that are symlinks (a symlink planted by an earlier entry must not redirect writes).
func inside(root, name string) (string, error) {
	clean := filepath.Clean("/" + name)
	if clean == "/" {
		return root, nil
	}
	if strings.Contains(name, "..") {
		for _, part := range strings.Split(name, "/") {
			if part == ".." {
				return "", errdefs.InvalidArgument("layer entry %q leaves the layer", name)
			}
		}
	}
	p := root
	parts := strings.Split(strings.TrimPrefix(clean, "/"), "/")
	for _, part := range parts[:len(parts)-1] {
		p = filepath.Join(p, part)
		fi, err := os.Lstat(p)
		switch {
		case errors.Is(err, os.ErrNotExist):
			if err := os.Mkdir(p, 0o755); err != nil {
				return "", err
			}
		case err != nil:
			return "", err
		case fi.Mode()&os.ModeSymlink != 0:
			return "", errdefs.InvalidArgument("layer entry %q would be written through the symlink %s", name, strings.TrimPrefix(p, root))
		case !fi.IsDir():
			return "", errdefs.InvalidArgument("layer entry %q is below a non-directory", name)
		}
	}
	return filepath.Join(p, parts[len(parts)-1]), nil
}

func extract(tr *tar.Reader, hdr *tar.Header, root string) error {
	base := filepath.Base(hdr.Name)
	if strings.HasPrefix(base, whiteoutPrefix) {
		parent, err := inside(root, filepath.Dir(hdr.Name)+"/x")
		if err != nil {
			return err
		}
		parent = filepath.Dir(parent)
		if base == opaqueMarker {
			return unix.Lsetxattr(parent, "trusted.overlay.opaque", []byte("y"), 0)
		}
		target := filepath.Join(parent, strings.TrimPrefix(base, whiteoutPrefix))
		return unix.Mknod(target, unix.S_IFCHR, 0)
	}
	p, err := inside(root, hdr.Name)
	if err != nil {
		return err
	}
	if p == root {
		return nil
	}
	mode := hdr.FileInfo().Mode() & (os.ModePerm | os.ModeSetuid | os.ModeSetgid | os.ModeSticky)
	switch hdr.Typeflag {
	case tar.TypeDir:
		if fi, err := os.Lstat(p); err == nil && !fi.IsDir() {
			return errdefs.InvalidArgument("layer entry %q: a directory over a file", hdr.Name)
		} else if err != nil {
			if err := os.Mkdir(p, 0o755); err != nil {
				return err
			}
		}
	case tar.TypeReg:
		_ = os.Remove(p)
		f, err := os.OpenFile(p, os.O_CREATE|os.O_EXCL|os.O_WRONLY|unix.O_NOFOLLOW, 0o600)
		if err != nil {
			return err
		}
		if _, err := io.Copy(f, tr); err != nil {
			f.Close()
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
	case tar.TypeSymlink:
		_ = os.Remove(p)
		if err := os.Symlink(hdr.Linkname, p); err != nil {
			return err
		}
	case tar.TypeLink:
		target, err := inside(root, hdr.Linkname)
		if err != nil {
			return err
		}
		_ = os.Remove(p)
		if err := os.Link(target, p); err != nil {
			return fmt.Errorf("layer hardlink %q: %w", hdr.Name, err)
		}
		return nil
	default:
		return nil // devices, FIFOs: skipped
	}
	if err := os.Lchown(p, hdr.Uid, hdr.Gid); err != nil {
		return err
	}
	if hdr.Typeflag != tar.TypeSymlink {
		if err := os.Chmod(p, mode); err != nil {
			return err
		}
	}
	for k, v := range hdr.PAXRecords {
		if name, ok := strings.CutPrefix(k, "SCHILY.xattr."); ok && strings.HasPrefix(name, "user.") {
			_ = unix.Lsetxattr(p, name, []byte(v), 0)
		}
	}
	ts := []unix.Timespec{unix.NsecToTimespec(hdr.ModTime.UnixNano()), unix.NsecToTimespec(hdr.ModTime.UnixNano())}
	_ = unix.UtimesNanoAt(unix.AT_FDCWD, p, ts, unix.AT_SYMLINK_NOFOLLOW)
	return nil
}
