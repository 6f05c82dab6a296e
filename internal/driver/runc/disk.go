package runc

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/paddock/paddock/internal/errdefs"
	"github.com/paddock/paddock/internal/sandbox"
)

// A sandbox whose root is writable and whose Resources.DiskMB is set keeps its writable layer
// on a filesystem of its own: <dir>/disk.img, an ext4 image of DiskMB MiB attached to a loop
// device and mounted at <dir>/disk, which holds the overlay's upper and work dirs. Writing past
// its size fails with ENOSPC inside the sandbox, its inodes are bounded (inodesPerMiB), and the
// host never gives it more than the image's size. Formatting happens once per size: each
// sandbox gets a sparse copy of a golden image kept in Config.DiskImageDir.

const (
	// inodesPerMiB is ext4's usual ratio: one inode per 16 KiB.
	inodesPerMiB = 64
	// goldenFormat names the formatting options (format); change it when they change, so
	// that images made with the old ones are not used.
	goldenFormat = "ext4v1"
	// loopAttempts bounds the retries when another process takes a free loop device first.
	loopAttempts = 16
	// loopReleaseWait bounds how long the driver waits for a loop device to let go of an
	// image after its unmount (another mount namespace may still hold it for a moment).
	loopReleaseWait = 5 * time.Second
	loopControl     = "/dev/loop-control"
	// ext4Shutdown is EXT4_IOC_SHUTDOWN (_IOR('X', 125, __u32)); with goingNoLogFlush the
	// filesystem stops at once, writing nothing more.
	ext4Shutdown    = 0x8004587d
	goingNoLogFlush = 0x2
)

// diskLimited reports whether spec's writable layer is a filesystem of its own. A read-only
// root has no writable layer: its DiskMB sizes the /tmp tmpfs instead.
func diskLimited(spec sandbox.InstanceSpec) bool {
	return spec.Resources.DiskMB > 0 && !spec.Security.ReadOnlyRoot
}

func (p paths) disk() string      { return filepath.Join(p.dir, "disk") }
func (p paths) diskImage() string { return filepath.Join(p.dir, "disk.img") }
func (p paths) diskLoop() string  { return filepath.Join(p.dir, "disk.loop") } // the loop device last used

// writable returns the overlay's upper and work dirs for spec.
func (p paths) writable(spec sandbox.InstanceSpec) (upper, work string) {
	if diskLimited(spec) {
		return filepath.Join(p.disk(), "upper"), filepath.Join(p.disk(), "work")
	}
	return p.upper(), p.work()
}

// CheckDiskLimit implements sandbox.DiskLimiter: a read-only root's tmpfs is always bounded;
// a writable layer needs root, mkfs.ext4 and loop devices.
func (d *Driver) CheckDiskLimit(spec sandbox.InstanceSpec) error {
	if !diskLimited(spec) {
		return nil
	}
	return d.disks.err
}

// disks makes the sandboxes' filesystem images.
type disks struct {
	dir  string // golden images
	mkfs string // mkfs.ext4
	fsck string // e2fsck
	err  error  // why disk limits are unavailable (nil when they are), for clients
	log  *slog.Logger
	mu   sync.Mutex // serialises formatting
}

// newDisks finds what disk limits need and says once, in the log, when something is missing.
func newDisks(dir string, log *slog.Logger) *disks {
	ds := &disks{dir: dir, log: log}
	public, detail := ds.probe()
	if public != nil {
		ds.err = public
		log.Warn("disk limits unavailable: writable layers are unbounded, profiles' disk sizes are not enforced and requests with disk_mb are refused",
			"err", detail)
	}
	return ds
}

