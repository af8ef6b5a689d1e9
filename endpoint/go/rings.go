// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause

// The UMEM and the rings, for clients that do not bring their own AF_XDP
// code: Setup registers a UMEM on socket 0, sizes, maps and binds its rings
// (the DESC's sizes), and in `direct` mode asks the keeper for the sockets
// bound to the NIC's RX queues (DIRECT -> BOUND + fds) and maps theirs.
// Every socket's fill ring gets its share of the frames; the rest are TX
// frames (UMEM.TXFrames). Then Ready, as for a socket bound by hand.
package xdpendpoint

import (
	"encoding/json"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Ring is one mapped ring of an AF_XDP socket. One side of it is ours (the
// producer of fill and TX, the consumer of RX and completion); a Ring is
// used by one goroutine at a time.
type Ring struct {
	mem      []byte
	producer *uint32
	consumer *uint32
	flags    *uint32
	desc     unsafe.Pointer
	Size     uint32
	mask     uint32
	// local: our own index, published by Publish/Release. seen: the
	// other side's index as last read (a producer ring keeps it plus
	// Size, so that seen - local is the free room).
	local, seen uint32
}

type xdpDesc struct {
	addr    uint64
	len     uint32
	options uint32
}

func (r *Ring) addrAt(i uint32) *uint64 {
	return (*uint64)(unsafe.Add(r.desc, uintptr(i&r.mask)*8))
}

func (r *Ring) descAt(i uint32) *xdpDesc {
	return (*xdpDesc)(unsafe.Add(r.desc, uintptr(i&r.mask)*16))
}

// Free (producer rings): entries we may write before the next Publish,
// reading the kernel's consumer index only when fewer than want are known.
func (r *Ring) Free(want uint32) uint32 {
	if n := r.seen - r.local; n >= want {
		return n
	}
	r.seen = atomic.LoadUint32(r.consumer) + r.Size
	return r.seen - r.local
}

// PutAddr (fill ring) and PutDesc (TX ring) write the next entry; the
// caller made sure of the room with Free.
func (r *Ring) PutAddr(addr uint64) {
	*r.addrAt(r.local) = addr
	r.local++
}

func (r *Ring) PutDesc(addr uint64, n uint32) {
	d := r.descAt(r.local)
	d.addr, d.len, d.options = addr, n, 0
	r.local++
}

// Publish hands what was put to the kernel (the atomic store orders the
// entries before the index).
func (r *Ring) Publish() { atomic.StoreUint32(r.producer, r.local) }

// Pending (producer rings): entries put and not yet consumed by the kernel.
func (r *Ring) Pending() uint32 { return r.local - atomic.LoadUint32(r.consumer) }

// Avail (consumer rings): entries the kernel produced that we have not
// released, reading its producer index only when none are known.
func (r *Ring) Avail() uint32 {
	if n := r.seen - r.local; n > 0 {
		return n
	}
	r.seen = atomic.LoadUint32(r.producer)
	return r.seen - r.local
}

// Addr (completion ring) and Desc (RX ring): the i-th available entry.
func (r *Ring) Addr(i uint32) uint64 { return *r.addrAt(r.local + i) }

func (r *Ring) Desc(i uint32) (addr uint64, n uint32) {
	d := r.descAt(r.local + i)
	return d.addr, d.len
}

// Release gives n consumed entries back to the kernel.
func (r *Ring) Release(n uint32) {
	r.local += n
	atomic.StoreUint32(r.consumer, r.local)
}

// NeedWakeup: the kernel wants a syscall to go on (XDP_USE_NEED_WAKEUP).
func (r *Ring) NeedWakeup() bool { return atomic.LoadUint32(r.flags)&unix.XDP_RING_NEED_WAKEUP != 0 }

// Socket is one bound AF_XDP socket of the endpoint with its rings:
// socket 0 (xdp0, the only one with a TX ring) or a direct socket on a NIC
// RX queue. Its fill ring holds the frames it received into; they go back
// into the same fill ring.
type Socket struct {
	FD       int
	Ifname   string
	Ifindex  int
	Queue    uint32
	Direct   bool
	Zerocopy bool
	// OwnUMEM: a direct socket on the keeper's own registration of the
	// UMEM's memfd (the same frames), not on socket 0's UMEM.
	OwnUMEM bool
	Fill    *Ring
	Comp    *Ring
	RX      *Ring
	TX      *Ring // socket 0 only
	frames  uint32
}

// UMEM is the frame memory shared by every socket of the endpoint.
type UMEM struct {
	Mem       []byte
	FrameSize uint32
	// TXFrames: frame addresses not given to any fill ring, for sending.
	TXFrames []uint64
}

// Frame is the memory of one descriptor.
func (u *UMEM) Frame(addr uint64, n uint32) []byte { return u.Mem[addr : addr+uint64(n)] }

// SetupOptions of Setup; the zero value asks for no direct sockets.
type SetupOptions struct {
	// Direct: ask for the NIC's RX queue sockets where the DESC offers
	// them (host mode with the node's direct=rx).
	Direct bool
}

// Setup registers the UMEM on socket 0 (the DESC's size and frame size),
// maps its four rings, binds it, and with o.Direct takes the direct
// sockets (DIRECT -> BOUND) and maps their fill, completion and RX rings.
// Each socket's fill ring gets an even share of the frames left after the
// TX frames (a quarter of the UMEM, at most the TX ring's size). Then call
// Ready. Sockets and UMEM are the Endpoint's, unmapped and closed by Close.
func (ep *Endpoint) Setup(o *SetupOptions) error {
	d := ep.Desc
	direct := o != nil && o.Direct && len(d.Direct) > 0
	mem, err := ep.umemMap(direct && d.DirectMemfd)
	if err != nil {
		return errf("umem", errnoOf(err), "UMEM of %d bytes: %v", d.UmemSize, err)
	}
	ep.umem = &UMEM{Mem: mem, FrameSize: d.FrameSize}
	reg := unix.XDPUmemReg{Addr: uint64(uintptr(unsafe.Pointer(&mem[0]))), Len: d.UmemSize, Size: d.FrameSize}
	if _, _, e := unix.Syscall6(unix.SYS_SETSOCKOPT, uintptr(ep.xsk), unix.SOL_XDP, unix.XDP_UMEM_REG,
		uintptr(unsafe.Pointer(&reg)), unsafe.Sizeof(reg), 0); e != 0 {
		hint := ""
		if e == unix.ENOBUFS || e == unix.EPERM || e == unix.ENOMEM {
			hint = " (UMEM counts against RLIMIT_MEMLOCK without CAP_IPC_LOCK)"
		}
		return errf("umem", e, "XDP_UMEM_REG of %d bytes: %v%s", d.UmemSize, e, hint)
	}
	s0 := &Socket{FD: ep.xsk, Ifname: d.Ifname, Ifindex: d.Ifindex, Queue: d.Queue}
	sizes := map[int]uint32{unix.XDP_UMEM_FILL_RING: d.Rings.Fill, unix.XDP_UMEM_COMPLETION_RING: d.Rings.Completion,
		unix.XDP_RX_RING: d.Rings.RX, unix.XDP_TX_RING: d.Rings.TX}
	for opt, n := range sizes {
		if err := unix.SetsockoptInt(ep.xsk, unix.SOL_XDP, opt, int(n)); err != nil {
			return errf("rings", errnoOf(err), "ring option %d size %d: %v", opt, n, err)
		}
	}
	ep.Sockets = append(ep.Sockets, s0) // Close unmaps what is mapped
	if err := mapRings(s0, d.Rings); err != nil {
		return err
	}
	flags := uint16(unix.XDP_USE_NEED_WAKEUP)
	if d.XDPCopy {
		flags |= unix.XDP_COPY
	}
	if err := unix.Bind(ep.xsk, &unix.SockaddrXDP{Flags: flags, Ifindex: uint32(d.Ifindex), QueueID: d.Queue}); err != nil {
		return errf("bind", errnoOf(err), "%s queue %d: %v", d.Ifname, d.Queue, err)
	}
	if direct {
		if err := ep.takeDirect(); err != nil {
			return err
		}
	}
	ep.share()
	return nil
}

// umemMap maps the UMEM: anonymous memory, or with memfd a sealed memfd
// (it cannot shrink or grow under the keeper's registration of it).
func (ep *Endpoint) umemMap(memfd bool) ([]byte, error) {
	size := ep.Desc.UmemSize
	if !memfd {
		return unix.Mmap(-1, 0, int(size), unix.PROT_READ|unix.PROT_WRITE,
			unix.MAP_PRIVATE|unix.MAP_ANONYMOUS|unix.MAP_POPULATE)
	}
	fd, err := unix.MemfdCreate("xdp_endpoint_umem", unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	if err != nil {
		return nil, err
	}
	ep.umemFD = fd // Close closes it
	if err := unix.Ftruncate(fd, int64(size)); err != nil {
		return nil, err
	}
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_ADD_SEALS, unix.F_SEAL_SHRINK|unix.F_SEAL_GROW|unix.F_SEAL_SEAL); err != nil {
		return nil, err
	}
	return unix.Mmap(fd, 0, int(size), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_POPULATE)
}

// umemGeometry is DIRECT's payload when it carries the UMEM's memfd.
type umemGeometry struct {
	Size      uint64 `json:"umem_size"`
	FrameSize uint32 `json:"frame_size"`
	Headroom  uint32 `json:"headroom"`
}

// takeDirect: DIRECT (with the UMEM's memfd and geometry where the keeper
// takes them), then BOUND with one bound socket per NIC RX queue.
func (ep *Endpoint) takeDirect() error {
	var geom []byte
	if ep.umemFD >= 0 {
		geom, _ = json.Marshal(umemGeometry{Size: ep.Desc.UmemSize, FrameSize: ep.Desc.FrameSize})
	}
	if err := ep.send(msgDirect, geom, ep.umemFD); err != nil {
		return err
	}
	payload, fds, err := ep.expectFDs(msgBound)
	if err != nil {
		return err
	}
	b, err := ParseBound(payload)
	if err == nil && len(b) != len(fds) {
		err = errf("keeper", unix.EBADMSG, "BOUND lists %d sockets but came with %d fds", len(b), len(fds))
	}
	for i := 0; err == nil && i < len(fds); i++ {
		if dom, e := unix.GetsockoptInt(fds[i], unix.SOL_SOCKET, unix.SO_DOMAIN); e != nil || dom != unix.AF_XDP {
			err = errf("keeper", unix.EPROTO, "BOUND fd %d is not an AF_XDP socket", i)
		}
	}
	for i := range fds {
		if err != nil {
			unix.Close(fds[i])
			continue
		}
		s := &Socket{FD: fds[i], Ifname: b[i].Ifname, Ifindex: b[i].Ifindex, Queue: b[i].Queue,
			Direct: true, Zerocopy: b[i].Zerocopy, OwnUMEM: b[i].UMEM == "own"}
		ep.Sockets = append(ep.Sockets, s) // Close closes it from here on
		err = mapRings(s, Rings{Fill: b[i].Fill, Completion: b[i].Completion, RX: b[i].RX})
	}
	return err
}

// share spreads the frames: TX frames first, then an even share into each
// socket's fill ring (never more than the ring holds).
func (ep *Endpoint) share() {
	u := ep.umem
	total := uint32(len(u.Mem)) / u.FrameSize
	ntx := total / 4
	if tx := ep.Sockets[0].TX.Size; ntx > tx {
		ntx = tx
	}
	per := (total - ntx) / uint32(len(ep.Sockets))
	next := uint32(0)
	for _, s := range ep.Sockets {
		n := per
		if n > s.Fill.Size {
			n = s.Fill.Size
		}
		if n > s.RX.Size {
			n = s.RX.Size
		}
		for i := uint32(0); i < n; i++ {
			s.Fill.PutAddr(uint64(next) * uint64(u.FrameSize))
			next++
		}
		s.frames = n
		s.Fill.Publish()
	}
	for ; next < total; next++ {
		u.TXFrames = append(u.TXFrames, uint64(next)*uint64(u.FrameSize))
	}
}

// Frames: how many frames this socket's fill ring was given.
func (s *Socket) Frames() uint32 { return s.frames }

// UMEM of the endpoint after Setup.
func (ep *Endpoint) UMEM() *UMEM { return ep.umem }

// mapRings maps the rings s has sizes for (zero: none).
func mapRings(s *Socket, sz Rings) error {
	var off unix.XDPMmapOffsets
	l := uint32(unsafe.Sizeof(off))
	if _, _, e := unix.Syscall6(unix.SYS_GETSOCKOPT, uintptr(s.FD), unix.SOL_XDP, unix.XDP_MMAP_OFFSETS,
		uintptr(unsafe.Pointer(&off)), uintptr(unsafe.Pointer(&l)), 0); e != 0 {
		return errf("rings", e, "%s queue %d: XDP_MMAP_OFFSETS: %v", s.Ifname, s.Queue, e)
	}
	for _, r := range []struct {
		dst   **Ring
		n     uint32
		o     unix.XDPRingOffset
		pgoff int64
		entry uint64
	}{
		{&s.Fill, sz.Fill, off.Fr, unix.XDP_UMEM_PGOFF_FILL_RING, 8},
		{&s.Comp, sz.Completion, off.Cr, unix.XDP_UMEM_PGOFF_COMPLETION_RING, 8},
		{&s.RX, sz.RX, off.Rx, unix.XDP_PGOFF_RX_RING, 16},
		{&s.TX, sz.TX, off.Tx, unix.XDP_PGOFF_TX_RING, 16},
	} {
		if r.n == 0 {
			continue
		}
		mem, err := unix.Mmap(s.FD, r.pgoff, int(r.o.Desc+uint64(r.n)*r.entry), unix.PROT_READ|unix.PROT_WRITE,
			unix.MAP_SHARED|unix.MAP_POPULATE)
		if err != nil {
			return errf("rings", errnoOf(err), "%s queue %d: mmap of ring %#x: %v", s.Ifname, s.Queue, r.pgoff, err)
		}
		ring := &Ring{mem: mem, Size: r.n, mask: r.n - 1,
			producer: (*uint32)(unsafe.Pointer(&mem[r.o.Producer])),
			consumer: (*uint32)(unsafe.Pointer(&mem[r.o.Consumer])),
			flags:    (*uint32)(unsafe.Pointer(&mem[r.o.Flags])),
			desc:     unsafe.Pointer(&mem[r.o.Desc])}
		if r.pgoff == unix.XDP_UMEM_PGOFF_FILL_RING || r.pgoff == unix.XDP_PGOFF_TX_RING {
			ring.local = atomic.LoadUint32(ring.producer)
			ring.seen = atomic.LoadUint32(ring.consumer) + r.n
		} else {
			ring.local = atomic.LoadUint32(ring.consumer)
			ring.seen = atomic.LoadUint32(ring.producer)
		}
		*r.dst = ring
	}
	return nil
}

func (ep *Endpoint) unmap() {
	for _, s := range ep.Sockets {
		for _, r := range []*Ring{s.Fill, s.Comp, s.RX, s.TX} {
			if r != nil {
				unix.Munmap(r.mem)
			}
		}
		if s.FD != ep.xsk {
			unix.Close(s.FD)
		}
	}
	ep.Sockets = nil
	if ep.umem != nil {
		unix.Munmap(ep.umem.Mem)
		ep.umem = nil
	}
	if ep.umemFD >= 0 {
		unix.Close(ep.umemFD)
		ep.umemFD = -1
	}
}

// DirectQueue is one NIC RX queue the DESC offers a direct socket for.
type DirectQueue struct {
	Ifname   string `json:"ifname"`
	Ifindex  int    `json:"ifindex"`
	Queue    uint32 `json:"queue"`
	Zerocopy bool   `json:"zerocopy"`
}

// BoundSocket is one entry of BOUND: a direct socket the keeper bound,
// with the sizes it gave its rings.
type BoundSocket struct {
	DirectQueue
	Fill       uint32 `json:"fill"`
	Completion uint32 `json:"completion"`
	RX         uint32 `json:"rx"`
	// UMEM: "own" (the keeper's registration of the UMEM's memfd) or
	// "xdp0" (socket 0's UMEM; also what a keeper without it means).
	UMEM string `json:"umem"`
}

func checkDirect(q *DirectQueue, what string, i int) error {
	if len(q.Ifname) == 0 || len(q.Ifname) > 15 {
		return errf("description", unix.EPROTO, "%s[%d] ifname %q: empty or longer than 15 characters", what, i, q.Ifname)
	}
	if q.Ifindex <= 0 {
		return errf("description", unix.EPROTO, "%s[%d] ifindex %d: not positive", what, i, q.Ifindex)
	}
	return nil
}

// ParseBound decodes and checks BOUND's JSON.
func ParseBound(text []byte) ([]BoundSocket, error) {
	var j struct {
		Direct []BoundSocket `json:"direct"`
	}
	if err := json.Unmarshal(text, &j); err != nil {
		return nil, errf("keeper", unix.EPROTO, "BOUND: not valid JSON: %v", err)
	}
	if len(j.Direct) == 0 || len(j.Direct) > maxDirect {
		return nil, errf("keeper", unix.EPROTO, "BOUND: %d direct sockets, not 1..%d", len(j.Direct), maxDirect)
	}
	for i := range j.Direct {
		b := &j.Direct[i]
		if err := checkDirect(&b.DirectQueue, "BOUND direct", i); err != nil {
			return nil, err
		}
		if b.UMEM != "" && b.UMEM != "own" && b.UMEM != "xdp0" {
			return nil, errf("keeper", unix.EPROTO, "BOUND direct[%d]: umem %q: not \"own\" or \"xdp0\"", i, b.UMEM)
		}
		for _, n := range []uint32{b.Fill, b.Completion, b.RX} {
			if !pow2(uint64(n)) || n < 64 || n > 16384 {
				return nil, errf("keeper", unix.EPROTO, "BOUND direct[%d]: ring size %d: not a power of two in 64..16384", i, n)
			}
		}
	}
	return j.Direct, nil
}
