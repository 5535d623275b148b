//go:build linux

package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
)

// vmHWM is the peak resident set size of a live process, in KiB, from
// /proc/<pid>/status. VmHWM is the kernel's high-water mark of VmRSS, so
// one read after the last invocation covers the whole run: no sampling
// while it runs, and no peak between samples missed.
func vmHWM(pid int) (int64, error) {
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	return parseVmHWM(status)
}

// parseVmHWM reads the line "VmHWM:	   12345 kB"; the kernel's kB are KiB.
func parseVmHWM(status []byte) (int64, error) {
	for line := range bytes.Lines(status) {
		value, ok := bytes.CutPrefix(line, []byte("VmHWM:"))
		if !ok {
			continue
		}
		fields := bytes.Fields(value)
		if len(fields) != 2 || string(fields[1]) != "kB" {
			return 0, fmt.Errorf("malformed VmHWM line %q", bytes.TrimSpace(line))
		}
		kib, err := strconv.ParseInt(string(fields[0]), 10, 64)
		if err != nil || kib < 0 {
			return 0, fmt.Errorf("malformed VmHWM line %q", bytes.TrimSpace(line))
		}
		return kib, nil
	}
	// Kernel threads and zombies have no memory lines.
	return 0, errors.New("no VmHWM line in /proc status")
}
