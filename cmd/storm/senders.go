package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/stripe/stripe-go/v79/webhook"

	"github.com/wa-shop/shop/pkg/whatsapp"
)

// sender delivers signed webhooks as Meta and Stripe do: any answer but a
// 2xx, or no answer, is tried again with backoff until it is accepted or
// the scenario's time is up.
type sender struct {
	client *http.Client
	mu     sync.Mutex
	posts  int
	status map[string]int // answers other than 2xx, by status or error
}

func newSender(concurrency int) *sender {
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.MaxIdleConnsPerHost = 4 * concurrency // copies in flight at once
	return &sender{client: &http.Client{Transport: transport, Timeout: 30 * time.Second}, status: map[string]int{}}
}

// whatsapp delivers a notification to the webhook, signed with the app secret.
func (s *sender) whatsapp(ctx context.Context, url string, body []byte) error {
	return s.deliver(ctx, url, func() (*http.Request, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
		if err == nil {
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set(whatsapp.SignatureHeader, whatsapp.SignatureHeaderValue(body, appSecret))
		}
		return req, err
	})
}

// stripe delivers an event to payment-callback, signed afresh each time as
// Stripe signs each attempt.
func (s *sender) stripe(ctx context.Context, url string, event []byte) error {
	return s.deliver(ctx, url, func() (*http.Request, error) {
		signed := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: event, Secret: webhookSecret, Timestamp: time.Now()})
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(signed.Payload))
		if err == nil {
			req.Header.Set("Content-Type", "application/json; charset=utf-8")
			req.Header.Set("Stripe-Signature", signed.Header)
		}
		return req, err
	})
}

func (s *sender) deliver(ctx context.Context, url string, request func() (*http.Request, error)) error {
	wait := 20 * time.Millisecond
	for {
		req, err := request()
		if err != nil {
			return err
		}
		resp, err := s.client.Do(req)
		outcome := ""
		if err != nil {
			outcome = "no answer"
		} else {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode/100 != 2 {
				outcome = fmt.Sprint(resp.StatusCode)
			}
		}
		s.count(outcome)
		if outcome == "" {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s never accepted (last answer: %s): %w", url, outcome, ctx.Err())
		case <-time.After(wait + rand.N(wait)):
		}
		wait = min(2*wait, time.Second)
	}
}

func (s *sender) count(outcome string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.posts++
	if outcome != "" {
		s.status[outcome]++
	}
}

// summary is "12034 posts, refused: 503×120, 500×3".
func (s *sender) summary() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.status) == 0 {
		return fmt.Sprintf("%d posts, all accepted first time", s.posts)
	}
	var parts []string
	for k, n := range s.status {
		parts = append(parts, fmt.Sprintf("%s×%d", k, n))
	}
	sort.Strings(parts)
	return fmt.Sprintf("%d posts, retried after: %s", s.posts, strings.Join(parts, ", "))
}

// control calls a stand-in's control API: POST with in as JSON (none when
// nil), or GET when in is the getRequest marker; the answer decodes into out.
func control(ctx context.Context, url string, in, out any) error {
	method, body := http.MethodPost, []byte(nil)
	switch in := in.(type) {
	case nil:
	case getRequest:
		method = http.MethodGet
	default:
		var err error
		if body, err = json.Marshal(in); err != nil {
			return err
		}
	}
	req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		return &controlError{status: resp.StatusCode, body: strings.TrimSpace(string(raw))}
	}
	if out == nil || len(raw) == 0 {
		return nil
	}
	return json.Unmarshal(raw, out)
}

type getRequest struct{}

type controlError struct {
	status int
	body   string
}

func (e *controlError) Error() string {
	return fmt.Sprintf("control API answered %d: %s", e.status, e.body)
}
