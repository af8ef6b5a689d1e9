// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause

// Package xdpendpoint is the Go client of xdphook's endpoint protocol (the
// C library libxdp_endpoint is the other; include/xdp_endpoint.h documents
// the protocol). It is for Go sandboxes, gVisor's netstack first of all:
//
//	ep, err := xdpendpoint.Dial(nil)      // DESC: description + socket
//	if err != nil { log.Fatal(err) }      // e.g. "keeper: another client holds the endpoint"
//	// register a UMEM on ep.FD(), map the rings, bind to
//	// ep.Desc.Ifindex / ep.Desc.Queue (gVisor's link/xdp does all of it)
//	if err := ep.Ready(); err != nil { ... } // READY -> OK: in the XSKMAP
//	<-ep.Done()                            // the keeper took it back
//	ep.Close()                             // gives the endpoint back
//
// The socket is handed over unbound, so a link endpoint that registers its
// own memory (gVisor's xdp.New) can take it as it is; or Setup does it as
// the C library does (UMEM, rings, bind, and in host mode with `direct`
// the sockets on the NIC's RX queues), exposing Sockets and UMEM. Errors are *Error: the
// step, an errno (errors.Is(err, unix.EBUSY) works) and the detail.
package xdpendpoint

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Protocol constants (include/xdp_endpoint.h).
const (
	SocketName       = "xdphook/endpoint" // abstract
	magic            = 0x45504458         // "XDPE" little endian
	version          = 1
	msgMax           = 32768
	hdrLen           = 12
	HandshakeTimeout = 10 * time.Second

	msgDesc   = 1
	msgReady  = 2
	msgOK     = 3
	msgError  = 4
	msgDirect = 5 // client -> keeper: bind the direct sockets
	msgBound  = 6 // keeper -> client: they are bound; their fds

	maxDirect = 64 // direct sockets (NIC RX queues) at most
)

// Error is what every function here returns on failure.
type Error struct {
	Op    string     // the step: "connect", "keeper", "description", ...
	Errno unix.Errno // the errno the C library would return (negated there)
	Msg   string     // the detail
}

func (e *Error) Error() string { return e.Op + ": " + e.Msg }

// Unwrap makes errors.Is(err, unix.EBUSY) and friends work.
func (e *Error) Unwrap() error { return e.Errno }

func errf(op string, errno unix.Errno, format string, a ...interface{}) *Error {
	return &Error{Op: op, Errno: errno, Msg: fmt.Sprintf(format, a...)}
}

// Route is one route of the description; Via is nil for an on-link route.
type Route struct {
	Dst *net.IPNet
	Via net.IP
}

// Gateway is a next hop whose MAC the keeper already knows.
type Gateway struct {
	IP  net.IP
	MAC net.HardwareAddr
}

// Desc is the description the keeper sends, decoded and checked.
type Desc struct {
	Ifname    string
	Ifindex   int
	Queue     uint32
	MAC       net.HardwareAddr
	MTU       uint32
	Addresses []*net.IPNet // IP is the address itself, not the network
	Routes    []Route
	Gateways  []Gateway
	EphLo     uint16 // 0, 0: none
	EphHi     uint16
	XDPCopy   bool // bind with XDP_COPY
	FrameSize uint32
	UmemSize  uint64
	Rings     Rings
	// Direct: the NIC RX queues the keeper can bind a socket to for this
	// endpoint (host mode, node config direct=rx); empty otherwise.
	Direct []DirectQueue
	// DirectMemfd: the keeper takes the UMEM's memfd with DIRECT and binds
	// the direct sockets on a registration of their own of it (zero-copy
	// where the NIC can) instead of on socket 0's UMEM (xdp0: copy).
	DirectMemfd bool
	JSON        string // as received
}

// Rings are the ring sizes the keeper suggests (entries).
type Rings struct {
	Fill       uint32 `json:"fill"`
	Completion uint32 `json:"completion"`
	RX         uint32 `json:"rx"`
	TX         uint32 `json:"tx"`
}

