package engine

import (
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
)

// InstallGuest copies a static paddock binary (src, or the running executable when src is
// "") into <dataDir>/bin and returns the copy's path. Sandboxes bind-mount the copy, never the live file, so replacing or rebuilding the
// server binary cannot affect running sandboxes. The copy is keyed by the source's identity
// (device, inode, size, mtime), so repeated calls are a stat away.
func InstallGuest(dataDir, src string) (string, error) {
	exe, err := src, error(nil)
	if exe == "" {
		if exe, err = os.Executable(); err != nil {
			return "", fmt.Errorf("find own executable: %w", err)
		}
	}
	if exe, err = filepath.EvalSymlinks(exe); err != nil {
		return "", fmt.Errorf("resolve own executable: %w", err)
	}
	fi, err := os.Stat(exe)
	if err != nil {
		return "", fmt.Errorf("stat own executable: %w", err)
	}
	st, _ := fi.Sys().(*syscall.Stat_t)
	var dev, ino uint64
	if st != nil {
		dev, ino = st.Dev, st.Ino
	}
	sum := sha256.Sum256(fmt.Appendf(nil, "%d/%d/%d/%d", dev, ino, fi.Size(), fi.ModTime().UnixNano()))
	dst := filepath.Join(dataDir, "bin", "paddock-guest-"+hex.EncodeToString(sum[:6]))
	if _, err := os.Stat(dst); err == nil {
		return dst, nil
	}
	if err := checkStatic(exe); err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return "", err
	}
	if err := copyFile(exe, dst); err != nil {
		return "", fmt.Errorf("install guest binary: %w", err)
	}
	return dst, nil
}

// checkStatic refuses a dynamically linked binary: the guest runs inside images with any libc
// (or none), so it must not need a dynamic loader.
func checkStatic(path string) error {
	f, err := elf.Open(path)
	if err != nil {
		return fmt.Errorf("inspect %s: %w", path, err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return fmt.Errorf("%s is dynamically linked; build paddock with CGO_ENABLED=0 so it can run as the in-sandbox guest", path)
		}
	}
	return nil
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	tmp, err := os.CreateTemp(filepath.Dir(dst), ".guest-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := io.Copy(tmp, in); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o555); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), dst)
}
