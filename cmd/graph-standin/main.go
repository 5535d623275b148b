// Command graph-standin serves the local WhatsApp Cloud API stand-in
// (pkg/standin/graph) on its own, for manual runs; the dev server starts the
// same handler in-process.
//
//	graph-standin -addr 127.0.0.1:0 -token EAA… -phone-number-id 1065…
//
// The first line it prints is the URL it listens on, so a script can start
// it on a free port and read where it went. Point WHATSAPP_API_BASE_URL at
// that URL.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/wa-shop/shop/pkg/standin"
	"github.com/wa-shop/shop/pkg/standin/graph"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "graph-standin:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	fs := flag.NewFlagSet("graph-standin", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:0", "address to listen on; port 0 picks a free one")
	token := fs.String("token", getenv("WHATSAPP_ACCESS_TOKEN"), "the access token to accept (default $WHATSAPP_ACCESS_TOKEN)")
	phoneID := fs.String("phone-number-id", getenv("WHATSAPP_PHONE_NUMBER_ID"), "the business phone number id (default $WHATSAPP_PHONE_NUMBER_ID)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *token == "" || *phoneID == "" {
		return errors.New("need -token and -phone-number-id (or WHATSAPP_ACCESS_TOKEN and WHATSAPP_PHONE_NUMBER_ID)")
	}
	h := graph.New(graph.Options{AccessToken: *token, PhoneNumberID: *phoneID})
	return standin.Serve(ctx, *addr, h, stdout)
}