type descJSON struct {
	Version   *int     `json:"version"`
	Ifname    string   `json:"ifname"`
	Ifindex   int      `json:"ifindex"`
	Queue     uint32   `json:"queue"`
	MAC       string   `json:"mac"`
	MTU       uint32   `json:"mtu"`
	Addresses []string `json:"addresses"`
	Routes    []struct {
		Dst string `json:"dst"`
		Via string `json:"via"`
	} `json:"routes"`
	Gateways []struct {
		IP  string `json:"ip"`
		MAC string `json:"mac"`
	} `json:"gateways"`
	Ephemeral *struct {
		Lo uint16 `json:"lo"`
		Hi uint16 `json:"hi"`
	} `json:"ephemeral"`
	XDPCopy   bool          `json:"xdp_copy"`
	FrameSize uint32        `json:"frame_size"`
	UmemSize  uint64        `json:"umem_size"`
	Rings     Rings         `json:"rings"`
	Direct    []DirectQueue `json:"direct"`
	// DirectMemfd: see Desc.
	DirectMemfd bool `json:"direct_memfd"`
}

func pow2(v uint64) bool { return v != 0 && v&(v-1) == 0 }

// ParseDesc decodes and checks a description (the limits of
// include/xdp_endpoint.h). Unknown keys are ignored.
func ParseDesc(text []byte) (*Desc, error) {
	bad := func(format string, a ...interface{}) error {
		return errf("description", unix.EPROTO, format, a...)
	}
	var j descJSON
	if err := json.Unmarshal(text, &j); err != nil {
		return nil, bad("not valid JSON: %v", err)
	}
	if j.Version == nil || *j.Version != version {
		return nil, bad("version missing or not %d", version)
	}
	d := &Desc{Ifname: j.Ifname, Ifindex: j.Ifindex, Queue: j.Queue, MTU: j.MTU, XDPCopy: j.XDPCopy,
		FrameSize: j.FrameSize, UmemSize: j.UmemSize, Rings: j.Rings, JSON: string(text)}
	if len(d.Ifname) == 0 || len(d.Ifname) > 15 {
		return nil, bad("ifname %q: empty or longer than 15 characters", d.Ifname)
	}
	if d.Ifindex <= 0 {
		return nil, bad("ifindex %d: not positive", d.Ifindex)
	}
	if d.MTU < 68 || d.MTU > 65535 {
		return nil, bad("mtu %d: outside 68..65535", d.MTU)
	}
	var err error
	if d.MAC, err = net.ParseMAC(j.MAC); err != nil || len(d.MAC) != 6 {
		return nil, bad("mac %q: not a MAC address", j.MAC)
	}
	if d.FrameSize != 2048 && d.FrameSize != 4096 {
		return nil, bad("frame_size %d: not 2048 or 4096", d.FrameSize)
	}
	if d.UmemSize == 0 || d.UmemSize%uint64(d.FrameSize) != 0 || d.UmemSize > 1<<30 {
		return nil, bad("umem_size %d: not a multiple of the frame size up to 1 GiB", d.UmemSize)
	}
	for _, r := range []uint32{d.Rings.Fill, d.Rings.Completion, d.Rings.RX, d.Rings.TX} {
		if !pow2(uint64(r)) || r < 64 || r > 16384 {
			return nil, bad("ring size %d: not a power of two in 64..16384", r)
		}
	}
	if len(j.Addresses) > 16 || len(j.Routes) > 32 || len(j.Gateways) > 4 {
		return nil, bad("more than 16 addresses, 32 routes or 4 gateways")
	}
	for i, a := range j.Addresses {
		ip, n, err := net.ParseCIDR(a)
		if err != nil {
			return nil, bad("addresses[%d] %q: not ADDR/LEN", i, a)
		}
		n.IP = ip
		d.Addresses = append(d.Addresses, n)
	}
	for i, r := range j.Routes {
		_, dst, err := net.ParseCIDR(r.Dst)
		if err != nil {
			return nil, bad("routes[%d] dst %q: not PREFIX/LEN", i, r.Dst)
		}
		rt := Route{Dst: dst}
		if r.Via != "" {
			if rt.Via = net.ParseIP(r.Via); rt.Via == nil || (rt.Via.To4() == nil) != (dst.IP.To4() == nil) {
				return nil, bad("routes[%d] via %q: not an address of dst's family", i, r.Via)
			}
		}
		d.Routes = append(d.Routes, rt)
	}
	for i, g := range j.Gateways {
		gw := Gateway{IP: net.ParseIP(g.IP)}
		if gw.IP == nil {
			return nil, bad("gateways[%d] ip %q: not an address", i, g.IP)
		}
		if gw.MAC, err = net.ParseMAC(g.MAC); err != nil || len(gw.MAC) != 6 {
			return nil, bad("gateways[%d] mac %q: not a MAC address", i, g.MAC)
		}
		d.Gateways = append(d.Gateways, gw)
	}
	if len(j.Direct) > maxDirect {
		return nil, bad("direct: %d queues, more than %d", len(j.Direct), maxDirect)
	}
	for i := range j.Direct {
		if err := checkDirect(&j.Direct[i], "direct", i); err != nil {
			return nil, err
		}
	}
	d.Direct = j.Direct
	d.DirectMemfd = j.DirectMemfd
	if j.Ephemeral != nil {
		d.EphLo, d.EphHi = j.Ephemeral.Lo, j.Ephemeral.Hi
		if d.EphLo > d.EphHi {
			return nil, bad("ephemeral %d-%d: empty range", d.EphLo, d.EphHi)
		}
	}
	return d, nil
}

