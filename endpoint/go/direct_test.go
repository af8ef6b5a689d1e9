// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause

// direct mode: the DESC's "direct" list, BOUND's JSON, and DIRECT -> BOUND
// against a scripted keeper handing over AF_XDP sockets with their rings
// set (mapped by the client as after the keeper's bind).
package xdpendpoint

import (
	"fmt"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

const directList = `"direct":[{"ifname":"nic0","ifindex":3,"queue":0,"zerocopy":false},{"ifname":"nic0","ifindex":3,"queue":1,"zerocopy":true}]`

const goodBound = `{"direct":[{"ifname":"nic0","ifindex":3,"queue":0,"zerocopy":false,"fill":1024,"completion":1024,"rx":1024},
{"ifname":"nic0","ifindex":3,"queue":1,"zerocopy":true,"fill":2048,"completion":512,"rx":256,"future":1}]}`

func TestParseDescDirect(t *testing.T) {
	d, err := ParseDesc([]byte(strings.Replace(goodDesc, `"future":1`, directList, 1)))
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Direct) != 2 || d.Direct[1] != (DirectQueue{"nic0", 3, 1, true}) || d.Direct[0].Zerocopy {
		t.Fatalf("direct: %+v", d.Direct)
	}
	if d, err = ParseDesc([]byte(goodDesc)); err != nil || len(d.Direct) != 0 {
		t.Fatalf("no direct key: %+v, %v", d, err)
	}
	for _, c := range []struct{ from, to, want string }{
		{`"ifname":"nic0","ifindex":3,"queue":1`, `"ifname":"","ifindex":3,"queue":1`, "direct[1] ifname"},
		{`"ifindex":3,"queue":0`, `"ifindex":-1,"queue":0`, "direct[0] ifindex"},
		{`"queue":0,`, `"queue":"x",`, "not valid JSON"},
	} {
		_, err := ParseDesc([]byte(strings.Replace(strings.Replace(goodDesc, `"future":1`, directList, 1), c.from, c.to, 1)))
		wantErr(t, err, unix.EPROTO, c.want)
	}
	many := strings.Repeat(`{"ifname":"nic0","ifindex":3},`, maxDirect+1)
	_, err = ParseDesc([]byte(strings.Replace(goodDesc, `"future":1`, `"direct":[`+many[:len(many)-1]+`]`, 1)))
	wantErr(t, err, unix.EPROTO, "more than 64")
}

func TestParseBound(t *testing.T) {
	b, err := ParseBound([]byte(goodBound))
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != 2 || b[1].Queue != 1 || !b[1].Zerocopy || b[1].Fill != 2048 || b[1].Completion != 512 || b[1].RX != 256 ||
		b[0].Ifname != "nic0" || b[0].Ifindex != 3 {
		t.Fatalf("bound: %+v", b)
	}
	for _, c := range []struct{ from, to, want string }{
		{`"rx":256`, `"rx":300`, "direct[1]: ring size 300"},
		{`"fill":1024`, `"fill":32`, "direct[0]: ring size 32"},
		{`"completion":512`, `"completion":32768`, "ring size 32768"},
		{`"ifindex":3,"queue":0`, `"ifindex":0,"queue":0`, "BOUND direct[0] ifindex 0"},
		{`{"direct":[`, `{"direct":[}`, "not valid JSON"},
		{goodBound, `{"direct":[]}`, "0 direct sockets"},
		{goodBound, `{}`, "0 direct sockets"},
	} {
		_, err := ParseBound([]byte(strings.Replace(goodBound, c.from, c.to, 1)))
		wantErr(t, err, unix.EPROTO, c.want)
	}
}

// boundXSK: an AF_XDP socket with fill, completion and RX rings sized as
// BOUND says (unbound: its rings map as a bound one's do).
func boundXSK(t *testing.T, fill, comp, rx int) int {
	fd := xskOrSkip(t)
	for opt, n := range map[int]int{unix.XDP_UMEM_FILL_RING: fill, unix.XDP_UMEM_COMPLETION_RING: comp, unix.XDP_RX_RING: rx} {
		if err := unix.SetsockoptInt(fd, unix.SOL_XDP, opt, n); err != nil {
			t.Skipf("ring sizes on an unbound AF_XDP socket: %v", err)
		}
	}
	return fd
}

// directReq is what the scripted keeper received.
type directReq struct {
	typ     uint16
	payload string
	seals   int // of the fd that came with it; -1: none
}

// directKeeper answers DIRECT with BOUND (payload, fds); got reports the
// record it received.
func directKeeper(t *testing.T, payload string, fds []int, got chan<- directReq) *Endpoint {
	name := keeper(t, func(c int) {
		buf, oob := make([]byte, 512), make([]byte, unix.CmsgSpace(4))
		n, oobn, _, _, err := unix.Recvmsg(c, buf, oob, 0)
		if err != nil || n < hdrLen {
			got <- directReq{}
			return
		}
		r := directReq{typ: native.Uint16(buf[6:]), payload: string(buf[hdrLen:n]), seals: -1}
		if msgs, err := unix.ParseSocketControlMessage(oob[:oobn]); err == nil && len(msgs) == 1 {
			if f, err := unix.ParseUnixRights(&msgs[0]); err == nil && len(f) == 1 {
				r.seals, _ = unix.FcntlInt(uintptr(f[0]), unix.F_GET_SEALS, 0)
				unix.Close(f[0])
			}
		}
		got <- r
		var rights []byte
		if len(fds) > 0 {
			rights = unix.UnixRights(fds...)
		}
		unix.Sendmsg(c, record(msgBound, payload), rights, nil, 0)
	})
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.Connect(fd, &unix.SockaddrUnix{Name: "@" + name}); err != nil {
		t.Fatal(err)
	}
	ep := &Endpoint{ctl: fd, xsk: -1, umemFD: -1, done: make(chan struct{})}
	t.Cleanup(func() { ep.Close() })
	return ep
}

