package netns

import (
	"fmt"
	"net"
	"net/netip"
	"unsafe"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// TUN describes the TUN device OpenTUN makes: the sandbox's side of a user-mode network.
type TUN struct {
	Name    string // interface name, e.g. "eth0"
	MTU     int
	Addr    netip.Prefix // the interface's address and subnet, e.g. 10.0.2.100/24
	Gateway netip.Addr   // the default route's next hop
}

// OpenTUN creates the TUN device t (IP packets, no link-layer header) in the namespace
// pinned at path, configures its address and default route, and returns the device's file
// descriptor, non-blocking: packets the namespace sends are read from it, packets written to
// it arrive there. The device disappears when the descriptor is closed.
func OpenTUN(path string, t TUN) (int, error) {
	tun := -1
	err := Do(path, func() error {
		fd, err := createTUN(t.Name)
		if err != nil {
			return err
		}
		if err := configure(t); err != nil {
			unix.Close(fd)
			return err
		}
		tun = fd
		return nil
	})
	return tun, err
}

// createTUN opens /dev/net/tun as a TUN device without packet information headers.
func createTUN(name string) (int, error) {
	fd, err := unix.Open("/dev/net/tun", unix.O_RDWR|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
	if err != nil {
		return -1, fmt.Errorf("open /dev/net/tun: %w", err)
	}
	var req struct {
		name  [unix.IFNAMSIZ]byte
		flags uint16
		_     [22]byte
	}
	copy(req.name[:], name)
	req.flags = unix.IFF_TUN | unix.IFF_NO_PI
	if _, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), unix.TUNSETIFF, uintptr(unsafe.Pointer(&req))); errno != 0 {
		unix.Close(fd)
		return -1, fmt.Errorf("create tun %s: %w", name, errno)
	}
	return fd, nil
}

// configure sets the device's address, MTU and state, and the default route, in the
// current thread's namespace.
func configure(t TUN) error {
	link, err := netlink.LinkByName(t.Name)
	if err != nil {
		return fmt.Errorf("find %s: %w", t.Name, err)
	}
	if t.MTU > 0 {
		if err := netlink.LinkSetMTU(link, t.MTU); err != nil {
			return fmt.Errorf("set MTU of %s: %w", t.Name, err)
		}
	}
	addr := &netlink.Addr{IPNet: &net.IPNet{IP: t.Addr.Addr().AsSlice(), Mask: net.CIDRMask(t.Addr.Bits(), t.Addr.Addr().BitLen())}}
	if err := netlink.AddrAdd(link, addr); err != nil {
		return fmt.Errorf("address %s on %s: %w", t.Addr, t.Name, err)
	}
	if err := netlink.LinkSetUp(link); err != nil {
		return fmt.Errorf("bring %s up: %w", t.Name, err)
	}
	route := &netlink.Route{LinkIndex: link.Attrs().Index, Gw: t.Gateway.AsSlice()}
	if err := netlink.RouteAdd(route); err != nil {
		return fmt.Errorf("default route via %s: %w", t.Gateway, err)
	}
	return nil
}

// linkUp brings the named interface up in the current thread's namespace.
func linkUp(name string) error {
	link, err := netlink.LinkByName(name)
	if err != nil {
		return fmt.Errorf("find %s: %w", name, err)
	}
	if err := netlink.LinkSetUp(link); err != nil {
		return fmt.Errorf("bring %s up: %w", name, err)
	}
	return nil
}