// Options of Dial; the zero value (or nil) is the default.
type Options struct {
	SocketName string        // abstract name; "": SocketName
	Timeout    time.Duration // each handshake step; 0: HandshakeTimeout
}

// Endpoint is one held endpoint: the keeper connection, the description
// and the AF_XDP socket (unbound until the caller binds it).
type Endpoint struct {
	Desc *Desc
	// Sockets after Setup: socket 0 (the one FD returns), then the
	// direct sockets in BOUND's order.
	Sockets []*Socket
	umem    *UMEM
	umemFD  int // the UMEM's memfd where the keeper takes one, else -1
	ctl     int
	xsk     int
	done    chan struct{}
	once    sync.Once
	mu      sync.Mutex
}

// FD is the AF_XDP socket (close-on-exec). Close closes it; a link
// endpoint that takes ownership should dup it.
func (ep *Endpoint) FD() int { return ep.xsk }

// Dial connects to the keeper of the caller's network namespace and takes
// the description and the socket. The endpoint is the caller's from here
// until Close; frames reach the socket once it is bound and Ready returned.
func Dial(o *Options) (*Endpoint, error) {
	var opt Options
	if o != nil {
		opt = *o
	}
	if opt.SocketName == "" {
		opt.SocketName = SocketName
	}
	if opt.Timeout == 0 {
		opt.Timeout = HandshakeTimeout
	}
	if len(opt.SocketName) > 106 {
		return nil, errf("connect", unix.ENAMETOOLONG, "socket name %q: too long", opt.SocketName)
	}
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, errf("connect", errnoOf(err), "unix socket: %v", err)
	}
	ep := &Endpoint{ctl: fd, xsk: -1, umemFD: -1, done: make(chan struct{})}
	tv := unix.NsecToTimeval(opt.Timeout.Nanoseconds())
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		ep.Close()
		return nil, errf("connect", errnoOf(err), "SO_RCVTIMEO: %v", err)
	}
	// A leading '@' makes x/sys/unix use the abstract namespace.
	if err := unix.Connect(fd, &unix.SockaddrUnix{Name: "@" + opt.SocketName}); err != nil {
		ep.Close()
		if errors.Is(err, unix.ECONNREFUSED) || errors.Is(err, unix.ENOENT) {
			return nil, errf("connect", unix.ECONNREFUSED,
				"@%s: no xdphook keeper in this network namespace", opt.SocketName)
		}
		return nil, errf("connect", errnoOf(err), "@%s: %v", opt.SocketName, err)
	}
	payload, xsk, err := ep.expect(msgDesc)
	if err != nil {
		ep.Close()
		return nil, err
	}
	ep.xsk = xsk
	if xsk < 0 {
		ep.Close()
		return nil, errf("keeper", unix.EPROTO, "description came without a socket")
	}
	if dom, err := unix.GetsockoptInt(xsk, unix.SOL_SOCKET, unix.SO_DOMAIN); err != nil || dom != unix.AF_XDP {
		ep.Close()
		return nil, errf("keeper", unix.EPROTO, "the fd it sent is not an AF_XDP socket")
	}
	if ep.Desc, err = ParseDesc(payload); err != nil {
		ep.Close()
		return nil, err
	}
	return ep, nil
}

