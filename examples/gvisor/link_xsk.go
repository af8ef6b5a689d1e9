// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause

// -link xdp: our own stack.LinkEndpoint over the endpoint's rings (set up
// by xdpendpoint.Setup with the DESC's UMEM and ring sizes). Against
// gVisor's link/xdp (link_xdp.go) it
//   - gives each frame back to its fill ring as soon as it is copied out,
//     before the packets go up the stack (gVisor refills after the batch,
//     from a 512-entry ring: rx_ring_full and fill_empty during uploads);
//   - receives on every socket of the endpoint: xdp0's and, in host mode
//     with direct, one per NIC RX queue;
//   - sends under one lock from reserve to publish and kick (no publish
//     race), kicks once per 32 frames (what copy mode sends per sendto)
//     and drains the EAGAIN rest before returning;
//   - optionally polls the RX rings a while before sleeping (-spin).
package main

import (
	"fmt"
	"runtime"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/bufferv2"
	"gvisor.dev/gvisor/pkg/sync"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/link/qdisc/fifo"
	"gvisor.dev/gvisor/pkg/tcpip/link/rawfile"
	"gvisor.dev/gvisor/pkg/tcpip/link/stopfd"
	"gvisor.dev/gvisor/pkg/tcpip/stack"

	"xdphook/xdpendpoint"
)

// kickBatch: copy-mode AF_XDP sends at most this many frames per sendto
// (TX_BATCH_SIZE in net/xdp/xsk.c) and answers EAGAIN for the rest.
const kickBatch = 32

// rxBatch: frames taken from one RX ring before the next socket's turn.
const rxBatch = 64

type xskLink struct {
	ep    *xdpendpoint.Endpoint
	umem  *xdpendpoint.UMEM
	socks []*xdpendpoint.Socket
	mtu   uint32
	addr  tcpip.LinkAddress
	gsoOffer
	spin time.Duration

	dispatcher stack.NetworkDispatcher
	stop       stopfd.StopFD
	stopping   int32 // atomic: the dispatcher returns at its next turn
	wg         sync.WaitGroup

	txMu   sync.Mutex
	txFree []uint64 // +checklocks:txMu

	rxFrames []uint64 // per socket, for the exit line (the dispatcher's)
}

var (
	_ stack.LinkEndpoint = (*xskLink)(nil)
	_ stack.GSOEndpoint  = (*xskLink)(nil)
	_ stack.GSOEndpoint  = (*serialised)(nil)
)

func newXSKLink(socket string, tune xdpTuning) (*link, error) {
	ep, err := xdpendpoint.Dial(&xdpendpoint.Options{SocketName: socket})
	if err != nil {
		return nil, fmt.Errorf("endpoint: %v", err)
	}
	if err := ep.Setup(&xdpendpoint.SetupOptions{Direct: tune.direct}); err != nil {
		ep.Close()
		return nil, fmt.Errorf("endpoint: %v", err)
	}
	d := ep.Desc
	x := &xskLink{ep: ep, umem: ep.UMEM(), socks: ep.Sockets, mtu: d.MTU, addr: tcpip.LinkAddress(d.MAC),
		gsoOffer: gsoOffer(tune.gso), spin: tune.spin}
	x.txFree = append(x.txFree, x.umem.TXFrames...)
	x.rxFrames = make([]uint64, len(x.socks))
	if max := d.FrameSize - header.EthernetMinimumSize; x.mtu > max {
		x.mtu = max
	}
	if x.stop, err = stopfd.New(); err != nil {
		ep.Close()
		return nil, fmt.Errorf("eventfd: %v", err)
	}
	l := &link{ep: x, cfg: configFromDesc(d), name: "xdp", ready: ep.Ready, done: ep.Done(),
		close: x.close, info: fmt.Sprintf(" sockets=%d", len(x.socks))}
	l.stats = func() string {
		var out string
		for i, s := range x.socks {
			st, err := xdpendpoint.Statistics(s.FD)
			if err != nil {
				return err.Error()
			}
			if i > 0 {
				out += "; "
			}
			out += fmt.Sprintf("XDP_STATISTICS[%d %s/%d] received %d %s", i, s.Ifname, s.Queue, x.rxFrames[i], st)
		}
		return out
	}
	if tune.queues > 0 {
		l.qdisc = fifo.New(x, tune.queues, 1000)
	}
	return l, nil
}

