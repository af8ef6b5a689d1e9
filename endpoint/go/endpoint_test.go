// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause

// The client against a scripted keeper on an abstract socket of the test's
// own name (same framing as lib/endpoint_proto.c). Needs root for the
// AF_XDP socket the keeper hands over.
package xdpendpoint

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

const goodDesc = `{"version":1,"ifname":"xdp0","ifindex":7,"queue":0,"mac":"02:11:22:33:44:55","mtu":1500,
"addresses":["10.1.0.5/24","fd00::5/64"],"routes":[{"dst":"0.0.0.0/0","via":"169.254.1.1"},{"dst":"10.1.0.0/24"}],
"gateways":[{"ip":"169.254.1.1","mac":"02:aa:bb:cc:dd:ee"}],"ephemeral":{"lo":40000,"hi":49999},"xdp_copy":true,
"frame_size":2048,"umem_size":2097152,"rings":{"fill":1024,"completion":1024,"rx":1024,"tx":1024},"future":1}`

func record(typ uint16, payload string) []byte {
	b := make([]byte, hdrLen+len(payload))
	native.PutUint32(b[0:], magic)
	native.PutUint16(b[4:], version)
	native.PutUint16(b[6:], typ)
	native.PutUint32(b[8:], uint32(len(payload)))
	copy(b[hdrLen:], payload)
	return b
}

// keeper listens on a fresh abstract name and runs script on the first
// connection; the name is returned.
func keeper(t *testing.T, script func(c int)) string {
	t.Helper()
	name := fmt.Sprintf("xdphook-gotest/%d/%s", os.Getpid(), t.Name())
	l, err := unix.Socket(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.Bind(l, &unix.SockaddrUnix{Name: "@" + name}); err != nil {
		t.Fatal(err)
	}
	if err := unix.Listen(l, 1); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(l) })
	go func() {
		c, _, err := unix.Accept(l)
		if err != nil {
			return
		}
		script(c)
		unix.Close(c)
	}()
	return name
}

func xskOrSkip(t *testing.T) int {
	fd, err := unix.Socket(unix.AF_XDP, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Skipf("no AF_XDP socket (root needed): %v", err)
	}
	return fd
}

func wantErr(t *testing.T, err error, errno unix.Errno, text string) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) || !errors.Is(err, errno) || !strings.Contains(err.Error(), text) {
		t.Fatalf("got %v (%#v), want errno %v and %q", err, err, errno, text)
	}
}

func TestNoKeeper(t *testing.T) {
	_, err := Dial(&Options{SocketName: fmt.Sprintf("xdphook-gotest/%d/none", os.Getpid())})
	wantErr(t, err, unix.ECONNREFUSED, "no xdphook keeper in this network namespace")
}

func TestRefused(t *testing.T) {
	name := keeper(t, func(c int) {
		unix.Sendmsg(c, record(msgError, `{"errno":16,"message":"another client holds the endpoint"}`), nil, nil, 0)
	})
	_, err := Dial(&Options{SocketName: name})
	wantErr(t, err, unix.EBUSY, "keeper: another client holds the endpoint")
}

