// Command mark-shipped marks a paid order shipped and sends the customer the
// shipping_update WhatsApp template with the tracking reference.
//
//	go run ./scripts/mark-shipped -order ORDER -tracking REF [-carrier NAME]
//
// ORDER is the order's id, or the 8-character order number the customer
// sees (the id's first 8 characters, any case); a number that matches more
// than one order is refused, and the matches are listed. It needs
// DATABASE_URL and the WhatsApp sending variables (WHATSAPP_PHONE_NUMBER_ID,
// WHATSAPP_ACCESS_TOKEN, optionally WHATSAPP_API_BASE_URL,
// SHIPPING_UPDATE_TEMPLATE, TEMPLATE_LANGUAGE); it touches neither Redis nor
// Stripe.
//
// Running it again with the same reference changes nothing and sends
// nothing; another reference is refused. If WhatsApp is unreachable the
// order is still marked shipped and the update waits in the outbox, where
// the cleanup run retries it.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/wa-shop/shop/pkg/app"
	"github.com/wa-shop/shop/pkg/config"
	"github.com/wa-shop/shop/pkg/orders"
	"github.com/wa-shop/shop/pkg/outbox"
	"github.com/wa-shop/shop/pkg/postgres"
	"github.com/wa-shop/shop/pkg/whatsapp"
)

// timeout bounds the whole run: a few queries and one send.
const timeout = time.Minute

func main() { app.Main("mark-shipped", run) }

// run is the whole command. What it did goes to stdout; logs (JSON) go to
// stderr.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("mark-shipped", flag.ContinueOnError)
	fs.SetOutput(stderr)
	orderRef := fs.String("order", "", "the order: its id, or its 8-character order number")
	tracking := fs.String("tracking", "", "the carrier's tracking reference")
	carrier := fs.String("carrier", "", "the carrier's name, as the customer knows it (optional)")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: mark-shipped -order ORDER -tracking REF [-carrier NAME]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 || *orderRef == "" || strings.TrimSpace(*tracking) == "" {
		fs.Usage()
		return errors.New("-order and -tracking are required, and nothing else")
	}

	var (
		db      config.Database
		wa      config.WhatsAppAPI
		logging config.Logging
	)
	if err := config.Load(&db, &wa, &logging); err != nil {
		return err
	}
	log := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: logging.SlogLevel()}))
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	pool, err := postgres.Open(ctx, db.URL)
	if err != nil {
		return err
	}
	defer pool.Close()
	svc := service(pool, wa, log)

	id, err := resolve(ctx, pool, *orderRef)
	if err != nil {
		return err
	}
	before, err := svc.Shipment(ctx, id)
	if err != nil {
		return err
	}
	o, err := svc.MarkShipped(ctx, id, *tracking, *carrier)
	if err != nil {
		return err
	}
	after, err := svc.Shipment(ctx, id)
	if err != nil {
		return err
	}
	name := fmt.Sprintf("Order %s (%s)", orders.ShortID(id.String()), id)
	if before.Fulfilment != orders.FulfilmentUnfulfilled {
		fmt.Fprintf(stdout, "%s was already %s with tracking %s on %s; nothing changed.\n",
			name, after.Fulfilment, after.TrackingRef, after.ShippedAt.Format("2006-01-02 15:04 MST"))
	} else {
		fmt.Fprintf(stdout, "%s is shipped: tracking %s%s.\n", name, after.TrackingRef, carrierText(after.Carrier))
	}
	return report(ctx, pool, o, stdout)
}

// service builds the part of orders.Service that shipping uses, the way
// pkg/app wires it: Postgres, the outbox and its WhatsApp sender.
func service(pool *pgxpool.Pool, wa config.WhatsAppAPI, log *slog.Logger) *orders.Service {
	sender := whatsapp.NewClient(whatsapp.ClientConfig{
		BaseURL: wa.BaseURL, Version: wa.Version, PhoneNumberID: wa.PhoneNumberID,
		AccessToken: wa.AccessToken, Log: log,
	})
	return &orders.Service{
		DB:     pool,
		Outbox: &outbox.Outbox{DB: pool, Sender: sender, Now: time.Now, Log: log},
		Now:    time.Now,
		Templates: orders.Templates{
			Confirmation: wa.OrderConfirmationTemplate,
			Shipping:     wa.ShippingUpdateTemplate,
			Language:     wa.TemplateLanguage,
		},
		Log: log,
	}
}

