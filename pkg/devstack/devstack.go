// Package devstack runs a private Postgres and Redis in a folder of the
// checkout, for `./build.sh dev`, `./build.sh test` and the fault tests that
// stop and restart them. It never touches a system-wide server.
package devstack

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
)

// Stack is the state of one private stack, kept in Dir/stack.json so a later
// process (the test binary, `devstack down`) can find and control it.
type Stack struct {
	Dir      string   `json:"dir"`
	Postgres Postgres `json:"postgres"`
	Redis    Redis    `json:"redis"`
}

const stateFile = "stack.json"

// Up starts both servers under dir, reusing data from an earlier run.
func Up(dir string) (*Stack, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	s := &Stack{Dir: dir}
	if old, err := Load(dir); err == nil {
		s = old // keep ports so URLs handed out earlier stay valid
	}
	if err := onFreePort(&s.Postgres.Port, func() error { return s.Postgres.Start(dir) }); err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	if err := onFreePort(&s.Redis.Port, func() error { return s.Redis.Start(dir) }); err != nil {
		return nil, errors.Join(fmt.Errorf("redis: %w", err), s.Postgres.Stop())
	}
	return s, s.save()
}

// errPortTaken says another process listens on the port a server was to use.
var errPortTaken = errors.New("port taken by another process")

// onFreePort runs start and, while its port turns out to be taken, starts
// again on a new one. freePort cannot reserve a port: between asking the
// kernel and the server binding it, anything may take it (another stack
// starting, a test's listener), and a port kept in stack.json from an
// earlier run may have been taken since.
func onFreePort(port *int, start func() error) error {
	var err error
	for range 5 {
		if err = start(); !errors.Is(err, errPortTaken) {
			return err
		}
		if *port, err = freePort(); err != nil {
			return err
		}
	}
	return fmt.Errorf("no free port after 5 tries: %w", errPortTaken)
}

// Load reads the state an earlier Up left in dir.
func Load(dir string) (*Stack, error) {
	raw, err := os.ReadFile(filepath.Join(dir, stateFile))
	if err != nil {
		return nil, err
	}
	var s Stack
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, fmt.Errorf("%s: %w", stateFile, err)
	}
	return &s, nil
}

// Down stops both servers; their data stays for the next Up.
func (s *Stack) Down() error {
	return errors.Join(s.Redis.Stop(), s.Postgres.Stop())
}

func (s *Stack) save() error {
	raw, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(s.Dir, stateFile), raw, 0o644)
}

// Env is the environment that points programs at this stack.
func (s *Stack) Env() map[string]string {
	return map[string]string{
		"DATABASE_URL": s.Postgres.URL(),
		"REDIS_URL":    s.Redis.URL(),
	}
}

// detached runs cmd in a session of its own, so the servers it starts do not
// get the terminal's Ctrl-C: the stack stops them itself, in order.
func detached(cmd *exec.Cmd) *exec.Cmd {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	return cmd
}

// freePort asks the kernel for a port nobody listens on at this instant
// (see onFreePort).
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func fileSize(path string) int64 {
	info, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return info.Size()
}

// loggedSince says whether a server's log gained the text after offset, so
// a line from an earlier run does not count.
func loggedSince(path string, offset int64, text string) bool {
	raw, err := os.ReadFile(path)
	if err != nil || int64(len(raw)) < offset {
		return false
	}
	return bytes.Contains(raw[offset:], []byte(text))
}
