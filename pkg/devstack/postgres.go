package devstack

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
)

// Postgres is a private cluster listening on 127.0.0.1 only.
type Postgres struct {
	DataDir string `json:"data_dir"`
	Port    int    `json:"port"`
	// OSUser runs the server: initdb refuses root.
	OSUser string `json:"os_user,omitempty"`
}

// Database is the database the shop uses; tests make their own beside it.
const Database = "shop"

// URL connects as the cluster's superuser, over TCP, without a password
// (trust authentication on loopback).
func (p *Postgres) URL() string {
	return fmt.Sprintf("postgres://shop@127.0.0.1:%d/%s?sslmode=disable", p.Port, Database)
}

// Start initialises the cluster on first use and starts it.
func (p *Postgres) Start(stackDir string) error {
	bin, err := postgresBinDir()
	if err != nil {
		return err
	}
	if p.OSUser == "" && os.Geteuid() == 0 {
		if p.OSUser, err = unprivilegedUser(); err != nil {
			return err
		}
	}
	if p.DataDir == "" {
		if p.DataDir, err = dataDirFor(stackDir, p.OSUser); err != nil {
			return err
		}
	}
	if p.Port == 0 {
		if p.Port, err = freePort(); err != nil {
			return err
		}
	}
	if p.running(bin) {
		return nil
	}
	if _, err := os.Stat(filepath.Join(p.DataDir, "PG_VERSION")); err != nil {
		if err := p.initdb(bin); err != nil {
			return err
		}
	}
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200",
		p.Port, p.DataDir)
	logFile := filepath.Join(p.DataDir, "server.log")
	logged := fileSize(logFile)
	if err := p.run(filepath.Join(bin, "pg_ctl"), "-D", p.DataDir, "-l", logFile,
		"-o", opts, "-w", "-t", "60", "start"); err != nil {
		if loggedSince(logFile, logged, "Address already in use") {
			return fmt.Errorf("port %d: %w", p.Port, errPortTaken)
		}
		return fmt.Errorf("start (see %s): %w", logFile, err)
	}
	return p.createDatabase(bin)
}

// Stop shuts the server down fast; a stopped server is not an error.
func (p *Postgres) Stop() error {
	bin, err := postgresBinDir()
	if err != nil {
		return err
	}
	if !p.running(bin) {
		return nil
	}
	return p.run(filepath.Join(bin, "pg_ctl"), "-D", p.DataDir, "-m", "fast", "-w", "stop")
}

// Restart stops and starts the server, as a crash and recovery would.
func (p *Postgres) Restart() error {
	if err := p.Stop(); err != nil {
		return err
	}
	return p.Start(filepath.Dir(p.DataDir))
}

func (p *Postgres) running(bin string) bool {
	if p.DataDir == "" {
		return false
	}
	return p.run(filepath.Join(bin, "pg_ctl"), "-D", p.DataDir, "status") == nil
}

func (p *Postgres) initdb(bin string) error {
	if err := os.MkdirAll(p.DataDir, 0o700); err != nil {
		return err
	}
	if p.OSUser != "" {
		if err := exec.Command("chown", "-R", p.OSUser, p.DataDir).Run(); err != nil {
			return fmt.Errorf("chown %s: %w", p.DataDir, err)
		}
	}
	return p.run(filepath.Join(bin, "initdb"), "-D", p.DataDir, "-U", "shop", "--auth=trust",
		"-E", "UTF8", "--locale=C", "--no-sync")
}

func (p *Postgres) createDatabase(bin string) error {
	psql := []string{filepath.Join(bin, "psql"), "-h", "127.0.0.1", "-p", fmt.Sprint(p.Port), "-U", "shop", "-d", "postgres", "-tAc"}
	out, err := p.output(append(psql, "SELECT 1 FROM pg_database WHERE datname = '"+Database+"'")...)
	if err != nil || strings.TrimSpace(out) == "1" {
		return err
	}
	return p.run(append(psql, "CREATE DATABASE "+Database)...)
}

func (p *Postgres) run(args ...string) error {
	_, err := p.output(args...)
	return err
}

// output runs a Postgres tool (args[0]) as the cluster's owner.
func (p *Postgres) output(args ...string) (string, error) {
	tool := filepath.Base(args[0])
	if p.OSUser != "" {
		args = append([]string{"runuser", "-u", p.OSUser, "--"}, args...)
	}
	out, err := detached(exec.Command(args[0], args[1:]...)).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%s: %w: %s", tool, err, strings.TrimSpace(string(out)))
	}
	return string(out), nil
}

// postgresBinDir finds the server binaries: Debian keeps them off PATH.
func postgresBinDir() (string, error) {
	if path, err := exec.LookPath("pg_ctl"); err == nil {
		if real, err := filepath.EvalSymlinks(path); err == nil {
			return filepath.Dir(real), nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return versionOf(dirs[i]) > versionOf(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "pg_ctl")); err == nil {
			return d, nil
		}
	}
	return "", errors.New("no Postgres server binaries (pg_ctl) found: install the postgresql package")
}

func versionOf(binDir string) int {
	var v int
	fmt.Sscan(filepath.Base(filepath.Dir(binDir)), &v)
	return v
}
