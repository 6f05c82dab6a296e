package usernet

import (
	"context"
	"os"
	"sync"
	"time"

	"gvisor.dev/gvisor/pkg/buffer"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/link/channel"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv6"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
)

// linkQueue is how many outbound packets may wait for the TUN device.
const linkQueue = 1024

// tunLink moves IP packets between the sandbox's TUN device and the stack: one goroutine
// reads the device and injects what it reads, one writes what the stack sends. The device
// is on Go's poller, so closing it ends the reader. (Netstack's own fd-based link keeps an
// eventfd per endpoint that it never closes.)
type tunLink struct {
	ep     *channel.Endpoint
	dev    *os.File
	cancel context.CancelFunc // ends the writer
	wg     sync.WaitGroup     // both goroutines; close waits for them
	// released is closed once the device is gone from the namespace (after close).
	released chan struct{}
}

// newTunLink takes the non-blocking TUN descriptor fd.
func newTunLink(fd int) *tunLink {
	return &tunLink{ep: channel.New(linkQueue, MTU, ""), dev: os.NewFile(uintptr(fd), "tun"),
		released: make(chan struct{})}
}

// start begins moving packets; call it once the stack has attached ep.
func (l *tunLink) start() {
	ctx, cancel := context.WithCancel(context.Background())
	l.cancel = cancel
	l.wg.Add(2)
	go func() { defer l.wg.Done(); l.inbound() }()
	go func() { defer l.wg.Done(); l.outbound(ctx) }()
}

// inbound reads packets from the sandbox until the device is closed.
func (l *tunLink) inbound() {
	buf := make([]byte, MTU)
	for {
		n, err := l.dev.Read(buf)
		if err != nil {
			return
		}
		if n == 0 {
			continue
		}
		var proto tcpip.NetworkProtocolNumber
		switch buf[0] >> 4 {
		case 4:
			proto = ipv4.ProtocolNumber
		case 6:
			proto = ipv6.ProtocolNumber
		default:
			continue
		}
		pkt := stack.NewPacketBuffer(stack.PacketBufferOptions{Payload: buffer.MakeWithData(buf[:n])})
		l.ep.InjectInbound(proto, pkt)
		pkt.DecRef()
	}
}

// outbound writes the stack's packets to the sandbox until ctx ends. A packet the device
// refuses is dropped, as a full NIC queue would.
func (l *tunLink) outbound(ctx context.Context) {
	for {
		pkt := l.ep.ReadContext(ctx)
		if pkt == nil {
			return
		}
		v := pkt.ToView()
		pkt.DecRef()
		_, err := l.dev.Write(v.AsSlice())
		v.Release()
		if err != nil && ctx.Err() != nil {
			return
		}
	}
}

// close stops both goroutines and releases the device, which removes it from the
// namespace. The last close of a TUN descriptor waits for the kernel to unregister the
// device (10–30 ms of RCU grace periods). Most callers need not wait for that, so it happens
// in the background once both goroutines are done with the device; released says when it
// is over (a new device of the same name in the same namespace must wait for it).
func (l *tunLink) close() error {
	if l.cancel != nil {
		l.cancel()
	}
	err := l.dev.SetDeadline(time.Now()) // wakes the reader, and a writer the device holds up
	l.wg.Wait()
	l.ep.Close()
	go func() {
		_ = l.dev.Close()
		close(l.released)
	}()
	return err
}