// probe returns a message for clients and the detail for the log.
func (ds *disks) probe() (public, detail error) {
	if os.Geteuid() != 0 {
		return errdefs.FailedPrecondition("disk limits need the server to run as root"), errors.New("not running as root")
	}
	mkfs, err := findTool("mkfs.ext4")
	if err == nil {
		ds.fsck, err = findTool("e2fsck")
	}
	if err != nil {
		return errdefs.FailedPrecondition("e2fsprogs is not installed on the server"),
			fmt.Errorf("%w (apt-get install e2fsprogs)", err)
	}
	ctl, err := unix.Open(loopControl, unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		return errdefs.FailedPrecondition("the server's host offers no loop devices"), fmt.Errorf("open %s: %w", loopControl, err)
	}
	defer unix.Close(ctl)
	// Containers may have the control device without device nodes for what it creates.
	n, err := unix.IoctlRetInt(ctl, unix.LOOP_CTL_GET_FREE)
	if err == nil {
		_, err = os.Stat("/dev/loop" + strconv.Itoa(n))
	}
	if err != nil {
		return errdefs.FailedPrecondition("the server's host offers no loop devices"), fmt.Errorf("find a free loop device: %w", err)
	}
	ds.mkfs = mkfs
	return nil, nil
}

// findTool looks name up in PATH, then in the sbin directories, which are often not in it.
func findTool(name string) (string, error) {
	path, err := exec.LookPath(name)
	if err == nil {
		return path, nil
	}
	for _, dir := range []string{"/usr/sbin", "/sbin"} {
		if _, serr := os.Stat(filepath.Join(dir, name)); serr == nil {
			return filepath.Join(dir, name), nil
		}
	}
	return "", err
}

// create gives a new sandbox its filesystem image and mount point.
func (ds *disks) create(spec sandbox.InstanceSpec, p paths) error {
	if ds.err != nil {
		return errdefs.InvalidArgument("disk_mb cannot be enforced: %v", ds.err)
	}
	golden, err := ds.golden(spec.Resources.DiskMB)
	if err != nil {
		return err
	}
	if err := copySparse(golden, p.diskImage()); err != nil {
		return fmt.Errorf("copy disk image: %w", err)
	}
	return os.Mkdir(p.disk(), 0o700)
}

// golden returns the golden image of mb MiB, formatting it on first use. It is written under a
// temporary name and renamed, so a crash or a concurrent engine never sees half of one.
func (ds *disks) golden(mb int64) (string, error) {
	path := filepath.Join(ds.dir, fmt.Sprintf("%s-%dm-%di.img", goldenFormat, mb, mb*inodesPerMiB))
	if _, err := os.Stat(path); err == nil {
		return path, nil
	}
	ds.mu.Lock()
	defer ds.mu.Unlock()
	if _, err := os.Stat(path); err == nil {
		return path, nil
	}
	if err := os.MkdirAll(ds.dir, 0o700); err != nil {
		return "", fmt.Errorf("golden disk image: %w", err)
	}
	f, err := os.CreateTemp(ds.dir, ".format-*")
	if err != nil {
		return "", fmt.Errorf("golden disk image: %w", err)
	}
	defer os.Remove(f.Name()) // after a failure; renamed away otherwise
	err = f.Truncate(mb << 20)
	if err == nil {
		err = ds.format(f.Name(), mb)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		return "", fmt.Errorf("golden disk image of %d MiB: %w", mb, err)
	}
	return path, nil
}

// format makes an ext4 filesystem in the file at path: 4 KiB blocks, mb*inodesPerMiB inodes,
// nothing reserved for root, no room to grow, inode tables left unwritten (so that the image
// holds a few hundred KiB of data), and no journal. A journal would only matter after a host
// crash (a server crash leaves the disk mounted), which check handles with an fsck instead;
// without one, mount and unmount are faster and no journal thread runs per sandbox.
func (ds *disks) format(path string, mb int64) error {
	out, err := exec.Command(ds.mkfs, "-q", "-F", "-t", "ext4", "-b", "4096", "-I", "256", "-m", "0",
		"-N", strconv.FormatInt(mb*inodesPerMiB, 10), "-O", "^resize_inode,^has_journal",
		"-E", "lazy_itable_init=1,nodiscard", path).CombinedOutput()
	if err != nil {
		return fmt.Errorf("mkfs.ext4: %v: %s", err, oneLine(string(out)))
	}
	return nil
}

