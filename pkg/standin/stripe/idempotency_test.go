package stripe

import (
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	stripego "github.com/stripe/stripe-go/v79"
)

func TestIdempotentRetryReplaysTheFirstAnswer(t *testing.T) {
	f := newFixture(t)
	p := sessionParams(f.clock.Now())
	p.SetIdempotencyKey("order-1-checkout")

	first, err := f.api.CheckoutSessions.New(p)
	if err != nil {
		t.Fatal(err)
	}
	second, err := f.api.CheckoutSessions.New(p)
	if err != nil {
		t.Fatal(err)
	}

	if second.ID != first.ID {
		t.Errorf("retry created %s, want the first session %s", second.ID, first.ID)
	}
	if got := second.LastResponse.Header.Get("Idempotent-Replayed"); got != "true" {
		t.Errorf("Idempotent-Replayed = %q, want true", got)
	}
	if got := first.LastResponse.Header.Get("Idempotent-Replayed"); got != "" {
		t.Errorf("first answer Idempotent-Replayed = %q, want none", got)
	}
	if n := len(f.s.Sessions()); n != 1 {
		t.Errorf("%d sessions, want 1", n)
	}
}

func TestIdempotencyKeyReusedForAnotherRequest(t *testing.T) {
	f := newFixture(t)
	p := sessionParams(f.clock.Now())
	p.SetIdempotencyKey("k1")
	sess, err := f.api.CheckoutSessions.New(p)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("other parameters", func(t *testing.T) {
		other := sessionParams(f.clock.Now())
		other.ClientReferenceID = stripego.String("order-2")
		other.SetIdempotencyKey("k1")
		_, err := f.api.CheckoutSessions.New(other)
		want := stripeErr{Status: 400, Type: stripego.ErrorTypeIdempotency,
			Msg: "Keys for idempotent requests can only be used with the same parameters they were first used with. " +
				"Try using a key other than 'k1' if you meant to execute a different request."}
		if diff := cmp.Diff(want, errOf(t, err)); diff != "" {
			t.Errorf("error (-want +got):\n%s", diff)
		}
	})

	t.Run("other endpoint", func(t *testing.T) {
		ep := &stripego.CheckoutSessionExpireParams{}
		ep.SetIdempotencyKey("k1")
		_, err := f.api.CheckoutSessions.Expire(sess.ID, ep)
		want := stripeErr{Status: 400, Type: stripego.ErrorTypeIdempotency,
			Msg: "Keys for idempotent requests can only be used for the same endpoint they were first used for " +
				"('/v1/checkout/sessions/" + sess.ID + "/expire' vs '/v1/checkout/sessions'). " +
				"Try using a key other than 'k1' if you meant to execute a different request."}
		if diff := cmp.Diff(want, errOf(t, err)); diff != "" {
			t.Errorf("error (-want +got):\n%s", diff)
		}
	})

	t.Run("after 24 hours the key is new", func(t *testing.T) {
		f.clock.Add(24 * time.Hour)
		other := sessionParams(f.clock.Now())
		other.SetIdempotencyKey("k1")
		got, err := f.api.CheckoutSessions.New(other)
		if err != nil {
			t.Fatal(err)
		}
		if got.ID == sess.ID {
			t.Errorf("got the old session back after the key's 24 hours")
		}
	})
}

func TestIdempotencySavesOnlyExecutedCalls(t *testing.T) {
	f := newFixture(t)

	t.Run("a validation error is not saved", func(t *testing.T) {
		bad := sessionParams(f.clock.Now())
		bad.ExpiresAt = stripego.Int64(f.clock.Now().Add(time.Minute).Unix())
		bad.SetIdempotencyKey("v1")
		if _, err := f.api.CheckoutSessions.New(bad); err == nil {
			t.Fatal("short expires_at accepted")
		}
		good := sessionParams(f.clock.Now())
		good.SetIdempotencyKey("v1")
		if _, err := f.api.CheckoutSessions.New(good); err != nil {
			t.Errorf("corrected retry with the same key: %v", err)
		}
	})

	t.Run("an executed error is replayed", func(t *testing.T) {
		sess, err := f.api.CheckoutSessions.New(sessionParams(f.clock.Now()))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.api.CheckoutSessions.Expire(sess.ID, nil); err != nil {
			t.Fatal(err)
		}
		// The first call with key e1 fails (not open); its retry replays that
		// answer, marked as a replay.
		for i := range 2 {
			resp, body := post(t, f.srv.URL+"/v1/checkout/sessions/"+sess.ID+"/expire", testKey, "e1", url.Values{})
			if got := rawErr(resp, body); got.Status != 400 {
				t.Errorf("call %d: status %d, want 400", i, got.Status)
			}
			if got, want := resp.Header.Get("Idempotent-Replayed"), map[int]string{0: "", 1: "true"}[i]; got != want {
				t.Errorf("call %d: Idempotent-Replayed = %q, want %q", i, got, want)
			}
		}
	})

	t.Run("an injected failure is not saved", func(t *testing.T) {
		f.s.Fail(Failure{Count: 1, Status: 500})
		p := sessionParams(f.clock.Now())
		p.SetIdempotencyKey("i1")
		_, err := f.api.CheckoutSessions.New(p)
		want := stripeErr{Status: 500, Type: stripego.ErrorTypeAPI, Msg: "An unknown error occurred"}
		if diff := cmp.Diff(want, errOf(t, err)); diff != "" {
			t.Errorf("injected failure (-want +got):\n%s", diff)
		}
		if _, err := f.api.CheckoutSessions.New(p); err != nil {
			t.Errorf("retry with the same key: %v", err)
		}
	})
}

// stripe-go retries a 5xx by itself with the same Idempotency-Key; the
// stand-in must let that retry through, as Stripe does.
func TestStripeGoRetriesThroughAnInjectedFailure(t *testing.T) {
	f := newFixture(t)
	if resp, body := control(t, f.srv.URL+"/_control/fail", `{"count": 1, "status": 503}`); resp.StatusCode != http.StatusOK {
		t.Fatalf("fail control = %d %v", resp.StatusCode, body)
	}
	if _, err := newClient(f.srv.URL, testKey, 1).CheckoutSessions.New(sessionParams(f.clock.Now())); err != nil {
		t.Fatalf("create with one retry: %v", err)
	}
	reqs := f.s.Requests()
	if len(reqs) != 2 {
		t.Fatalf("%d requests, want 2", len(reqs))
	}
	got := []any{reqs[0].Status, reqs[1].Status, reqs[0].IdempotencyKey == reqs[1].IdempotencyKey}
	if diff := cmp.Diff([]any{503, 200, true}, got); diff != "" {
		t.Errorf("statuses and same key (-want +got):\n%s", diff)
	}
}

func TestConcurrentCallsWithOneKeyCreateOneSession(t *testing.T) {
	f := newFixture(t)
	const n = 20
	ids := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			p := sessionParams(f.clock.Now()) // same parameters, own struct
			p.SetIdempotencyKey("storm")
			if sess, err := f.api.CheckoutSessions.New(p); err == nil {
				ids[i] = sess.ID
			}
		})
	}
	wg.Wait()
	for i, id := range ids {
		if id == "" || id != ids[0] {
			t.Errorf("call %d got session %q, want %q", i, id, ids[0])
		}
	}
	if got := len(f.s.Sessions()); got != 1 {
		t.Errorf("%d sessions, want 1", got)
	}
}
