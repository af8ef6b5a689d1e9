// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause

// The services xdp_gvisor runs on gVisor's stack: HTTP (GET /, GET
// /bytes/N, PUT /upload), TCP and UDP echo,
// each on IPv4 and IPv6 (separate v6-only sockets, as a dual-stack host).
package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/adapters/gonet"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv6"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
	"gvisor.dev/gvisor/pkg/tcpip/transport/udp"
	"gvisor.dev/gvisor/pkg/waiter"
)

const maxBytes = 1 << 34 // what /bytes/N serves at most

var protos = []tcpip.NetworkProtocolNumber{ipv4.ProtocolNumber, ipv6.ProtocolNumber}

// endpoint: a bound socket of transport/network protocol on port.
func endpoint(s *stack.Stack, trans tcpip.TransportProtocolNumber, netp tcpip.NetworkProtocolNumber,
	port uint16) (tcpip.Endpoint, *waiter.Queue, error) {
	var wq waiter.Queue
	ep, err := s.NewEndpoint(trans, netp, &wq)
	if err != nil {
		return nil, nil, fmt.Errorf("socket: %v", err)
	}
	if netp == ipv6.ProtocolNumber {
		ep.SocketOptions().SetV6Only(true)
	}
	if err := ep.Bind(tcpip.FullAddress{Port: port}); err != nil {
		ep.Close()
		return nil, nil, fmt.Errorf("bind :%d: %v", port, err)
	}
	return ep, &wq, nil
}

func listen(s *stack.Stack, netp tcpip.NetworkProtocolNumber, port uint16) (net.Listener, error) {
	ep, wq, err := endpoint(s, tcp.ProtocolNumber, netp, port)
	if err != nil {
		return nil, err
	}
	if err := ep.Listen(1024); err != nil {
		ep.Close()
		return nil, fmt.Errorf("listen :%d: %v", port, err)
	}
	return gonet.NewTCPListener(s, wq, ep), nil
}

var chunk = []byte(strings.Repeat("xdp_gvisor bytes\n", 4096))

func httpHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html")
		io.WriteString(w, "<html><body><h1>xdp_gvisor</h1><p>gVisor's network stack on xdphook.</p></body></html>\n")
	})
	mux.HandleFunc("/bytes/", func(w http.ResponseWriter, r *http.Request) {
		n, err := strconv.ParseInt(strings.TrimPrefix(r.URL.Path, "/bytes/"), 10, 64)
		if err != nil || n < 0 || n > maxBytes {
			http.Error(w, fmt.Sprintf("/bytes/N: N from 0 to %d", int64(maxBytes)), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Content-Length", strconv.FormatInt(n, 10))
		for n > 0 {
			c := chunk
			if int64(len(c)) > n {
				c = c[:n]
			}
			if _, err := w.Write(c); err != nil {
				return
			}
			n -= int64(len(c))
		}
	})
	// PUT /upload: the body is read and dropped (the bulk upload figure).
	mux.HandleFunc("/upload", func(w http.ResponseWriter, r *http.Request) {
		n, err := io.Copy(io.Discard, r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		fmt.Fprintf(w, "%d\n", n)
	})
	return mux
}

func tcpEcho(l net.Listener) {
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		go func() {
			io.Copy(c, c)
			c.Close()
		}()
	}
}

func udpEcho(c *gonet.UDPConn) {
	buf := make([]byte, 65536)
	for {
		n, from, err := c.ReadFrom(buf)
		if err != nil {
			return
		}
		c.WriteTo(buf[:n], from)
	}
}

// serve starts every service; errors name the service.
func serve(s *stack.Stack, httpPort, echoPort uint16) error {
	h := httpHandler()
	for _, p := range protos {
		l, err := listen(s, p, httpPort)
		if err != nil {
			return fmt.Errorf("HTTP: %v", err)
		}
		go http.Serve(l, h)
		if l, err = listen(s, p, echoPort); err != nil {
			return fmt.Errorf("TCP echo: %v", err)
		}
		go tcpEcho(l)
		ep, wq, err := endpoint(s, udp.ProtocolNumber, p, echoPort)
		if err != nil {
			return fmt.Errorf("UDP echo: %v", err)
		}
		go udpEcho(gonet.NewUDPConn(s, wq, ep))
	}
	return nil
}