// copySparse copies the image src to the new file dst: sharing its blocks where the
// filesystem can (FICLONE), and otherwise copying only its data, leaving holes as holes.
func copySparse(src, dst string) (err error) {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	fi, err := in.Stat()
	if err != nil {
		return err
	}
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := out.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			_ = os.Remove(dst)
		}
	}()
	if unix.IoctlFileClone(int(out.Fd()), int(in.Fd())) == nil {
		return nil
	}
	if err := out.Truncate(fi.Size()); err != nil {
		return err
	}
	for off := int64(0); off < fi.Size(); {
		start, err := unix.Seek(int(in.Fd()), off, unix.SEEK_DATA)
		if errors.Is(err, unix.ENXIO) {
			return nil // only a hole is left
		}
		if err != nil {
			return err
		}
		end, err := unix.Seek(int(in.Fd()), start, unix.SEEK_HOLE)
		if err != nil {
			return err
		}
		if err := copyRange(in, out, start, end-start); err != nil {
			return err
		}
		off = end
	}
	return nil
}

// copyRange copies n bytes at off from in to out, in the kernel when it can.
func copyRange(in, out *os.File, off, n int64) error {
	for n > 0 {
		roff, woff := off, off
		k, err := unix.CopyFileRange(int(in.Fd()), &roff, int(out.Fd()), &woff, int(min(n, 1<<30)), 0)
		if err != nil {
			// Across filesystems or where the kernel cannot: copy through user space.
			_, err = io.Copy(io.NewOffsetWriter(out, off), io.NewSectionReader(in, off, n))
			return err
		}
		if k == 0 {
			return io.ErrUnexpectedEOF
		}
		off, n = off+int64(k), n-int64(k)
	}
	return nil
}

// mount mounts the sandbox's image at p.disk() and makes the overlay's dirs in it. A disk
// still mounted from before (the engine crashed, the container died) is used as it is.
func (ds *disks) mount(ctx context.Context, p paths, upper, work string) error {
	if !isMountPoint(p.disk()) {
		// Another mount namespace may still have the image's filesystem (one made while the
		// sandbox ran copied its mount: a daemon started with a private /tmp, a test's
		// unshare, a starting container): mount that same device again, sharing its one
		// filesystem. Attaching the image to a second device would make a second filesystem
		// on it and corrupt it.
		if dev, fd, ok := heldDevice(p); ok {
			err := unix.Mount(dev, p.disk(), "ext4", unix.MS_NODEV|unix.MS_NOSUID, "noinit_itable,discard")
			unix.Close(fd) // the mount holds the device now
			if err == nil {
				ds.log.Info("disk still mounted elsewhere: mounted its device again", "image", p.diskImage(), "device", dev)
			}
			return ds.finishMount(err, upper, work)
		}
		if err := waitLoopRelease(p); err != nil {
			return err
		}
		if err := ds.check(ctx, p.diskImage()); err != nil {
			return err
		}
		dev, fd, err := attachLoop(p.diskImage())
		if err != nil {
			return fmt.Errorf("attach disk: %w", err)
		}
		err = unix.Mount(dev, p.disk(), "ext4", unix.MS_NODEV|unix.MS_NOSUID, "noinit_itable,discard")
		unix.Close(fd) // the mount holds the device now; without one, it detaches itself
		if err != nil {
			return fmt.Errorf("mount disk: %w", err)
		}
		if err := os.WriteFile(p.diskLoop(), []byte(dev), 0o600); err != nil {
			return fmt.Errorf("record disk device: %w", err)
		}
	}
	return ds.finishMount(nil, upper, work)
}

// finishMount makes the overlay's directories on a mounted disk (after err, the mount's).
func (ds *disks) finishMount(err error, upper, work string) error {
	if err != nil {
		return fmt.Errorf("mount disk: %w", err)
	}
	for _, dir := range []string{upper, work} {
		if err := os.Mkdir(dir, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
			return fmt.Errorf("mount disk: %w", err)
		}
	}
	return nil
}