func (x *xskLink) MTU() uint32                    { return x.mtu }
func (x *xskLink) MaxHeaderLength() uint16        { return header.EthernetMinimumSize }
func (x *xskLink) LinkAddress() tcpip.LinkAddress { return x.addr }
func (x *xskLink) Capabilities() stack.LinkEndpointCapabilities {
	return stack.CapabilityResolutionRequired
}
func (x *xskLink) IsAttached() bool                        { return x.dispatcher != nil }
func (x *xskLink) Wait()                                   { x.wg.Wait() }
func (x *xskLink) ARPHardwareType() header.ARPHardwareType { return header.ARPHardwareEther }

func (x *xskLink) AddHeader(pkt stack.PacketBufferPtr) {
	eth := header.Ethernet(pkt.LinkHeader().Push(header.EthernetMinimumSize))
	eth.Encode(&header.EthernetFields{SrcAddr: pkt.EgressRoute.LocalLinkAddress,
		DstAddr: pkt.EgressRoute.RemoteLinkAddress, Type: pkt.NetworkProtocolNumber})
}

// close stops the dispatcher and holds the TX lock before the rings go:
// nothing touches them after the unmap.
func (x *xskLink) close() {
	atomic.StoreInt32(&x.stopping, 1)
	x.stop.Stop()
	x.wg.Wait()
	x.txMu.Lock()
	x.ep.Close()
}

func (x *xskLink) Attach(d stack.NetworkDispatcher) {
	if d == nil {
		if x.dispatcher != nil {
			x.stop.Stop()
			x.wg.Wait()
			x.dispatcher = nil
		}
		return
	}
	if x.dispatcher != nil {
		return
	}
	x.dispatcher = d
	x.wg.Add(1)
	go func() {
		defer x.wg.Done()
		x.receive()
	}()
}

// WritePackets copies each packet into a TX frame, publishes and kicks per
// kickBatch frames, and returns with the TX ring drained (copy mode sends
// synchronously in sendto, so completions are back by then).
func (x *xskLink) WritePackets(pkts stack.PacketBufferList) (int, tcpip.Error) {
	x.txMu.Lock()
	defer x.txMu.Unlock()
	tx := x.socks[0].TX
	x.reclaim()
	sent, queued := 0, 0
	for _, pkt := range pkts.AsSlice() {
		if len(x.txFree) == 0 || tx.Free(1) == 0 {
			tx.Publish()
			x.kick()
			queued = 0
			x.reclaim()
			if len(x.txFree) == 0 || tx.Free(1) == 0 {
				break
			}
		}
		size := pkt.Size()
		if size > int(x.umem.FrameSize) {
			continue // larger than the MTU: never built by the stack
		}
		addr := x.txFree[len(x.txFree)-1]
		x.txFree = x.txFree[:len(x.txFree)-1]
		frame := x.umem.Frame(addr, uint32(size))
		off := 0
		for _, b := range pkt.AsSlices() {
			off += copy(frame[off:], b)
		}
		tx.PutDesc(addr, uint32(size))
		sent++
		if queued++; queued == kickBatch {
			tx.Publish()
			x.kick()
			queued = 0
		}
	}
	if queued > 0 {
		tx.Publish()
		x.kick()
	}
	x.reclaim()
	if sent == 0 && pkts.Len() > 0 {
		return 0, &tcpip.ErrNoBufferSpace{}
	}
	return sent, nil
}