// Ready tells the keeper the socket is bound and waits until it is in the
// XSKMAP. Then it watches the connection: Done is closed when the keeper
// takes the endpoint back (container teardown) or the connection breaks.
func (ep *Endpoint) Ready() error {
	if err := ep.send(msgReady, nil, -1); err != nil {
		return err
	}
	if _, _, err := ep.expect(msgOK); err != nil {
		return err
	}
	go ep.watch()
	return nil
}

// Done is closed when the keeper took the endpoint back.
func (ep *Endpoint) Done() <-chan struct{} { return ep.done }

func (ep *Endpoint) watch() {
	defer ep.once.Do(func() { close(ep.done) })
	ep.mu.Lock()
	fd := ep.ctl
	ep.mu.Unlock()
	if fd < 0 {
		return
	}
	fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	for {
		// Any event on the connection (EOF, ERROR, hangup) ends it: the
		// keeper sends nothing after OK.
		if _, err := unix.Poll(fds, -1); err == nil || !errors.Is(err, unix.EINTR) {
			return
		}
	}
}

// Close gives the endpoint back: the socket, then the keeper connection.
func (ep *Endpoint) Close() error {
	ep.mu.Lock()
	defer ep.mu.Unlock()
	ep.unmap()
	if ep.xsk >= 0 {
		unix.Close(ep.xsk)
		ep.xsk = -1
	}
	if ep.ctl >= 0 {
		// shutdown wakes the watcher's poll; the close follows.
		unix.Shutdown(ep.ctl, unix.SHUT_RDWR)
		unix.Close(ep.ctl)
		ep.ctl = -1
	}
	return nil
}

func errnoOf(err error) unix.Errno {
	var e unix.Errno
	if errors.As(err, &e) {
		return e
	}
	return unix.EIO
}

// Records are in host byte order: the keeper is on the same machine.
var native binary.ByteOrder = func() binary.ByteOrder {
	x := uint16(1)
	if *(*byte)(unsafe.Pointer(&x)) == 1 {
		return binary.LittleEndian
	}
	return binary.BigEndian
}()

// send one record of type typ with payload and, when fd >= 0, that fd.
func (ep *Endpoint) send(typ uint16, payload []byte, fd int) error {
	b := make([]byte, hdrLen+len(payload))
	native.PutUint32(b[0:], magic)
	native.PutUint16(b[4:], version)
	native.PutUint16(b[6:], typ)
	native.PutUint32(b[8:], uint32(len(payload)))
	copy(b[hdrLen:], payload)
	var oob []byte
	if fd >= 0 {
		oob = unix.UnixRights(fd)
	}
	if err := unix.Sendmsg(ep.ctl, b, oob, nil, unix.MSG_NOSIGNAL); err != nil {
		return errf("keeper", errnoOf(err), "send: %v", err)
	}
	return nil
}

type errorJSON struct {
	Errno   int    `json:"errno"`
	Message string `json:"message"`
}

// expect receives one record of type want with at most one fd (DESC's
// socket; -1: none).
func (ep *Endpoint) expect(want uint16) ([]byte, int, error) {
	payload, fds, err := ep.expectFDs(want)
	if err != nil {
		return nil, -1, err
	}
	switch {
	case len(fds) == 0:
		return payload, -1, nil
	case len(fds) == 1:
		return payload, fds[0], nil
	}
	closeAll(fds)
	return nil, -1, errf("keeper", unix.EBADMSG, "message type %d came with %d file descriptors", want, len(fds))
}

func closeAll(fds []int) {
	for _, f := range fds {
		unix.Close(f)
	}
}

