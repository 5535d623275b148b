// Package standin holds what the local provider stand-ins share; the
// stand-ins themselves are in graph and stripe.
package standin

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// Serve listens on addr, prints the URL as the first line of stdout, and
// serves h until ctx ends.
func Serve(ctx context.Context, addr string, h http.Handler, stdout io.Writer) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "http://%s\n", ln.Addr())
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(shutdown)
}
