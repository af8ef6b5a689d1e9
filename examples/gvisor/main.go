// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause

// xdp_gvisor: gVisor's network stack (pkg/tcpip: IPv4, IPv6, ARP, NDP, TCP,
// UDP, ICMP) as a sandbox on the xdphook endpoint, or on AF_PACKET the way
// runsc's default network is, for comparison. It serves HTTP on :8080
// (GET / and GET /bytes/N), TCP and UDP echo on :7, and prints one
// "ready ..." line when it serves.
//
//	xdp_gvisor [-link xdp|gvisor-xdp] [-socket NAME]   the endpoint of this netns
//	xdp_gvisor -link packet -dev IFACE                 IFACE's addresses, on AF_PACKET
package main

import (
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/network/arp"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv6"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/tcpip/transport/icmp"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
	"gvisor.dev/gvisor/pkg/tcpip/transport/udp"
)

const nicID = 1

// netConfig is what the stack is configured from: the endpoint's
// description, or what the kernel had on IFACE.
type netConfig struct {
	ifname     string
	mac        net.HardwareAddr
	mtu        uint32
	addrs      []*net.IPNet // IP: the address itself
	routes     []route
	neighbours []neighbour
	ephLo      uint16 // 0: the stack's default range
	ephHi      uint16
}

type route struct {
	dst *net.IPNet
	via net.IP // nil: on-link
}

type neighbour struct {
	ip  net.IP
	mac net.HardwareAddr
}

// link is a link endpoint with what the stack needs around it.
type link struct {
	ep    stack.LinkEndpoint
	qdisc stack.QueueingDiscipline // nil: writes go straight to ep
	cfg   netConfig
	name  string
	// ready is called once the stack is configured (the endpoint's READY).
	ready func() error
	// done is closed when the link is taken away (the keeper's teardown).
	done <-chan struct{}
	// stats describes the link's counters for the exit line, or "".
	stats func() string
	close func()
	info  string // more for the ready line
}

func die(format string, a ...interface{}) {
	fmt.Fprintf(os.Stderr, "xdp_gvisor: "+format+"\n", a...)
	os.Exit(1)
}

func usage() {
	fmt.Fprintf(os.Stderr, "usage: xdp_gvisor [-link xdp|gvisor-xdp] [-socket NAME]\n"+
		"       xdp_gvisor -link packet -dev IFACE\n")
	flag.PrintDefaults()
	os.Exit(2)
}

func main() {
	flag.Usage = usage
	linkName := flag.String("link", "xdp", "xdp | gvisor-xdp | packet")
	dev := flag.String("dev", "", "the interface for -link packet")
	socket := flag.String("socket", "", "abstract name of the keeper's socket (default xdphook/endpoint)")
	httpPort := flag.Int("http", 8080, "HTTP port")
	echoPort := flag.Int("echo", 7, "TCP and UDP echo port")
	queues := flag.Int("qdisc", 1, "-link xdp: fifo qdisc queues (0: none, write from the caller)")
	gso := flag.Bool("gso", true, "-link xdp: gVisor GSO (TCP segments of up to 64 KiB, split in the stack)")
	impl := flag.String("xdp-impl", "own", "-link xdp: own (our link over the rings) | gvisor (gVisor's link/xdp wrapped)")
	direct := flag.Bool("direct", true, "-link xdp: receive on the NIC's RX queue sockets too where the node offers them")
	spin := flag.Duration("spin", 50*time.Microsecond, "-link xdp: poll the RX rings this long after the last frame before sleeping (0: sleep at once)")
	flag.Parse()
	if flag.NArg() != 0 || *httpPort <= 0 || *httpPort > 65535 || *echoPort <= 0 || *echoPort > 65535 {
		usage()
	}
	var l *link
	var err error
	switch *linkName {
	case "xdp", "gvisor-xdp":
		if *dev != "" {
			die("-dev is for -link packet (-link %s takes the endpoint of this network namespace)", *linkName)
		}
		if *impl != "own" && *impl != "gvisor" {
			die("-xdp-impl %q: not own or gvisor", *impl)
		}
		l, err = newXDPLink(*linkName, *socket, xdpTuning{queues: *queues, gso: *gso, own: *impl == "own",
			direct: *direct, spin: *spin})
	case "packet":
		if *dev == "" {
			die("-link packet needs -dev IFACE")
		}
		l, err = newPacketLink(*dev)
	default:
		die("-link %q: not xdp, gvisor-xdp or packet", *linkName)
	}
	if err != nil {
		die("%s: %v", *linkName, err)
	}
	s, err := newStack(l)
	if err != nil {
		l.close()
		die("%s: %v", *linkName, err)
	}
	if err := serve(s, uint16(*httpPort), uint16(*echoPort)); err != nil {
		l.close()
		die("%v", err)
	}
	if err := l.ready(); err != nil {
		l.close()
		die("%s: %v", *linkName, err)
	}
	var addrs []string
	for _, a := range l.cfg.addrs {
		addrs = append(addrs, a.String())
	}
	fmt.Printf("ready link=%s ifname=%s mac=%s mtu=%d addresses=%s http=%d echo=%d%s\n", l.name, l.cfg.ifname,
		l.cfg.mac, l.ep.MTU(), strings.Join(addrs, ","), *httpPort, *echoPort, l.info)

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	code := 0
	select {
	case <-sig:
	case <-l.done:
		fmt.Fprintf(os.Stderr, "xdp_gvisor: endpoint: the keeper took it back\n")
		code = 1
	}
	if l.stats != nil {
		fmt.Fprintf(os.Stderr, "xdp_gvisor: %s\n", l.stats())
	}
	l.close()
	os.Exit(code)
}

