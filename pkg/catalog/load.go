package catalog

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
)

const (
	// MaxFeedBytes bounds a feed. A small shop's feed is kilobytes; the cap
	// keeps a wrong URL (a video, a database dump) from filling memory.
	MaxFeedBytes = 50 << 20
	// fetchTimeout covers the whole download, body included.
	fetchTimeout = 30 * time.Second
)

var feedClient = &http.Client{Timeout: fetchTimeout}

// Load opens a feed: an http(s) URL is fetched, anything else is a local
// path. Reading more than MaxFeedBytes fails with ErrFeedTooLarge. The
// caller closes the reader.
func Load(ctx context.Context, source string) (io.ReadCloser, error) {
	return load(ctx, source, feedClient, MaxFeedBytes)
}

func load(ctx context.Context, source string, client *http.Client, limit int64) (io.ReadCloser, error) {
	if !isRemote(source) {
		f, err := os.Open(source)
		if err != nil {
			return nil, fmt.Errorf("open catalogue feed: %w", err)
		}
		return capped(f, limit), nil
	}
	shown := Redact(source)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, source, nil)
	if err != nil {
		return nil, fmt.Errorf("catalogue feed %s: %w", shown, err)
	}
	req.Header.Set("Accept", "text/csv, text/plain;q=0.9, */*;q=0.1")
	req.Header.Set("User-Agent", "wa-shop-catalog-import")
	resp, err := client.Do(req)
	if err != nil {
		// net/http quotes the full URL, query string and all; ours does not.
		return nil, fmt.Errorf("fetch catalogue feed %s: %w", shown, unwrapURLError(err))
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		resp.Body.Close()
		return nil, fmt.Errorf("fetch catalogue feed %s: %s", shown, resp.Status)
	}
	return capped(resp.Body, limit), nil
}

// isRemote: only these two schemes are fetched; "C:\feed.csv" or a file
// named "feed:2026.csv" stays a path.
func isRemote(source string) bool {
	s := strings.ToLower(source)
	return strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://")
}

// Redact shows a feed URL without credentials or query string: a feed URL
// exported from a shop system often carries an access token.
func Redact(source string) string {
	if !isRemote(source) {
		return source
	}
	u, err := url.Parse(source)
	if err != nil {
		return "(malformed URL)"
	}
	return (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}).String()
}

func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// cappedReader fails once more than limit bytes have been read, instead of
// stopping quietly as io.LimitReader does.
type cappedReader struct {
	rc   io.ReadCloser
	left int64
}

func capped(rc io.ReadCloser, limit int64) io.ReadCloser {
	return &cappedReader{rc: rc, left: limit}
}

func (c *cappedReader) Read(p []byte) (int, error) {
	if c.left < 0 {
		return 0, ErrFeedTooLarge
	}
	// Ask for one byte more than allowed, to tell "exactly at the limit"
	// from "over it".
	if int64(len(p)) > c.left+1 {
		p = p[:c.left+1]
	}
	n, err := c.rc.Read(p)
	c.left -= int64(n)
	if c.left < 0 {
		return n + int(c.left), ErrFeedTooLarge
	}
	return n, err
}

func (c *cappedReader) Close() error { return c.rc.Close() }