// heldDevice returns the loop device the sandbox's image was last attached to when it still
// holds the image (its filesystem lives on in another mount namespace), and an open
// descriptor of it. The device is opened before it is checked and the caller closes the
// descriptor only after its mount, so that the device cannot detach itself (autoclear) and
// be given to another image in between.
func heldDevice(p paths) (string, int, bool) {
	b, err := os.ReadFile(p.diskLoop())
	if err != nil {
		return "", -1, false
	}
	name := filepath.Base(strings.TrimSpace(string(b)))
	image, err := filepath.EvalSymlinks(p.diskImage())
	if err != nil {
		image = p.diskImage()
	}
	fd, err := unix.Open("/dev/"+name, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return "", -1, false
	}
	if !loopHolds(name, image) {
		unix.Close(fd)
		return "", -1, false
	}
	return "/dev/" + name, fd, true
}

// check repairs the filesystem in image when it was not cleanly unmounted (the host
// crashed or lost power while it was mounted), with e2fsck's automatic repairs.
func (ds *disks) check(ctx context.Context, image string) error {
	clean, err := cleanlyUnmounted(image)
	if err != nil || clean {
		return err
	}
	ds.log.Warn("disk image not cleanly unmounted: checking it", "image", image)
	out, err := exec.CommandContext(ctx, ds.fsck, "-p", image).CombinedOutput()
	var exit *exec.ExitError
	// 1: errors corrected; 2: corrected, and a reboot is advised (for a root filesystem).
	if errors.As(err, &exit) && exit.ExitCode() <= 2 {
		err = nil
	}
	if err != nil {
		return fmt.Errorf("check disk image: e2fsck: %v: %s", err, oneLine(string(out)))
	}
	return nil
}

// cleanlyUnmounted reads the ext4 superblock's state: valid (cleanly unmounted) and without
// recorded errors. Mounting clears the valid flag; unmounting sets it again.
func cleanlyUnmounted(image string) (bool, error) {
	f, err := os.Open(image)
	if err != nil {
		return false, err
	}
	defer f.Close()
	var b [4]byte // s_magic and s_state
	if _, err := f.ReadAt(b[:], 1024+0x38); err != nil {
		return false, fmt.Errorf("read disk image superblock: %w", err)
	}
	if binary.LittleEndian.Uint16(b[:2]) != 0xef53 {
		return false, errors.New("disk image holds no ext4 filesystem")
	}
	const valid, hasErrors = 1, 2
	state := binary.LittleEndian.Uint16(b[2:])
	return state&valid != 0 && state&hasErrors == 0, nil
}

// unmount unmounts the sandbox's disk and waits (boundedly) until its loop device has let go
// of the image. With discard (the sandbox is being deleted) the filesystem is shut down first, so
// that nothing of it is written back. Without a mounted disk it does nothing.
func (ds *disks) unmount(p paths, discard bool) error {
	if discard && isMountPoint(p.disk()) {
		if fd, err := unix.Open(p.disk(), unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0); err == nil {
			flags := uint32(goingNoLogFlush)
			_ = unix.IoctlSetPointerInt(fd, ext4Shutdown, int(flags))
			unix.Close(fd)
		}
	}
	if err := unmount(p.disk()); err != nil {
		return err
	}
	if err := waitLoopRelease(p); err != nil {
		// Another mount namespace still has the filesystem: the next start waits for it.
		ds.log.Warn("disk still in use after its unmount", "image", p.diskImage(), "err", err)
	}
	return nil
}

// used is what the mounted disk holds, in bytes (0 without one).
func (ds *disks) used(p paths) uint64 {
	var fs unix.Statfs_t
	if !isMountPoint(p.disk()) || unix.Statfs(p.disk(), &fs) != nil {
		return 0
	}
	return (fs.Blocks - fs.Bfree) * uint64(fs.Bsize)
}