// expectFDs receives one record of type want; an ERROR becomes its errno
// and message. Returns the payload and the fds that came with it (DESC
// and BOUND only).
func (ep *Endpoint) expectFDs(want uint16) ([]byte, []int, error) {
	buf := make([]byte, msgMax)
	oob := make([]byte, unix.CmsgSpace(4*(maxDirect+1)))
	n, oobn, flags, _, err := unix.Recvmsg(ep.ctl, buf, oob, unix.MSG_CMSG_CLOEXEC)
	if err != nil {
		if errors.Is(err, unix.EAGAIN) {
			return nil, nil, errf("keeper", unix.ETIMEDOUT, "no answer in time")
		}
		return nil, nil, errf("keeper", errnoOf(err), "receive: %v", err)
	}
	var fds []int
	if msgs, err := unix.ParseSocketControlMessage(oob[:oobn]); err == nil {
		for _, m := range msgs {
			if f, err := unix.ParseUnixRights(&m); err == nil {
				fds = append(fds, f...)
			}
		}
	}
	fail := func(e *Error) ([]byte, []int, error) {
		closeAll(fds)
		return nil, nil, e
	}
	switch {
	case n == 0:
		return fail(errf("keeper", unix.ECONNRESET, "keeper closed the connection"))
	case flags&unix.MSG_TRUNC != 0:
		return fail(errf("keeper", unix.EMSGSIZE, "message larger than %d bytes", msgMax))
	case flags&unix.MSG_CTRUNC != 0:
		return fail(errf("keeper", unix.EMSGSIZE, "more than %d file descriptors", maxDirect+1))
	case n < hdrLen:
		return fail(errf("keeper", unix.EBADMSG, "record of %d bytes: shorter than the header", n))
	}
	m, v, typ, l := native.Uint32(buf[0:]), native.Uint16(buf[4:]), native.Uint16(buf[6:]), native.Uint32(buf[8:])
	if m != magic || v != version || int(l) != n-hdrLen {
		return fail(errf("keeper", unix.EBADMSG, "bad record (magic %#x, version %d, length %d of %d)", m, v, l, n))
	}
	payload := buf[hdrLen:n]
	if typ == msgError {
		var e errorJSON
		if json.Unmarshal(payload, &e) != nil || e.Errno <= 0 || e.Errno > 4095 {
			return fail(errf("keeper", unix.EBADMSG, "malformed ERROR record"))
		}
		return fail(errf("keeper", unix.Errno(e.Errno), "%s", e.Message))
	}
	if typ != want {
		return fail(errf("keeper", unix.EPROTO, "message type %d, expected %d", typ, want))
	}
	if len(fds) > 0 && typ != msgDesc && typ != msgBound {
		return fail(errf("keeper", unix.EBADMSG, "message type %d came with a file descriptor", typ))
	}
	return payload, fds, nil
}

// Stats are the socket's XDP_STATISTICS.
type Stats struct {
	RXDropped, RXInvalid, TXInvalid, RXRingFull, FillRingEmpty, TXRingEmpty uint64
}

// Statistics reads XDP_STATISTICS of an AF_XDP socket.
func Statistics(fd int) (Stats, error) {
	var s [6]uint64
	l := uint32(unsafe.Sizeof(s))
	_, _, e := unix.Syscall6(unix.SYS_GETSOCKOPT, uintptr(fd), unix.SOL_XDP, unix.XDP_STATISTICS,
		uintptr(unsafe.Pointer(&s[0])), uintptr(unsafe.Pointer(&l)), 0)
	if e != 0 {
		return Stats{}, errf("statistics", e, "XDP_STATISTICS: %v", e)
	}
	return Stats{s[0], s[1], s[2], s[3], s[4], s[5]}, nil
}

// String of a Stats: the names xdp_hook list uses.
func (s Stats) String() string {
	return fmt.Sprintf("rx_dropped %d rx_invalid %d tx_invalid %d rx_ring_full %d fill_empty %d tx_ring_empty %d",
		s.RXDropped, s.RXInvalid, s.TXInvalid, s.RXRingFull, s.FillRingEmpty, s.TXRingEmpty)
}
