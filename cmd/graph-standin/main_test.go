package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
)

// The dev scripts rely on the first line of stdout being the URL, and on a
// clean stop when the context ends.
func TestRunPrintsURLAndServesUntilCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	out, w := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-token", "EAAtest", "-phone-number-id", "123"}, func(string) string { return "" }, w)
	}()

	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	url := strings.TrimSpace(line)
	if !strings.HasPrefix(url, "http://127.0.0.1:") {
		t.Fatalf("first line = %q, want the URL", line)
	}
	resp, err := http.Get(url + "/_control/messages")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("control API = %d, want 200", resp.StatusCode)
	}

	cancel()
	if err := <-done; err != nil {
		t.Errorf("run = %v, want nil after cancel", err)
	}
}

func TestRunNeedsItsSettings(t *testing.T) {
	if err := run(t.Context(), nil, func(string) string { return "" }, io.Discard); err == nil {
		t.Error("run without settings = nil, want an error")
	}
}