func TestHandshake(t *testing.T) {
	xsk := xskOrSkip(t)
	defer unix.Close(xsk)
	readyOK := make(chan error, 1)
	name := keeper(t, func(c int) {
		if err := unix.Sendmsg(c, record(msgDesc, goodDesc), unix.UnixRights(xsk), nil, 0); err != nil {
			readyOK <- err
			return
		}
		buf := make([]byte, 64)
		n, _, _, _, err := unix.Recvmsg(c, buf, nil, 0)
		if err != nil || n != hdrLen || native.Uint16(buf[6:]) != msgReady {
			readyOK <- fmt.Errorf("READY: %d bytes, %v", n, err)
			return
		}
		unix.Sendmsg(c, record(msgOK, ""), nil, nil, 0)
		readyOK <- nil
		// The keeper's teardown: the connection closes.
	})
	ep, err := Dial(&Options{SocketName: name})
	if err != nil {
		t.Fatal(err)
	}
	defer ep.Close()
	d := ep.Desc
	if d.Ifname != "xdp0" || d.Ifindex != 7 || d.MAC.String() != "02:11:22:33:44:55" || d.MTU != 1500 ||
		len(d.Addresses) != 2 || d.Addresses[0].String() != "10.1.0.5/24" || d.Addresses[0].IP.String() != "10.1.0.5" ||
		len(d.Routes) != 2 || d.Routes[0].Via.String() != "169.254.1.1" || d.Routes[1].Via != nil ||
		len(d.Gateways) != 1 || d.Gateways[0].MAC.String() != "02:aa:bb:cc:dd:ee" ||
		d.EphLo != 40000 || d.EphHi != 49999 || !d.XDPCopy || d.Rings.TX != 1024 || d.UmemSize != 2<<20 {
		t.Fatalf("description: %+v", d)
	}
	if dom, err := unix.GetsockoptInt(ep.FD(), unix.SOL_SOCKET, unix.SO_DOMAIN); err != nil || dom != unix.AF_XDP {
		t.Fatalf("FD %d is not the AF_XDP socket: %v", ep.FD(), err)
	}
	if err := ep.Ready(); err != nil {
		t.Fatal(err)
	}
	if err := <-readyOK; err != nil {
		t.Fatal(err)
	}
	select {
	case <-ep.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("Done not closed after the keeper closed the connection")
	}
}

func TestNotAnXSK(t *testing.T) {
	name := keeper(t, func(c int) {
		unix.Sendmsg(c, record(msgDesc, goodDesc), unix.UnixRights(0), nil, 0)
	})
	_, err := Dial(&Options{SocketName: name})
	wantErr(t, err, unix.EPROTO, "not an AF_XDP socket")
}

func TestTimeout(t *testing.T) {
	hold := make(chan struct{})
	defer close(hold)
	name := keeper(t, func(c int) { <-hold })
	_, err := Dial(&Options{SocketName: name, Timeout: 100 * time.Millisecond})
	wantErr(t, err, unix.ETIMEDOUT, "no answer in time")
}

func TestBadRecord(t *testing.T) {
	name := keeper(t, func(c int) { unix.Sendmsg(c, []byte("XDPE but not a record"), nil, nil, 0) })
	_, err := Dial(&Options{SocketName: name})
	wantErr(t, err, unix.EBADMSG, "bad record")
}

func TestParseDescErrors(t *testing.T) {
	for _, c := range []struct{ from, to, want string }{
		{`"version":1`, `"version":2`, "version"},
		{`"ifname":"xdp0"`, `"ifname":""`, "ifname"},
		{`"ifindex":7`, `"ifindex":0`, "ifindex"},
		{`"mtu":1500`, `"mtu":20`, "mtu"},
		{`"mac":"02:11:22:33:44:55"`, `"mac":"nope"`, "mac"},
		{`"10.1.0.5/24"`, `"10.1.0.5"`, "addresses[0]"},
		{`"via":"169.254.1.1"`, `"via":"fd00::1"`, "routes[0] via"},
		{`"ip":"169.254.1.1"`, `"ip":"x"`, "gateways[0] ip"},
		{`"frame_size":2048`, `"frame_size":1000`, "frame_size"},
		{`"umem_size":2097152`, `"umem_size":3000`, "umem_size"},
		{`"tx":1024`, `"tx":1000`, "ring size"},
		{`"hi":49999`, `"hi":1`, "ephemeral"},
		{`{`, `[`, "not valid JSON"},
	} {
		_, err := ParseDesc([]byte(strings.Replace(goodDesc, c.from, c.to, 1)))
		wantErr(t, err, unix.EPROTO, c.want)
	}
}
