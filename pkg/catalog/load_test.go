package catalog

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLoad(t *testing.T) {
	const feed = "id,title\nA,B\n"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/feed.csv":
			io.WriteString(w, feed)
		case "/big.csv":
			io.WriteString(w, strings.Repeat("x", 101))
		case "/slow.csv":
			time.Sleep(300 * time.Millisecond)
			io.WriteString(w, feed)
		default:
			http.Error(w, "no such feed", http.StatusNotFound)
		}
	}))
	defer srv.Close()
	path := filepath.Join(t.TempDir(), "feed.csv")
	if err := os.WriteFile(path, []byte(feed), 0o600); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(t.TempDir(), "big.csv")
	if err := os.WriteFile(big, []byte(strings.Repeat("x", 101)), 0o600); err != nil {
		t.Fatal(err)
	}
	exact := filepath.Join(t.TempDir(), "exact.csv")
	if err := os.WriteFile(exact, []byte(strings.Repeat("x", 100)), 0o600); err != nil {
		t.Fatal(err)
	}

	client := &http.Client{Timeout: 100 * time.Millisecond}
	tests := []struct {
		name    string
		source  string
		want    string
		wantErr string
	}{
		{name: "local file", source: path, want: feed},
		{name: "file at the limit", source: exact, want: strings.Repeat("x", 100)},
		{name: "file over the limit", source: big, wantErr: ErrFeedTooLarge.Error()},
		{name: "missing file", source: filepath.Join(t.TempDir(), "none.csv"), wantErr: "no such file"},
		{name: "URL", source: srv.URL + "/feed.csv", want: feed},
		{name: "URL over the limit", source: srv.URL + "/big.csv", wantErr: ErrFeedTooLarge.Error()},
		{name: "404, token kept out of the message", source: srv.URL + "/gone.csv?token=s3cret",
			wantErr: "fetch catalogue feed " + srv.URL + "/gone.csv: 404 Not Found"},
		{name: "timeout", source: srv.URL + "/slow.csv?token=s3cret", wantErr: "Client.Timeout exceeded"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := func() (string, error) {
				rc, err := load(t.Context(), tt.source, client, 100)
				if err != nil {
					return "", err
				}
				defer rc.Close()
				b, err := io.ReadAll(rc)
				return string(b), err
			}()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("load(%s) = %q, %v; want error containing %q", tt.source, got, err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "s3cret") {
					t.Errorf("error %q shows the URL's token", err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("load(%s) = %q, %v; want %q", tt.source, got, err, tt.want)
			}
		})
	}
}

func TestParseStopsAtTheSizeLimit(t *testing.T) {
	// A feed cut at the limit must not pass for a shorter, valid feed.
	feed := header + row("A", "1.00 USD", "", "", "1") + row("B", "1.00 USD", "", "", "1")
	rc := capped(io.NopCloser(strings.NewReader(feed)), int64(len(feed)-5))
	_, err := Parse(rc)
	if !errors.Is(err, ErrFeedTooLarge) {
		t.Errorf("Parse of an over-long feed = %v, want ErrFeedTooLarge", err)
	}
}

func TestRedact(t *testing.T) {
	tests := map[string]string{
		"https://user:pw@feeds.example.com/shop.csv?token=abc#x": "https://feeds.example.com/shop.csv",
		"HTTP://feeds.example.com/a.csv":                         "http://feeds.example.com/a.csv",
		"scripts/demo-catalog.csv":                               "scripts/demo-catalog.csv",
	}
	for in, want := range tests {
		if got := Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
}
