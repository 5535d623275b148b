package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// scenario is one storm: the rush, with duplicates and faults when its name
// asks for them.
type scenario struct {
	name   string
	opts   options
	st     *stack
	seed   int64
	dup    bool // every message and event delivered 2–5 times
	faulty bool // Redis, Postgres and the providers fail mid-run
	send   *sender
	skus   []string
	stock  map[string]int

	started atomic.Int64 // customers started, for the fault schedule
	mu      sync.Mutex
	rec     record
	late    []func(context.Context) // copies held back to arrive out of order
}

// record is what the senders did, for the checks.
type record struct {
	inbound  map[string]bool   // every distinct WhatsApp message id sent
	requests map[string]string // order request key → customer
	events   map[string]string // Stripe event id → type
	fates    map[uuid.UUID]string
	refused  int // order requests that made no order (no stock)
	faults   []string
}

func newScenario(name string, opts options, st *stack, seed int64) *scenario {
	return &scenario{
		name: name, opts: opts, st: st, seed: seed,
		dup: name != "rush", faulty: name == "faults",
		send: newSender(opts.concurrency),
		rec: record{inbound: map[string]bool{}, requests: map[string]string{}, events: map[string]string{},
			fates: map[uuid.UUID]string{}},
	}
}

func (sc *scenario) run(ctx context.Context, stdout io.Writer) (bool, error) {
	fmt.Fprintf(stdout, "\n== %s\n", sc.name)
	var err error
	if sc.skus, sc.stock, err = sc.st.reset(ctx, sc.opts.stock, sc.opts.skus); err != nil {
		return false, fmt.Errorf("reset the shop: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, sc.opts.timeout)
	defer cancel()
	start := time.Now()

	stopSchedule := sc.schedule(ctx, 2*time.Second)
	var faults sync.WaitGroup
	if sc.faulty {
		faults.Go(func() { sc.injectFaults(ctx) })
	}
	if err := sc.customers(ctx); err != nil {
		stopSchedule()
		return false, err
	}
	faults.Wait()
	if err := sc.deliverLate(ctx); err != nil {
		stopSchedule()
		return false, err
	}
	stopSchedule()
	sent := time.Since(start)
	runs, err := sc.cleanUntilQuiet(ctx)
	if err != nil {
		return false, err
	}
	sc.report(stdout, sent, runs)
	return sc.check(ctx, stdout)
}

// customers runs every customer, starting them at the set rate with at most
// the set number in flight.
func (sc *scenario) customers(ctx context.Context) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	slots := make(chan struct{}, sc.opts.concurrency)
	tick := time.NewTicker(time.Duration(float64(time.Second) / sc.opts.rate))
	defer tick.Stop()
	var wg sync.WaitGroup
	for i := range sc.opts.customers {
		select {
		case <-ctx.Done():
		case <-tick.C:
		}
		select {
		case <-ctx.Done():
		case slots <- struct{}{}:
		}
		if ctx.Err() != nil {
			break
		}
		sc.started.Add(1)
		wg.Go(func() {
			defer func() { <-slots }()
			if err := sc.customer(ctx, i); err != nil {
				cancel(fmt.Errorf("customer %d: %w", i, err))
			}
		})
	}
	wg.Wait()
	return context.Cause(ctx)
}

// customer asks for stock once; with an order made, they pay, cancel or let
// the session expire.
func (sc *scenario) customer(ctx context.Context, i int) error {
	rng := rand.New(rand.NewPCG(uint64(sc.seed), uint64(i)))
	from := fmt.Sprintf("4470%08d", i)
	id := fmt.Sprintf("wamid.storm-%s-%d-order", sc.name, i)
	sc.mu.Lock()
	sc.rec.requests["wa:"+id] = from
	sc.mu.Unlock()
	if err := sc.inbound(ctx, rng, from, orderRequest(rng, i, id, from, sc.skus)); err != nil {
		return err
	}
	order, session, err := sc.orderFor(ctx, "wa:"+id)
	if err != nil || order == uuid.Nil {
		return err
	}
	fate := sc.fate(rng)
	sc.mu.Lock()
	sc.rec.fates[order] = fate
	sc.mu.Unlock()
	switch fate {
	case "cancel":
		cancelID := fmt.Sprintf("wamid.storm-%s-%d-cancel", sc.name, i)
		return sc.inbound(ctx, rng, from, textMessage(cancelID, from, "cancel", time.Now()))
	case "pay later", "payment fails":
		// A delayed method: completed unpaid, then settled by a second event
		// (whose copies may overtake the first's).
		if err := sc.sessionAction(ctx, rng, session, "pay", delayed); err != nil {
			return err
		}
		action := "async-succeed"
		if fate == "payment fails" {
			action = "async-fail"
		}
		return sc.sessionAction(ctx, rng, session, action, nil)
	}
	return sc.sessionAction(ctx, rng, session, fate, nil)
}

var delayed = map[string]bool{"delayed": true}

// fate picks what the customer does with their order: of the payers, one
// in five pays by a delayed method, and one in three of those fails.
func (sc *scenario) fate(rng *rand.Rand) string {
	r := rng.Float64()
	switch {
	case r < sc.opts.pay*0.8:
		return "pay"
	case r < sc.opts.pay*(0.8+0.2*2/3):
		return "pay later"
	case r < sc.opts.pay:
		return "payment fails"
	case r < sc.opts.pay+sc.opts.cancel:
		return "cancel"
	}
	return "expire"
}

// copies is how many times Meta or Stripe delivers one thing.
func (sc *scenario) copies(rng *rand.Rand) int {
	if !sc.dup {
		return 1
	}
	return 2 + rng.IntN(4)
}

// inbound delivers one customer message: the copies at once, and with
// duplicates on, some held back to arrive after later messages.
func (sc *scenario) inbound(ctx context.Context, rng *rand.Rand, from string, message map[string]any) error {
	sc.mu.Lock()
	sc.rec.inbound[message["id"].(string)] = true
	sc.mu.Unlock()
	body := notification(from, message)
	url := sc.st.shopURL + "/.netlify/functions/webhook"
	return sc.deliver(ctx, rng, sc.copies(rng), 1, func(ctx context.Context) error { return sc.send.whatsapp(ctx, url, body) })
}

// deliver runs n copies of one delivery: at least least of them now, at
// once (the caller goes on when they were accepted), the others either
// with them or held back to arrive later.
func (sc *scenario) deliver(ctx context.Context, rng *rand.Rand, n, least int, post func(context.Context) error) error {
	now := least
	if n > least {
		now += rng.IntN(n - least + 1)
	}
	sc.mu.Lock()
	for range n - now {
		sc.late = append(sc.late, func(ctx context.Context) { _ = post(ctx) })
	}
	sc.mu.Unlock()
	errs := make([]error, now)
	var wg sync.WaitGroup
	for k := range now {
		wg.Go(func() { errs[k] = post(ctx) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// orderFor reads which order the request made, if any, retrying while
// Postgres restarts.
func (sc *scenario) orderFor(ctx context.Context, key string) (order uuid.UUID, session string, err error) {
	for wait := 20 * time.Millisecond; ; wait = min(2*wait, time.Second) {
		var status string
		err = sc.st.db.QueryRow(ctx, `SELECT id, status, COALESCE(checkout_session_id, '') FROM orders WHERE request_key = $1`, key).
			Scan(&order, &status, &session)
		switch {
		case errors.Is(err, pgx.ErrNoRows) || err == nil && (status != "pending_payment" || session == ""):
			sc.mu.Lock()
			sc.rec.refused++
			sc.mu.Unlock()
			return uuid.Nil, "", nil
		case err == nil:
			return order, session, nil
		}
		select {
		case <-ctx.Done():
			return uuid.Nil, "", fmt.Errorf("read order for %s: %w", key, err)
		case <-time.After(wait):
		}
	}
}

// sessionAction pays or expires a session through the Stripe stand-in,
// which sends the signed event; the event's other copies come from here.
func (sc *scenario) sessionAction(ctx context.Context, rng *rand.Rand, session, action string, options any) error {
	var res struct {
		Event         json.RawMessage `json:"event"`
		WebhookStatus int             `json:"webhook_status"`
	}
	if err := control(ctx, sc.st.stripeURL+"/_control/sessions/"+session+"/"+action, options, &res); err != nil {
		return fmt.Errorf("%s session: %w", action, err)
	}
	var event struct{ ID, Type string }
	if err := json.Unmarshal(res.Event, &event); err != nil {
		return fmt.Errorf("%s session: event: %w", action, err)
	}
	sc.mu.Lock()
	sc.rec.events[event.ID] = event.Type
	sc.mu.Unlock()
	url := sc.st.shopURL + "/.netlify/functions/payment-callback"
	post := func(ctx context.Context) error { return sc.send.stripe(ctx, url, res.Event) }
	if res.WebhookStatus/100 == 2 {
		// Delivered once already by the stand-in: only the other copies.
		return sc.deliver(ctx, rng, sc.copies(rng)-1, 0, post)
	}
	// Stripe retries an event the endpoint did not accept.
	return sc.deliver(ctx, rng, sc.copies(rng), 1, post)
}

// deliverLate sends the held-back copies in random order, after everything
// they were sent with: duplicates that arrive out of order.
func (sc *scenario) deliverLate(ctx context.Context) error {
	rng := rand.New(rand.NewPCG(uint64(sc.seed), 0xdead))
	rng.Shuffle(len(sc.late), func(i, j int) { sc.late[i], sc.late[j] = sc.late[j], sc.late[i] })
	slots := make(chan struct{}, sc.opts.concurrency)
	var wg sync.WaitGroup
	for _, post := range sc.late {
		slots <- struct{}{}
		wg.Go(func() {
			defer func() { <-slots }()
			post(ctx)
		})
	}
	wg.Wait()
	return ctx.Err()
}