// shortRE is an id prefix: at least the 8 characters of an order number.
var shortRE = regexp.MustCompile(`^[0-9a-f][0-9a-f-]{7,35}$`)

// resolve turns an order id or order number into the order's id. A number
// that matches several orders is refused: shipping the wrong one would tell
// a stranger's customer their parcel is on its way.
func resolve(ctx context.Context, pool *pgxpool.Pool, ref string) (uuid.UUID, error) {
	ref = strings.ToLower(strings.TrimPrefix(strings.TrimSpace(ref), "#"))
	if id, err := uuid.Parse(ref); err == nil {
		return id, nil
	}
	if !shortRE.MatchString(ref) {
		return uuid.Nil, fmt.Errorf("-order %q is neither an order id nor an 8-character order number", ref)
	}
	rows, err := pool.Query(ctx, `SELECT id, status, fulfillment_status, created_at FROM orders
		WHERE id::text LIKE $1 || '%' ORDER BY created_at LIMIT 6`, ref)
	if err != nil {
		return uuid.Nil, fmt.Errorf("find order %s: %w", ref, err)
	}
	type match struct {
		id                 uuid.UUID
		status, fulfilment string
		created            time.Time
	}
	matches, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (m match, err error) {
		return m, r.Scan(&m.id, &m.status, &m.fulfilment, &m.created)
	})
	if err != nil {
		return uuid.Nil, fmt.Errorf("find order %s: %w", ref, err)
	}
	switch len(matches) {
	case 0:
		return uuid.Nil, fmt.Errorf("%w: no order number starts with %s", orders.ErrNotFound, strings.ToUpper(ref))
	case 1:
		return matches[0].id, nil
	}
	var b strings.Builder
	fmt.Fprintf(&b, "order number %s is ambiguous; name the order by its full id:", strings.ToUpper(ref))
	for i, m := range matches {
		if i == 5 {
			b.WriteString("\n  … and more")
			break
		}
		fmt.Fprintf(&b, "\n  %s  %s, %s, created %s", m.id, m.status, m.fulfilment, m.created.UTC().Format("2006-01-02 15:04 MST"))
	}
	return uuid.Nil, errors.New(b.String())
}

// report says what became of the customer's shipping update.
func report(ctx context.Context, pool *pgxpool.Pool, o *orders.Order, stdout io.Writer) error {
	var status, lastError string
	err := pool.QueryRow(ctx, `SELECT status, COALESCE(last_error, '') FROM outbox WHERE order_id = $1 AND kind = $2`,
		o.ID, orders.KindShippingUpdate).Scan(&status, &lastError)
	switch {
	case errors.Is(err, pgx.ErrNoRows) && o.WaID == "":
		fmt.Fprintln(stdout, "No shipping update: the order came from the shop front, not WhatsApp.")
	case errors.Is(err, pgx.ErrNoRows):
		fmt.Fprintln(stdout, "No shipping update is queued for this order.")
	case err != nil:
		return fmt.Errorf("the order is shipped, but its shipping update could not be checked: %w", err)
	case status == outbox.StatusPending:
		fmt.Fprintf(stdout, "Shipping update to %s queued, not sent yet (%s); the cleanup run retries it.\n", masked(o.WaID), lastError)
	case status == outbox.StatusFailed:
		fmt.Fprintf(stdout, "Shipping update to %s FAILED and will not be retried: %s\n", masked(o.WaID), lastError)
	default:
		fmt.Fprintf(stdout, "Shipping update %s to %s.\n", status, masked(o.WaID))
	}
	return nil
}

func carrierText(c string) string {
	if c == "" {
		return ""
	}
	return ", carrier " + c
}

// masked shows the end of a phone number, enough to tell customers apart.
func masked(waID string) string {
	if len(waID) <= 4 {
		return "the customer"
	}
	return "the customer's WhatsApp …" + waID[len(waID)-4:]
}
