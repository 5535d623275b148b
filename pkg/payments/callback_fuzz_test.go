package payments

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stripe/stripe-go/v79"
	"github.com/stripe/stripe-go/v79/webhook"

	"github.com/wa-shop/shop/pkg/claim"
	"github.com/wa-shop/shop/pkg/testenv"
)

const fuzzSecret = "whsec_fuzz"

// applied records what the callback hands on.
type applied struct{ events []Event }

func (a *applied) Apply(_ context.Context, e Event) error {
	a.events = append(a.events, e)
	return nil
}

// Applied: each input starts afresh (its claims flushed), nothing is done.
func (a *applied) Applied(context.Context, string) (bool, error) { return false, nil }

// FuzzCallback sends the payment-callback endpoint a body four ways: with
// the fuzzer's own Stripe-Signature, signed now with our secret, signed and
// then changed in one byte, and signed too long ago (or with another
// secret). Only the second may get past the check: it is answered 200, and
// an event the shop acts on is applied exactly once, as readEvent reads it;
// a signed body that is no event is 400. Everything else is 400 (413 over
// 1 MB) and applies nothing.
func FuzzCallback(f *testing.F) {
	for _, s := range eventSeeds {
		f.Add([]byte(s), "", uint16(0))
	}
	f.Add([]byte(eventSeeds[0]), "t=1795800000,v1=5257a869e7ecebeda32affa62cdca3fa51cad7e77a0e56ff536d0ce8e108d8bd", uint16(17))
	f.Add([]byte(eventSeeds[3]), "t=1795800000,v0=00,v1=zz,v1=", uint16(3))
	f.Add([]byte(`not json`), "v1=00", uint16(1))
	f.Add([]byte{}, "t=,v1=", uint16(0))

	rdb := testenv.Redis(f)
	got := &applied{}
	h := NewCallback(fuzzSecret, got, claim.New(rdb, 0), slog.New(slog.DiscardHandler))
	post := func(t *testing.T, body []byte, signature string) int {
		t.Helper()
		got.events = nil
		req := httptest.NewRequest(http.MethodPost, "/payment-callback", bytes.NewReader(body))
		req.Header.Set("Stripe-Signature", signature)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code
	}
	refused := func(t *testing.T, how string, body []byte, status int) {
		t.Helper()
		want := http.StatusBadRequest
		if len(body) > maxEventBytes {
			want = http.StatusRequestEntityTooLarge
		}
		if status != want || len(got.events) > 0 {
			t.Fatalf("%s: status %d, applied %d events; want %d and none", how, status, len(got.events), want)
		}
	}

	f.Fuzz(func(t *testing.T, body []byte, signature string, at uint16) {
		// A claim outlives success; inputs sharing an event id are each new.
		if err := rdb.FlushDB(t.Context()).Err(); err != nil {
			t.Fatal(err)
		}
		now := time.Now()
		refused(t, "the fuzzer's signature", body, post(t, body, signature))

		signed := sign(body, fuzzSecret, now)
		status := post(t, body, signed)
		if len(body) > maxEventBytes {
			refused(t, "signed, over 1 MB", body, status)
			return
		}
		var se stripe.Event
		if json.Unmarshal(body, &se) != nil {
			refused(t, "signed, not an event", body, status)
		} else {
			var want []Event
			if e, err := readEvent(se); err == nil && handled(e.Type) {
				want = []Event{e}
			}
			if status != http.StatusOK {
				t.Fatalf("signed: status %d, want 200", status)
			}
			if diff := cmp.Diff(want, got.events); diff != "" {
				t.Fatalf("signed: applied (-want +got):\n%s", diff)
			}
		}

		changed := append([]byte{}, body...)
		if len(changed) == 0 {
			changed = append(changed, '{')
		} else {
			changed[int(at)%len(changed)] ^= byte(at>>8) | 1
		}
		refused(t, "signed, then one byte changed", changed, post(t, changed, signed))
		refused(t, "signed 301 s ago", body, post(t, body, sign(body, fuzzSecret, now.Add(-301*time.Second))))
		refused(t, "signed with another secret", body, post(t, body, sign(body, "whsec_other", now)))
	})
}

func sign(body []byte, secret string, at time.Time) string {
	return webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: body, Secret: secret, Timestamp: at}).Header
}
