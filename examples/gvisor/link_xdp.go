// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause

// The endpoint links: gVisor's own AF_XDP link endpoint (pkg/tcpip/link/xdp)
// on the socket the keeper hands out.
//
// gVisor's WritePackets reserves TX descriptors under the UMEM lock but
// fills them and publishes the producer index (pkg/xdp TXQueue.Notify)
// after unlocking: with two writers at once, the later one can publish the
// earlier one's still-unfilled descriptor (a lost or garbage frame, then a
// TCP retransmission timeout). Fixed upstream in 2023-12; the Debian
// snapshot has it. So:
//
//   - gvisor-xdp: the link as shipped, behind a one-queue fifo qdisc (one
//     goroutine writes; what runsc's default of one queue per CPU would
//     not give);
//   - xdp: the same link with WritePackets serialised by a mutex around
//     the whole call (reserve, copy, publish, kick), writing from the
//     caller's goroutine: no qdisc hand-off per packet.
package main

import (
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/sync"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/link/nested"
	"gvisor.dev/gvisor/pkg/tcpip/link/qdisc/fifo"
	"gvisor.dev/gvisor/pkg/tcpip/link/xdp"
	"gvisor.dev/gvisor/pkg/tcpip/stack"

	"xdphook/xdpendpoint"
)

// serialised: one writer at a time into gVisor's link/xdp, and the MTU of
// the endpoint's description where it is below the link's fixed 1500.
type serialised struct {
	nested.Endpoint
	mu sync.Mutex
	gsoOffer
	mtu uint32
	fd  int // the AF_XDP socket, to kick
}

func (e *serialised) WritePackets(pkts stack.PacketBufferList) (int, tcpip.Error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	n, err := e.Endpoint.WritePackets(pkts)
	if _, full := err.(*tcpip.ErrNoBufferSpace); full {
		// The ring is full of frames an earlier kick left: send them
		// (which frees their UMEM frames), then try once more.
		e.drain()
		n, err = e.Endpoint.WritePackets(pkts)
	}
	if err != nil || pkts.Len() > txBatch {
		e.drain()
	}
	return n, err
}

// txBatch is what the kernel sends per kick in copy mode (TX_BATCH_SIZE in
// net/xdp/xsk.c): the rest of the ring waits for the next kick, and the
// kernel answers EAGAIN.
const txBatch = 32

// drain kicks until the kernel has taken every descriptor of the TX ring.
// gVisor's link kicks once per WritePackets, and gives up without a kick
// when the ring is full: with batches above 32 frames (fifo's batch is 47,
// gVisor GSO sends up to 45 frames at once) frames pile up in the ring
// until it is full and then nothing kicks it any more: a stall that only
// TCP retransmissions break.
func (e *serialised) drain() {
	for i := 0; i < 64; i++ {
		_, _, errno := unix.Syscall6(unix.SYS_SENDTO, uintptr(e.fd), 0, 0, unix.MSG_DONTWAIT, 0, 0)
		if errno != unix.EAGAIN {
			return
		}
	}
}

func (e *serialised) MTU() uint32 { return e.mtu }

// The GSO offer, not nested.Endpoint's (both are embedded).
func (e *serialised) SupportedGSO() stack.SupportedGSO { return e.gsoOffer.SupportedGSO() }
func (e *serialised) GSOMaxSize() uint32               { return e.gsoOffer.GSOMaxSize() }

// gsoOffer: gVisor GSO where true. TCP then builds segments of up to 64
// KiB and splits them itself (tcp sendTCPBatch), so the sender's
// per-segment work is paid once per 64 KiB; the link still sees MTU-sized
// packets.
type gsoOffer bool

func (g gsoOffer) SupportedGSO() stack.SupportedGSO {
	if g {
		return stack.GvisorGSOSupported
	}
	return stack.GSONotSupported
}

func (g gsoOffer) GSOMaxSize() uint32 {
	if g {
		return stack.GvisorGSOMaxSize
	}
	return 0
}

func configFromDesc(d *xdpendpoint.Desc) netConfig {
	c := netConfig{ifname: d.Ifname, mac: d.MAC, mtu: d.MTU, addrs: d.Addresses, ephLo: d.EphLo, ephHi: d.EphHi}
	for _, r := range d.Routes {
		c.routes = append(c.routes, route{dst: r.Dst, via: r.Via})
	}
	for _, g := range d.Gateways {
		c.neighbours = append(c.neighbours, neighbour{ip: g.IP, mac: g.MAC})
	}
	return c
}

// xdpTuning: knobs of -link xdp (flags, for measuring the choices).
type xdpTuning struct {
	queues int           // fifo qdisc queues; 0: write from the caller
	gso    bool          // offer gVisor GSO
	own    bool          // our own link over the rings (link_xsk.go), not gVisor's link/xdp wrapped
	direct bool          // own: take the direct sockets the node offers
	spin   time.Duration // own: poll the RX rings this long before sleeping
}

func newXDPLink(name, socket string, tune xdpTuning) (*link, error) {
	if name == "xdp" && tune.own {
		return newXSKLink(socket, tune)
	}
	ep, err := xdpendpoint.Dial(&xdpendpoint.Options{SocketName: socket})
	if err != nil {
		return nil, fmt.Errorf("endpoint: %v", err)
	}
	d := ep.Desc
	fail := func(format string, a ...interface{}) (*link, error) {
		ep.Close()
		return nil, fmt.Errorf(format, a...)
	}
	// What gVisor's link/xdp assumes: it binds queue 0 and sizes its own
	// 2 KiB frames and rings.
	if len(d.Direct) > 0 {
		// gVisor's link/xdp takes one socket: never asks for DIRECT.
		fmt.Fprintf(os.Stderr, "xdp_gvisor: %s: the node offers %d direct socket(s) on %s; gVisor's link/xdp "+
			"takes one socket, so this sandbox receives through xdp0 only\n", name, len(d.Direct), d.Direct[0].Ifname)
	}
	if d.Queue != 0 {
		return fail("endpoint: queue %d: gVisor's link/xdp binds queue 0 only", d.Queue)
	}
	if d.MTU > xdp.MTU && name == "gvisor-xdp" {
		return fail("endpoint: MTU %d: gVisor's link/xdp sends at most %d", d.MTU, xdp.MTU)
	}
	linkEP, err := xdp.New(&xdp.Options{
		FD:             ep.FD(),
		Address:        tcpip.LinkAddress(d.MAC),
		InterfaceIndex: d.Ifindex,
	})
	if err != nil {
		return fail("gVisor's link/xdp on %s: %v", d.Ifname, err)
	}
	l := &link{cfg: configFromDesc(d), name: name, ready: ep.Ready, done: ep.Done(), close: func() { ep.Close() }}
	l.stats = func() string {
		s, err := xdpendpoint.Statistics(ep.FD())
		if err != nil {
			return err.Error()
		}
		return "XDP_STATISTICS " + s.String()
	}
	if name == "gvisor-xdp" {
		l.ep = linkEP
		l.qdisc = fifo.New(linkEP, 1, 1000)
		return l, nil
	}
	s := &serialised{gsoOffer: gsoOffer(tune.gso), mtu: d.MTU, fd: ep.FD()}
	if s.mtu > xdp.MTU {
		s.mtu = xdp.MTU
	}
	s.Endpoint.Init(linkEP, s)
	l.ep = s
	if tune.queues > 0 {
		l.qdisc = fifo.New(s, tune.queues, 1000)
	}
	return l, nil
}