func addrOf(ip net.IP) (tcpip.Address, tcpip.NetworkProtocolNumber) {
	if v4 := ip.To4(); v4 != nil {
		return tcpip.Address(v4), ipv4.ProtocolNumber
	}
	return tcpip.Address(ip.To16()), ipv6.ProtocolNumber
}

func subnetOf(n *net.IPNet) (tcpip.Subnet, error) {
	a, _ := addrOf(n.IP.Mask(n.Mask))
	m := n.Mask
	if len(a) == 4 && len(m) == 16 {
		m = m[12:]
	}
	return tcpip.NewSubnet(a, tcpip.AddressMask(m))
}

// newStack: gVisor's stack configured as runsc configures the sandbox's
// (SACK, receive buffer auto-tuning), one NIC on the link, the addresses,
// routes (longest prefix first: gVisor takes the first match) and static
// neighbours of cfg.
func newStack(l *link) (*stack.Stack, error) {
	s := stack.New(stack.Options{
		NetworkProtocols: []stack.NetworkProtocolFactory{ipv4.NewProtocol, arp.NewProtocol,
			ipv6.NewProtocolWithOptions(ipv6.Options{
				// The addresses are the sandbox's alone (the keeper or
				// the kernel had them): no DAD delay.
				DADConfigs:       stack.DADConfigurations{DupAddrDetectTransmits: 0},
				AutoGenLinkLocal: true,
			})},
		TransportProtocols: []stack.TransportProtocolFactory{tcp.NewProtocol, udp.NewProtocol,
			icmp.NewProtocol4, icmp.NewProtocol6},
		HandleLocal: true,
	})
	sack := tcpip.TCPSACKEnabled(true)
	moderate := tcpip.TCPModerateReceiveBufferOption(true)
	for _, o := range []tcpip.SettableTransportProtocolOption{&sack, &moderate} {
		if err := s.SetTransportProtocolOption(tcp.ProtocolNumber, o); err != nil {
			return nil, fmt.Errorf("TCP option %T: %v", o, err)
		}
	}
	if err := s.CreateNICWithOptions(nicID, l.ep, stack.NICOptions{Name: l.cfg.ifname, QDisc: l.qdisc}); err != nil {
		return nil, fmt.Errorf("NIC on %s: %v", l.cfg.ifname, err)
	}
	var table []tcpip.Route
	for _, a := range l.cfg.addrs {
		addr, proto := addrOf(a.IP)
		plen, _ := a.Mask.Size()
		pa := tcpip.ProtocolAddress{Protocol: proto, AddressWithPrefix: tcpip.AddressWithPrefix{Address: addr, PrefixLen: plen}}
		if err := s.AddProtocolAddress(nicID, pa, stack.AddressProperties{}); err != nil {
			return nil, fmt.Errorf("address %s: %v", a, err)
		}
		// The connected route the kernel would add.
		sub, err := subnetOf(a)
		if err != nil {
			return nil, fmt.Errorf("address %s: %v", a, err)
		}
		table = append(table, tcpip.Route{Destination: sub, NIC: nicID})
	}
	for _, r := range l.cfg.routes {
		sub, err := subnetOf(r.dst)
		if err != nil {
			return nil, fmt.Errorf("route %s: %v", r.dst, err)
		}
		rt := tcpip.Route{Destination: sub, NIC: nicID}
		if r.via != nil {
			rt.Gateway, _ = addrOf(r.via)
		}
		table = append(table, rt)
	}
	sort.SliceStable(table, func(i, j int) bool {
		return table[i].Destination.Prefix() > table[j].Destination.Prefix()
	})
	s.SetRouteTable(table)
	for _, n := range l.cfg.neighbours {
		addr, proto := addrOf(n.ip)
		if err := s.AddStaticNeighbor(nicID, proto, addr, tcpip.LinkAddress(n.mac)); err != nil {
			return nil, fmt.Errorf("neighbour %s: %v", n.ip, err)
		}
	}
	if l.cfg.ephLo != 0 {
		if err := s.SetPortRange(l.cfg.ephLo, l.cfg.ephHi); err != nil {
			return nil, fmt.Errorf("ephemeral ports %d-%d: %v", l.cfg.ephLo, l.cfg.ephHi, err)
		}
	}
	return s, nil
}
