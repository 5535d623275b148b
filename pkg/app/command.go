package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// Command is an operator command's whole work, testable without a process.
type Command func(ctx context.Context, args []string, stdout, stderr io.Writer) error

// Main runs an operator command: Ctrl-C or SIGTERM cancel its context, -h
// exits 0, and any other failure prints "name: error" and exits 1.
func Main(name string, run Command) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	switch {
	case errors.Is(err, flag.ErrHelp):
		os.Exit(0)
	case err != nil:
		fmt.Fprintln(os.Stderr, name+":", err)
		os.Exit(1)
	}
}