// loopAttach serialises this process's attaches: every attacher is handed the same lowest
// free device, so with many at once (100 parallel runs) all but one lost each round and a
// few lost every retry (EBUSY). Attaching takes well under a millisecond.
var loopAttach sync.Mutex

// attachLoop attaches image to a free loop device that detaches itself once nothing holds it
// (LO_FLAGS_AUTOCLEAR): after the unmount, or as soon as fd is closed if nothing was mounted.
// It returns the device and an open descriptor of it for the caller to close.
func attachLoop(image string) (dev string, fd int, err error) {
	img, err := unix.Open(image, unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		return "", -1, err
	}
	defer unix.Close(img)
	ctl, err := unix.Open(loopControl, unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		return "", -1, err
	}
	defer unix.Close(ctl)
	cfg := unix.LoopConfig{Fd: uint32(img), Info: unix.LoopInfo64{Flags: unix.LO_FLAGS_AUTOCLEAR}}
	copy(cfg.Info.File_name[:len(cfg.Info.File_name)-1], image)
	loopAttach.Lock()
	defer loopAttach.Unlock()
	backoff := 2 * time.Millisecond
	for attempt := 1; ; attempt++ {
		n, err := unix.IoctlRetInt(ctl, unix.LOOP_CTL_GET_FREE)
		if err != nil {
			return "", -1, fmt.Errorf("find a free loop device: %w", err)
		}
		dev = "/dev/loop" + strconv.Itoa(n)
		fd, err = unix.Open(dev, unix.O_RDWR|unix.O_CLOEXEC, 0)
		if err != nil {
			return "", -1, err
		}
		err = unix.IoctlLoopConfigure(fd, &cfg)
		if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOTTY) {
			err = configureLoopOld(fd, img, &cfg.Info) // kernels before 5.8
		}
		if err == nil {
			return dev, fd, nil
		}
		unix.Close(fd)
		// EBUSY: another process attached the device between GET_FREE and here, or holds
		// it a moment (as losetup does, wait before asking again).
		if !errors.Is(err, unix.EBUSY) || attempt == loopAttempts {
			return "", -1, fmt.Errorf("attach %s: %w", dev, err)
		}
		time.Sleep(backoff)
		backoff = min(2*backoff, 200*time.Millisecond)
	}
}

// configureLoopOld is LOOP_CONFIGURE in two steps, for kernels without it.
func configureLoopOld(fd, img int, info *unix.LoopInfo64) error {
	if err := unix.IoctlSetInt(fd, unix.LOOP_SET_FD, img); err != nil {
		return err
	}
	if err := unix.IoctlLoopSetStatus64(fd, info); err != nil {
		_ = unix.IoctlSetInt(fd, unix.LOOP_CLR_FD, 0)
		return err
	}
	return nil
}

// waitLoopRelease waits until the loop device the sandbox's image was last attached to no
// longer holds it, and forgets that device. A device is normally free once its filesystem is
// unmounted; a mount namespace made meanwhile (a container starting) can hold it a moment.
func waitLoopRelease(p paths) error {
	b, err := os.ReadFile(p.diskLoop())
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	dev := filepath.Base(strings.TrimSpace(string(b)))
	image, err := filepath.EvalSymlinks(p.diskImage())
	if err != nil {
		image = p.diskImage()
	}
	for deadline := time.Now().Add(loopReleaseWait); loopHolds(dev, image); {
		if time.Now().After(deadline) {
			return errdefs.Unavailable("the sandbox's disk is still in use by an earlier mount")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := os.Remove(p.diskLoop()); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// loopHolds reports whether the loop device dev (loopN) is attached to image.
func loopHolds(dev, image string) bool {
	b, err := os.ReadFile(filepath.Join("/sys/block", dev, "loop", "backing_file"))
	if err != nil {
		return false // detached: the loop attributes are gone
	}
	f := strings.TrimSuffix(strings.TrimSpace(string(b)), " (deleted)")
	return f == image
}
