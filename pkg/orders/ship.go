package orders

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/wa-shop/shop/pkg/outbox"
	"github.com/wa-shop/shop/pkg/whatsapp"
)

// Fulfilment statuses (DESIGN "Contracts"): unfulfilled → shipped →
// delivered, forward only.
const (
	FulfilmentUnfulfilled = "unfulfilled"
	FulfilmentShipped     = "shipped"
	FulfilmentDelivered   = "delivered"
)

// KindShippingUpdate is the outbox kind of the shipping_update template:
// one per order, like every kind.
const KindShippingUpdate = "shipping_update"

var (
	// ErrNotFound: no order has this id.
	ErrNotFound = errors.New("orders: no such order")
	// ErrNotShippable: only a paid order can be shipped.
	ErrNotShippable = errors.New("orders: the order is not paid, so it cannot be shipped")
	// ErrAlreadyShipped: the order went out with another tracking reference.
	ErrAlreadyShipped = errors.New("orders: the order was already shipped with another tracking reference")
	// ErrNotShipped: only a shipped order can be delivered.
	ErrNotShipped = errors.New("orders: the order has not been shipped")
)

// maxShipmentField bounds a tracking reference or carrier: both end up in a
// template parameter, and carriers' references are far shorter.
const maxShipmentField = 100

// Shipment is how an order went out, as orders.metadata keeps it under
// "shipment".
type Shipment struct {
	OrderID     uuid.UUID `json:"-"`
	Status      string    `json:"-"` // the order's payment status
	Fulfilment  string    `json:"-"` // unfulfilled, shipped or delivered
	TrackingRef string    `json:"tracking_ref"`
	Carrier     string    `json:"carrier"`
	ShippedAt   time.Time `json:"shipped_at"`
	DeliveredAt time.Time `json:"delivered_at,omitzero"`
}