// kick sends what the TX ring holds: in copy mode at most kickBatch frames
// per sendto, EAGAIN while more wait; EBUSY when the device pushed back.
// +checklocks:txMu
func (x *xskLink) kick() {
	s := x.socks[0]
	if !s.TX.NeedWakeup() {
		return
	}
	for i := 0; i < int(s.TX.Size/kickBatch)+4; i++ {
		_, _, e := unix.Syscall6(unix.SYS_SENDTO, uintptr(s.FD), 0, 0, unix.MSG_DONTWAIT, 0, 0)
		if e != unix.EAGAIN && e != unix.EBUSY {
			return
		}
		if s.TX.Pending() == 0 {
			return
		}
	}
}

// reclaim takes the sent frames back from the completion ring.
// +checklocks:txMu
func (x *xskLink) reclaim() {
	c := x.socks[0].Comp
	n := c.Avail()
	for i := uint32(0); i < n; i++ {
		x.txFree = append(x.txFree, c.Addr(i)&^uint64(x.umem.FrameSize-1))
	}
	c.Release(n)
}

// receive is the dispatcher: every socket's RX ring in turn, then (after
// spinning up to x.spin without a frame) one blocking poll for all.
func (x *xskLink) receive() {
	pfds := make([]rawfile.PollEvent, 0, len(x.socks)+1)
	for _, s := range x.socks {
		pfds = append(pfds, rawfile.PollEvent{FD: int32(s.FD), Events: unix.POLLIN})
	}
	pfds = append(pfds, rawfile.PollEvent{FD: int32(x.stop.EFD), Events: unix.POLLIN})
	views := make([]*bufferv2.View, 0, rxBatch)
	var idle time.Time
	for atomic.LoadInt32(&x.stopping) == 0 {
		got := 0
		for i, s := range x.socks {
			views = x.take(s, views[:0])
			got += len(views)
			x.rxFrames[i] += uint64(len(views))
			x.deliver(views)
		}
		if got > 0 {
			idle = time.Time{}
			continue
		}
		if x.spin > 0 {
			if idle.IsZero() {
				idle = time.Now()
			}
			if time.Since(idle) < x.spin {
				runtime.Gosched()
				continue
			}
			idle = time.Time{}
		}
		for i := range pfds {
			pfds[i].Revents = 0
		}
		if _, e := rawfile.BlockingPoll(&pfds[0], len(pfds), nil); e != 0 && e != unix.EINTR {
			return
		}
		if pfds[len(pfds)-1].Revents != 0 {
			return
		}
	}
}

// take copies up to rxBatch frames out of s's RX ring and gives them back
// to its fill ring at once: the ring never waits for the stack.
func (x *xskLink) take(s *xdpendpoint.Socket, views []*bufferv2.View) []*bufferv2.View {
	n := s.RX.Avail()
	if n == 0 {
		return views
	}
	if n > rxBatch {
		n = rxBatch
	}
	s.Fill.Free(n) // a fill ring holds every frame of its socket
	for i := uint32(0); i < n; i++ {
		addr, size := s.RX.Desc(i)
		if size >= header.EthernetMinimumSize {
			views = append(views, bufferv2.NewViewWithData(x.umem.Frame(addr, size)))
		}
		s.Fill.PutAddr(addr &^ uint64(x.umem.FrameSize-1))
	}
	s.RX.Release(n)
	s.Fill.Publish()
	if s.Fill.NeedWakeup() {
		unix.Syscall6(unix.SYS_RECVFROM, uintptr(s.FD), 0, 0, unix.MSG_DONTWAIT, 0, 0)
	}
	return views
}

func (x *xskLink) deliver(views []*bufferv2.View) {
	for _, v := range views {
		proto := header.Ethernet(v.AsSlice()).Type()
		pkt := stack.NewPacketBuffer(stack.PacketBufferOptions{Payload: bufferv2.MakeWithView(v)})
		if _, ok := pkt.LinkHeader().Consume(header.EthernetMinimumSize); ok {
			x.dispatcher.DeliverNetworkPacket(proto, pkt)
		}
		pkt.DecRef()
	}
}
