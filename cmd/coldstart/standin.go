//go:build linux

package main

import (
	"net"
	"net/http"
	"time"

	"github.com/wa-shop/shop/pkg/standin/graph"
)

// graphStandin is the WhatsApp Cloud API the functions send to under load:
// pkg/standin/graph, served from this process on a loopback port. It takes
// only the token and phone number id of the function's -env, as Meta would,
// and counts what was sent, so a reply that failed shows even when the
// function answered 200 (it logs a refused reply and carries on).
type graphStandin struct {
	*graph.Server
	url string
	srv *http.Server
}

func startGraph(env []string) (*graphStandin, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	g := &graphStandin{
		Server: graph.New(graph.Options{
			AccessToken:   envValue(env, "WHATSAPP_ACCESS_TOKEN"),
			PhoneNumberID: envValue(env, "WHATSAPP_PHONE_NUMBER_ID"),
		}),
		url: "http://" + ln.Addr().String(),
	}
	g.srv = &http.Server{Handler: g.Server, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = g.srv.Serve(ln) }() // ends with ErrServerClosed on Close
	return g, nil
}

func (g *graphStandin) Close() error { return g.srv.Close() }
