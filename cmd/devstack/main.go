// Command devstack starts and stops the private Postgres and Redis that
// `./build.sh dev` and `./build.sh test` use.
//
//	devstack up   -dir .dev/test   # prints `export DATABASE_URL=… REDIS_URL=…`
//	devstack down -dir .dev/test
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"sort"

	"github.com/wa-shop/shop/pkg/devstack"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "devstack:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("usage: devstack up|down [-dir DIR]")
	}
	fs := flag.NewFlagSet("devstack "+args[0], flag.ContinueOnError)
	dir := fs.String("dir", ".dev/local", "folder holding the servers' data")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	switch args[0] {
	case "up":
		stack, err := devstack.Up(*dir)
		if err != nil {
			return err
		}
		env := stack.Env()
		keys := make([]string, 0, len(env))
		for k := range env {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(stdout, "export %s=%q\n", k, env[k])
		}
		return nil
	case "down":
		stack, err := devstack.Load(*dir)
		if err != nil {
			return nil // nothing was started
		}
		return stack.Down()
	}
	return fmt.Errorf("unknown command %q: want up or down", args[0])
}
