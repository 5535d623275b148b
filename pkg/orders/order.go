package orders

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Order statuses (DESIGN "Contracts"). Changes are conditional updates that
// only move forward.
const (
	StatusPendingPayment = "pending_payment"
	StatusProcessing     = "processing"
	StatusPaid           = "paid"
	StatusExpired        = "expired"
	StatusCancelled      = "cancelled"
	StatusPaymentFailed  = "payment_failed"
	StatusRefunded       = "refunded"
)

// Customer is who orders; WaID is empty for orders from a shop front.
type Customer struct {
	WaID   string `json:"wa_id"`
	Name   string `json:"name"`
	UserID string `json:"user_id,omitempty"` // WhatsApp's business-scoped user id
}

// Line asks for a quantity of one SKU.
type Line struct {
	SKU      string `json:"sku"`
	Quantity int    `json:"quantity"`
}

// Request is one order request. Key makes it idempotent: the same key always
// means the same order (a WhatsApp message id, or an Idempotency-Key header).
type Request struct {
	Customer Customer
	Lines    []Line
	Key      string
}

// Item is a line as sold: its price is copied from the catalogue when the
// order is made, never taken from the client.
type Item struct {
	SKU            string `json:"sku"`
	Title          string `json:"title"`
	Quantity       int    `json:"quantity"`
	UnitPriceMinor int64  `json:"unit_price_minor"`
}

// Order is a provisional or settled order.
type Order struct {
	ID             uuid.UUID
	CustomerID     uuid.UUID
	WaID           string // empty for shop-front customers
	CustomerName   string
	Key            string
	Status         string
	Items          []Item
	Currency       string
	TotalMinor     int64
	HoldExpiresAt  time.Time
	ReleaseAfter   time.Time
	CheckoutID     string
	CheckoutURL    string
	CheckoutExpiry time.Time
	Shortages      []Shortage // why a cancelled-for-stock order was refused
	CancelReason   string     // why a cancelled order was cancelled (replaced, out_of_stock, payment_refused…)
	RequestHash    string
}

// Shortage is a line that could not be held.
type Shortage struct {
	SKU       string `json:"sku"`
	Available int    `json:"available"`
	Wanted    int    `json:"wanted"`
}

var (
	// ErrInvalid: the request itself is wrong (quantities, currencies, key).
	ErrInvalid = errors.New("orders: invalid request")
	// ErrUnavailable: a dependency failed for now; retrying the same request
	// (same key) continues where it stopped.
	ErrUnavailable = errors.New("orders: temporarily unavailable")
	// ErrPreviousOrderPaying: the customer's previous order is being paid, so
	// it cannot be replaced yet.
	ErrPreviousOrderPaying = errors.New("orders: the previous order is being paid")
	// ErrKeyReused: an idempotency key came back with other contents.
	ErrKeyReused = errors.New("orders: idempotency key reused with a different request")
	// ErrPaymentRefused: the payment provider refused to create the session.
	ErrPaymentRefused = errors.New("orders: the payment provider refused the order")
)

// UnknownSKUError names the SKUs the catalogue does not know.
type UnknownSKUError struct{ SKUs []string }

func (e *UnknownSKUError) Error() string {
	return "orders: unknown SKU " + strings.Join(e.SKUs, ", ")
}

// OutOfStockError names every line that could not be held.
type OutOfStockError struct{ Lines []Shortage }

func (e *OutOfStockError) Error() string {
	parts := make([]string, len(e.Lines))
	for i, l := range e.Lines {
		parts[i] = fmt.Sprintf("%s (%d left, %d wanted)", l.SKU, l.Available, l.Wanted)
	}
	return "orders: out of stock: " + strings.Join(parts, ", ")
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

func unavailable(step string, err error) error {
	return fmt.Errorf("%w: %s: %w", ErrUnavailable, step, err)
}