// MarkShipped moves a paid, unfulfilled order to shipped, keeps the tracking
// reference and carrier, and sends the customer the shipping_update
// template. The change and the message commit in one transaction
// (invariant 5); the message is sent after commit, and cleanup retries it if
// that fails.
//
// It is idempotent per tracking reference: marking a shipped (or delivered)
// order again with the same reference changes nothing and returns the
// order; another reference is ErrAlreadyShipped. An order that is not paid
// is ErrNotShippable, an unknown one ErrNotFound, a blank or overlong
// reference ErrInvalid. The carrier may be empty.
//
// It uses only DB, Outbox, Now, Templates and Log, so an operator tool can
// build a Service without Redis or Stripe.
func (s *Service) MarkShipped(ctx context.Context, orderID uuid.UUID, trackingRef, carrier string) (*Order, error) {
	trackingRef, carrier = oneLine(trackingRef), oneLine(carrier)
	if err := checkShipment(trackingRef, carrier); err != nil {
		return nil, err
	}
	if s.Templates.Shipping == "" {
		return nil, errors.New("orders: no shipping update template is configured (SHIPPING_UPDATE_TEMPLATE)")
	}
	sh := Shipment{TrackingRef: trackingRef, Carrier: carrier, ShippedAt: s.Now().UTC().Truncate(time.Second)}
	var o *Order
	var queued uuid.UUID
	err := pgx.BeginFunc(ctx, s.DB, func(tx pgx.Tx) error {
		// Conditional and forward-only: a concurrent copy waits for this row,
		// then matches nothing and is classified below.
		tag, err := tx.Exec(ctx, `UPDATE orders SET fulfillment_status = 'shipped',
			metadata = metadata || jsonb_build_object('shipment', jsonb_build_object(
				'tracking_ref', $2::text, 'carrier', $3::text, 'shipped_at', $4::text)),
			updated_at = now()
			WHERE id = $1 AND status = 'paid' AND fulfillment_status = 'unfulfilled'`,
			orderID, sh.TrackingRef, sh.Carrier, sh.ShippedAt.Format(time.RFC3339))
		if err != nil || tag.RowsAffected() == 0 {
			return err
		}
		if o, err = get(ctx, tx, orderID); err != nil {
			return err
		}
		if o.WaID != "" {
			queued, err = outbox.Enqueue(ctx, tx, s.shippingUpdate(o, sh))
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("mark order %s shipped: %w", orderID, err)
	}
	if o == nil {
		return s.alreadyShipped(ctx, orderID, trackingRef)
	}
	s.deliver(ctx, o, queued)
	return o, nil
}

// alreadyShipped explains why MarkShipped changed nothing: a repeat of the
// same shipment (answered with the order), or a reason to refuse.
func (s *Service) alreadyShipped(ctx context.Context, orderID uuid.UUID, trackingRef string) (*Order, error) {
	sh, err := s.Shipment(ctx, orderID)
	if err != nil {
		return nil, err
	}
	switch {
	case sh.Fulfilment == FulfilmentUnfulfilled:
		return nil, fmt.Errorf("%w (it is %s)", ErrNotShippable, sh.Status)
	case sh.TrackingRef != trackingRef:
		return nil, fmt.Errorf("%w (%q)", ErrAlreadyShipped, sh.TrackingRef)
	}
	return s.order(ctx, orderID)
}

// MarkDelivered moves a shipped order to delivered; it sends nothing.
// Delivering a delivered order again is a no-op; an order not shipped yet
// is ErrNotShipped, an unknown one ErrNotFound.
func (s *Service) MarkDelivered(ctx context.Context, orderID uuid.UUID) (*Order, error) {
	at := s.Now().UTC().Truncate(time.Second).Format(time.RFC3339)
	tag, err := s.DB.Exec(ctx, `UPDATE orders SET fulfillment_status = 'delivered',
		metadata = metadata || jsonb_build_object('shipment',
			COALESCE(metadata->'shipment', '{}') || jsonb_build_object('delivered_at', $2::text)),
		updated_at = now()
		WHERE id = $1 AND fulfillment_status = 'shipped'`, orderID, at)
	if err != nil {
		return nil, fmt.Errorf("mark order %s delivered: %w", orderID, err)
	}
	if tag.RowsAffected() == 0 {
		sh, err := s.Shipment(ctx, orderID)
		if err != nil {
			return nil, err
		}
		if sh.Fulfilment != FulfilmentDelivered {
			return nil, fmt.Errorf("%w (it is %s)", ErrNotShipped, sh.Fulfilment)
		}
	}
	return s.order(ctx, orderID)
}

// Shipment reads an order's payment and fulfilment status and how it went
// out (zero fields while it is unfulfilled).
func (s *Service) Shipment(ctx context.Context, orderID uuid.UUID) (Shipment, error) {
	sh := Shipment{OrderID: orderID}
	var raw []byte
	err := s.DB.QueryRow(ctx, `SELECT status, fulfillment_status, COALESCE(metadata->'shipment', '{}')
		FROM orders WHERE id = $1`, orderID).Scan(&sh.Status, &sh.Fulfilment, &raw)
	if errors.Is(err, pgx.ErrNoRows) {
		return sh, fmt.Errorf("%w: %s", ErrNotFound, orderID)
	}
	if err != nil {
		return sh, fmt.Errorf("read shipment of order %s: %w", orderID, err)
	}
	if err := json.Unmarshal(raw, &sh); err != nil {
		return sh, fmt.Errorf("read shipment of order %s: %w", orderID, err)
	}
	return sh, nil
}

func (s *Service) order(ctx context.Context, id uuid.UUID) (*Order, error) {
	o, err := get(ctx, s.DB, id)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	if err != nil {
		return nil, fmt.Errorf("read order %s: %w", id, err)
	}
	return o, nil
}

// shippingUpdate is the shipping_update template: it reaches the customer
// outside WhatsApp's 24-hour window. Body parameters: name, order number,
// carrier, tracking reference (templates/whatsapp_templates.md).
func (s *Service) shippingUpdate(o *Order, sh Shipment) outbox.Message {
	name := oneLine(o.CustomerName)
	if name == "" {
		name = "there"
	}
	carrier := sh.Carrier
	if carrier == "" {
		// Meta refuses an empty parameter; the sentence still reads.
		carrier = "our courier"
	}
	id := o.ID
	return outbox.Message{OrderID: &id, Kind: KindShippingUpdate, Recipient: o.WaID,
		Payload: whatsapp.Template(s.Templates.Shipping, s.Templates.Language,
			name, ShortID(o.ID.String()), carrier, sh.TrackingRef)}
}

func checkShipment(trackingRef, carrier string) error {
	switch {
	case trackingRef == "":
		return invalid("a tracking reference is required")
	case utf8.RuneCountInString(trackingRef) > maxShipmentField:
		return invalid("the tracking reference is longer than %d characters", maxShipmentField)
	case utf8.RuneCountInString(carrier) > maxShipmentField:
		return invalid("the carrier is longer than %d characters", maxShipmentField)
	}
	return nil
}

// oneLine trims s and collapses every run of whitespace (and drops control
// characters): Meta refuses a template parameter holding a newline, a tab
// or more than four spaces in a row.
func oneLine(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) && !unicode.IsSpace(r) {
			return -1
		}
		return r
	}, s)
	return strings.Join(strings.Fields(s), " ")
}