func TestDirectBound(t *testing.T) {
	a, b := boundXSK(t, 1024, 1024, 1024), boundXSK(t, 2048, 512, 256)
	defer unix.Close(a)
	defer unix.Close(b)
	got := make(chan directReq, 1)
	ep := directKeeper(t, goodBound, []int{a, b}, got)
	if err := ep.takeDirect(); err != nil {
		t.Fatal(err)
	}
	// Without a memfd UMEM: an empty DIRECT, as before "direct_memfd".
	if r := <-got; r.typ != msgDirect || r.payload != "" || r.seals != -1 {
		t.Fatalf("keeper got %+v, want an empty DIRECT (%d)", r, msgDirect)
	}
	if len(ep.Sockets) != 2 {
		t.Fatalf("%d sockets", len(ep.Sockets))
	}
	s := ep.Sockets[1]
	if !s.Direct || !s.Zerocopy || s.Queue != 1 || s.Ifname != "nic0" || s.TX != nil ||
		s.Fill.Size != 2048 || s.Comp.Size != 512 || s.RX.Size != 256 || ep.Sockets[0].Fill.Size != 1024 {
		t.Fatalf("socket 1: %+v", s)
	}
	// The rings are the kernel's: what we publish is its producer index.
	s.Fill.PutAddr(4096)
	s.Fill.Publish()
	if s.Fill.Pending() != 1 || s.Fill.Free(1) != 2047 || s.RX.Avail() != 0 {
		t.Fatalf("fill ring: pending %d free %d; rx avail %d", s.Fill.Pending(), s.Fill.Free(1), s.RX.Avail())
	}
}

func TestDirectBoundErrors(t *testing.T) {
	for i, c := range []struct {
		payload string
		nfds    int
		errno   unix.Errno
		want    string
	}{
		{goodBound, 1, unix.EBADMSG, "BOUND lists 2 sockets but came with 1 fds"},
		{goodBound, 3, unix.EBADMSG, "BOUND lists 2 sockets but came with 3 fds"},
		{`{"direct":[{"ifname":"nic0","ifindex":3,"fill":1024,"completion":1024,"rx":100}]}`, 1, unix.EPROTO, "ring size 100"},
	} {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			var fds []int
			for j := 0; j < c.nfds; j++ {
				fd := boundXSK(t, 1024, 1024, 1024)
				defer unix.Close(fd)
				fds = append(fds, fd)
			}
			ep := directKeeper(t, c.payload, fds, make(chan directReq, 1))
			wantErr(t, ep.takeDirect(), c.errno, c.want)
			if len(ep.Sockets) != 0 {
				t.Fatalf("sockets kept after an error: %d", len(ep.Sockets))
			}
		})
	}
	// Not AF_XDP.
	ep := directKeeper(t, `{"direct":[{"ifname":"nic0","ifindex":3,"fill":64,"completion":64,"rx":64}]}`, []int{0}, make(chan directReq, 1))
	wantErr(t, ep.takeDirect(), unix.EPROTO, "BOUND fd 0 is not an AF_XDP socket")
}

// With "direct_memfd" the UMEM is a sealed memfd and DIRECT carries it
// with the UMEM's geometry; BOUND's "umem" is taken.
func TestDirectMemfd(t *testing.T) {
	a, b := boundXSK(t, 1024, 1024, 1024), boundXSK(t, 2048, 512, 256)
	defer unix.Close(a)
	defer unix.Close(b)
	got := make(chan directReq, 1)
	ep := directKeeper(t, strings.Replace(goodBound, `"rx":1024}`, `"rx":1024,"umem":"own"}`, 1), []int{a, b}, got)
	ep.Desc = &Desc{UmemSize: 1 << 20, FrameSize: 2048, DirectMemfd: true}
	mem, err := ep.umemMap(true)
	if err != nil {
		t.Fatal(err)
	}
	ep.umem = &UMEM{Mem: mem, FrameSize: 2048}
	if err := ep.takeDirect(); err != nil {
		t.Fatal(err)
	}
	r := <-got
	want := unix.F_SEAL_SHRINK | unix.F_SEAL_GROW | unix.F_SEAL_SEAL
	if r.typ != msgDirect || r.payload != `{"umem_size":1048576,"frame_size":2048,"headroom":0}` || r.seals != want {
		t.Fatalf("keeper got %+v, want DIRECT with the geometry and a memfd sealed %#x", r, want)
	}
	if !ep.Sockets[0].OwnUMEM || ep.Sockets[1].OwnUMEM {
		t.Fatalf("umem: %+v %+v", ep.Sockets[0], ep.Sockets[1])
	}
	_, err = ParseBound([]byte(strings.Replace(goodBound, `"rx":256`, `"rx":256,"umem":"theirs"`, 1)))
	wantErr(t, err, unix.EPROTO, `umem "theirs"`)
}
