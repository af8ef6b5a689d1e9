// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause

// -link packet: gVisor's fdbased link on an AF_PACKET socket, configured as
// runsc's default network is (runsc/sandbox/network.go, runsc/boot/
// network.go): PACKET_MMAP receive, the virtio-net header and host GSO
// where the interface offers GSO (else gVisor's own GSO), 4 MiB socket
// buffers, RX checksum offload, a fifo qdisc with one queue per CPU. The
// stack takes IFACE's addresses, routes and neighbours from the kernel and
// the addresses are taken off the kernel (routes first: removing an
// address takes its routes with it).
package main

import (
	"fmt"
	"net"
	"runtime"
	"unsafe"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/link/fdbased"
	"gvisor.dev/gvisor/pkg/tcpip/link/qdisc/fifo"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
)

const ethtoolGGSO = 0x23

// gsoEnabled: generic segmentation offload on for dev (ETHTOOL_GGSO).
func gsoEnabled(fd int, dev string) (bool, error) {
	val := struct{ cmd, data uint32 }{cmd: ethtoolGGSO}
	var ifr struct {
		name [unix.IFNAMSIZ]byte
		data uintptr
		_    [16]byte
	}
	copy(ifr.name[:], dev)
	ifr.data = uintptr(unsafe.Pointer(&val))
	if _, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), unix.SIOCETHTOOL, uintptr(unsafe.Pointer(&ifr))); e != 0 {
		return false, e
	}
	return val.data != 0, nil
}

// packetSocket: AF_PACKET bound to dev, as runsc's createSocket makes it.
func packetSocket(l netlink.Link) (fd int, gsoMax uint32, err error) {
	const ethPAll = 0x0300 // htons(ETH_P_ALL)
	fd, err = unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, ethPAll)
	if err != nil {
		return -1, 0, fmt.Errorf("AF_PACKET socket: %v", err)
	}
	fail := func(e error) (int, uint32, error) {
		unix.Close(fd)
		return -1, 0, e
	}
	if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: ethPAll, Ifindex: l.Attrs().Index}); err != nil {
		return fail(fmt.Errorf("bind to %s: %v", l.Attrs().Name, err))
	}
	gso, err := gsoEnabled(fd, l.Attrs().Name)
	if err != nil {
		return fail(fmt.Errorf("GSO of %s: %v", l.Attrs().Name, err))
	}
	if gso {
		if err := unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_VNET_HDR, 1); err != nil {
			return fail(fmt.Errorf("PACKET_VNET_HDR: %v", err))
		}
		gsoMax = l.Attrs().GSOMaxSize
	}
	const bufSize = 4 << 20
	for _, o := range [][2]int{{unix.SO_RCVBUFFORCE, unix.SO_RCVBUF}, {unix.SO_SNDBUFFORCE, unix.SO_SNDBUF}} {
		if unix.SetsockoptInt(fd, unix.SOL_SOCKET, o[0], bufSize) != nil {
			unix.SetsockoptInt(fd, unix.SOL_SOCKET, o[1], bufSize)
		}
	}
	return fd, gsoMax, nil
}

func ipnetOf(a *net.IPNet) *net.IPNet {
	if a == nil {
		return nil
	}
	return &net.IPNet{IP: a.IP, Mask: a.Mask}
}

// kernelConfig reads what the kernel has on dev and takes the addresses
// off it.
func kernelConfig(l netlink.Link) (netConfig, error) {
	attrs := l.Attrs()
	c := netConfig{ifname: attrs.Name, mac: attrs.HardwareAddr, mtu: uint32(attrs.MTU)}
	addrs, err := netlink.AddrList(l, netlink.FAMILY_ALL)
	if err != nil {
		return c, fmt.Errorf("addresses of %s: %v", attrs.Name, err)
	}
	routes, err := netlink.RouteList(l, netlink.FAMILY_ALL)
	if err != nil {
		return c, fmt.Errorf("routes of %s: %v", attrs.Name, err)
	}
	neigh, err := netlink.NeighList(attrs.Index, netlink.FAMILY_ALL)
	if err != nil {
		return c, fmt.Errorf("neighbours of %s: %v", attrs.Name, err)
	}
	for _, a := range addrs {
		if !a.IP.IsLinkLocalUnicast() {
			c.addrs = append(c.addrs, ipnetOf(a.IPNet))
		}
	}
	if len(c.addrs) == 0 {
		return c, fmt.Errorf("%s has no address to take", attrs.Name)
	}
	for _, r := range routes {
		if r.Type != unix.RTN_UNICAST || (r.Dst != nil && r.Dst.IP.IsLinkLocalUnicast()) {
			continue
		}
		dst := ipnetOf(r.Dst)
		if dst == nil {
			if r.Family == netlink.FAMILY_V6 {
				_, dst, _ = net.ParseCIDR("::/0")
			} else {
				_, dst, _ = net.ParseCIDR("0.0.0.0/0")
			}
		}
		c.routes = append(c.routes, route{dst: dst, via: r.Gw})
	}
	for _, n := range neigh {
		if n.HardwareAddr != nil && n.State&(netlink.NUD_PERMANENT|netlink.NUD_REACHABLE|netlink.NUD_STALE) != 0 &&
			!n.IP.IsLinkLocalUnicast() {
			c.neighbours = append(c.neighbours, neighbour{ip: n.IP, mac: n.HardwareAddr})
		}
	}
	for _, a := range addrs {
		a := a
		if err := netlink.AddrDel(l, &a); err != nil {
			return c, fmt.Errorf("take %s off %s: %v", a.IPNet, attrs.Name, err)
		}
	}
	return c, nil
}

func newPacketLink(dev string) (*link, error) {
	nl, err := netlink.LinkByName(dev)
	if err != nil {
		return nil, fmt.Errorf("-dev %s: %v", dev, err)
	}
	fd, gsoMax, err := packetSocket(nl)
	if err != nil {
		return nil, err
	}
	cfg, err := kernelConfig(nl)
	if err != nil {
		unix.Close(fd)
		return nil, err
	}
	opts := fdbased.Options{
		FDs:                []int{fd},
		MTU:                cfg.mtu,
		EthernetHeader:     true,
		Address:            tcpip.LinkAddress(cfg.mac),
		PacketDispatchMode: fdbased.PacketMMap,
		GSOMaxSize:         gsoMax,
		RXChecksumOffload:  true,
	}
	if gsoMax == 0 {
		opts.GSOMaxSize = stack.GvisorGSOMaxSize
		opts.GvisorGSOEnabled = true
	}
	ep, err := fdbased.New(&opts)
	if err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("gVisor's fdbased link on %s: %v", dev, err)
	}
	return &link{
		ep:    ep,
		qdisc: fifo.New(ep, runtime.GOMAXPROCS(0), 1000),
		cfg:   cfg,
		name:  "packet",
		ready: func() error { return nil },
		done:  make(chan struct{}),
		close: func() { unix.Close(fd) },
	}, nil
}
