package devstack

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Redis is a private server on 127.0.0.1 with no persistence: the shop must
// survive losing it, and the fault tests restart it empty on purpose.
type Redis struct {
	Dir  string `json:"dir"`
	Port int    `json:"port"`
}

// URL points at database 0; tests pick their own databases.
func (r *Redis) URL() string { return fmt.Sprintf("redis://127.0.0.1:%d/0", r.Port) }

// Start launches the server unless it already answers.
func (r *Redis) Start(stackDir string) error {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return fmt.Errorf("redis-server not found: install Debian's redis-server package")
	}
	if r.Dir == "" {
		r.Dir = filepath.Join(stackDir, "redis")
	}
	if r.Port == 0 {
		if r.Port, err = freePort(); err != nil {
			return err
		}
	}
	switch err := r.ours(); {
	case err == nil:
		return nil
	case errors.Is(err, errPortTaken):
		return err
	}
	if err := os.MkdirAll(r.Dir, 0o755); err != nil {
		return err
	}
	logFile := filepath.Join(r.Dir, "redis.log")
	logged := fileSize(logFile)
	// noeviction: an evicted hold would sell its stock twice.
	cmd := exec.Command(bin, "--port", strconv.Itoa(r.Port), "--bind", "127.0.0.1",
		"--dir", r.Dir, "--daemonize", "yes", "--pidfile", r.pidFile(),
		"--logfile", logFile, "--save", "", "--appendonly", "no",
		"--maxmemory-policy", "noeviction", "--databases", "64")
	if out, err := detached(cmd).CombinedOutput(); err != nil {
		return fmt.Errorf("redis-server: %w: %s", err, out)
	}
	// The server daemonizes before it binds: a port taken shows only in its
	// log, or as another server answering.
	var startErr error
	err = r.waitFor(func() bool {
		if loggedSince(logFile, logged, "Address already in use") {
			startErr = fmt.Errorf("port %d: %w", r.Port, errPortTaken)
			return true
		}
		startErr = r.ours()
		return startErr == nil || errors.Is(startErr, errPortTaken)
	}, "start")
	return errors.Join(err, startErr)
}

// ours checks that the server answering on the port is this stack's own,
// not another stack's that took the port while this one was down.
func (r *Redis) ours() error {
	if err := r.ping(); err != nil {
		return err
	}
	reply, err := r.command("CONFIG", "GET", "dir")
	if err != nil {
		return err
	}
	// Redis reports its directory with symlinks resolved (macOS's /var is
	// /private/var, say).
	dir := r.Dir
	if resolved, err := filepath.EvalSymlinks(dir); err == nil {
		dir = resolved
	}
	if !bytes.Contains(reply, []byte("\r\n"+dir+"\r\n")) {
		return fmt.Errorf("port %d: %w", r.Port, errPortTaken)
	}
	return nil
}

// Stop shuts the server down without saving; a stopped server is no error.
func (r *Redis) Stop() error {
	if r.ping() != nil {
		return nil
	}
	// The server drops the connection as it exits, so the reply is an error
	// either way; whether it stopped is what the wait below checks.
	_, _ = r.command("SHUTDOWN", "NOSAVE")
	return r.waitFor(func() bool { return r.ping() != nil }, "stop")
}

// Restart stops the server and starts it empty, as a crashed Redis would.
func (r *Redis) Restart() error {
	if err := r.Stop(); err != nil {
		return err
	}
	return r.Start(filepath.Dir(r.Dir))
}

func (r *Redis) pidFile() string { return filepath.Join(r.Dir, "redis.pid") }

func (r *Redis) ping() error {
	reply, err := r.command("PING")
	if err == nil && !bytes.HasPrefix(reply, []byte("+PONG")) {
		err = fmt.Errorf("unexpected reply %q", reply)
	}
	return err
}

// command speaks just enough RESP to control the server without a client
// library, so the stack controller has no Redis dependency of its own.
func (r *Redis) command(args ...string) ([]byte, error) {
	conn, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", r.Port), time.Second)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	if _, err := conn.Write([]byte(b.String())); err != nil {
		return nil, err
	}
	// Replies here are short (a status, or CONFIG GET's two strings); one
	// read of up to 4 KiB gets them whole on loopback.
	buf := make([]byte, 4096)
	n, err := conn.Read(buf)
	return buf[:n], err
}

// waitFor polls with a deadline instead of sleeping a guessed time.
func (r *Redis) waitFor(ok func() bool, what string) error {
	deadline := time.Now().Add(30 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: timed out (see %s)", what, filepath.Join(r.Dir, "redis.log"))
		}
		time.Sleep(20 * time.Millisecond)
	}
	return nil
}
