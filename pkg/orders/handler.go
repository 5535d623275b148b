package orders

import (
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/wa-shop/shop/pkg/catalog"
	"github.com/wa-shop/shop/pkg/httpx"
)

// Auth says who may create orders.
type Auth struct {
	// APIKey is ORDER_API_KEY, sent as `Authorization: Bearer …`.
	APIKey string
	// BackendSecret, on the dedicated backend, also admits requests signed
	// by create-order-proxy.
	BackendSecret string
	Now           func() time.Time
}

// allows checks the bearer key or the proxy's signature over body.
func (a Auth) allows(r *http.Request, body []byte) bool {
	if a.BackendSecret != "" && r.Header.Get(SignatureHeader) != "" {
		return VerifyBackendRequest(r.Header.Get("Idempotency-Key"), body, r.Header.Get(SignatureHeader), a.BackendSecret, a.Now()) == nil
	}
	key, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return ok && a.APIKey != "" && subtle.ConstantTimeCompare([]byte(key), []byte(a.APIKey)) == 1
}

type createBody struct {
	Customer Customer `json:"customer"`
	Items    []Line   `json:"items"`
}

// Answer is create-order's JSON reply.
type Answer struct {
	OrderID       string       `json:"order_id"`
	Status        string       `json:"status"`
	Total         AnswerAmount `json:"total"`
	CheckoutURL   string       `json:"checkout_url,omitempty"`
	ReservedUntil time.Time    `json:"reserved_until"`
}

// AnswerAmount is money in minor units, with a display form.
type AnswerAmount struct {
	Amount    int64  `json:"amount"`
	Currency  string `json:"currency"`
	Formatted string `json:"formatted"`
}

// NewHandler serves POST /create-order: it authenticates, reads the body and
// answers with the order, or with the status its failure deserves.
func NewHandler(svc *Service, auth Auth, log *slog.Logger) http.Handler {
	return httpx.Handle(log, func(w http.ResponseWriter, r *http.Request) error {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", "POST")
			return httpx.Errorf(http.StatusMethodNotAllowed, "method not allowed")
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRequestBytes))
		var tooLarge *http.MaxBytesError
		switch {
		case errors.As(err, &tooLarge):
			return httpx.Wrap(http.StatusRequestEntityTooLarge, "body too large", err)
		case err != nil:
			return httpx.Wrap(http.StatusBadRequest, "could not read the body", err)
		}
		if !auth.allows(r, body) {
			return httpx.Errorf(http.StatusUnauthorized, "missing or wrong credentials")
		}
		var in createBody
		dec := json.NewDecoder(bytes.NewReader(body))
		if err := dec.Decode(&in); err != nil {
			return httpx.Wrap(http.StatusBadRequest, "malformed JSON", err)
		}
		if _, err := dec.Token(); !errors.Is(err, io.EOF) {
			return httpx.Errorf(http.StatusBadRequest, "malformed JSON: data after the object")
		}
		key := r.Header.Get("Idempotency-Key")
		if key == "" {
			// Without a key a retry cannot be recognised; make one so the
			// caller can still retry with it.
			key = uuid.NewString()
		}
		w.Header().Set("Idempotency-Key", key)
		order, err := svc.Create(r.Context(), Request{Customer: in.Customer, Lines: in.Items, Key: "api:" + key})
		if err != nil {
			return answerError(w, err)
		}
		httpx.WriteJSON(w, http.StatusCreated, answer(order))
		return nil
	})
}

func answer(o *Order) Answer {
	return Answer{
		OrderID: o.ID.String(), Status: o.Status, CheckoutURL: o.CheckoutURL, ReservedUntil: o.HoldExpiresAt.UTC(),
		Total: AnswerAmount{Amount: o.TotalMinor, Currency: o.Currency,
			Formatted: catalog.Money{Minor: o.TotalMinor, Currency: o.Currency}.String()},
	}
}

// answerError maps order failures to statuses; the table is here, at the
// edge, and nowhere else.
func answerError(w http.ResponseWriter, err error) error {
	var short *OutOfStockError
	var unknown *UnknownSKUError
	switch {
	case errors.As(err, &short):
		httpx.WriteJSON(w, http.StatusConflict, map[string]any{"error": "out of stock", "short": short.Lines})
		return nil
	case errors.As(err, &unknown):
		httpx.WriteJSON(w, http.StatusUnprocessableEntity, map[string]any{"error": "unknown SKU", "unknown_skus": unknown.SKUs})
		return nil
	case errors.Is(err, ErrInvalid):
		return httpx.Wrap(http.StatusBadRequest, strings.TrimPrefix(err.Error(), ErrInvalid.Error()+": "), err)
	case errors.Is(err, ErrKeyReused):
		return httpx.Wrap(http.StatusBadRequest, "Idempotency-Key reused with a different request", err)
	case errors.Is(err, ErrPreviousOrderPaying):
		return httpx.Wrap(http.StatusConflict, "the customer's previous order is being paid; try again shortly", err)
	case errors.Is(err, ErrPaymentRefused):
		return httpx.Wrap(http.StatusBadGateway, "the payment provider refused the order", err)
	}
	w.Header().Set("Retry-After", "1")
	return httpx.Wrap(http.StatusServiceUnavailable, "temporarily unavailable, retry with the same Idempotency-Key", err)
}

// RequireKey guards a handler (the proxy) with the order API key before
// anything is forwarded.
func RequireKey(apiKey string, log *slog.Logger, next http.Handler) http.Handler {
	auth := Auth{APIKey: apiKey}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !auth.allows(r, nil) {
			httpx.Handle(log, func(http.ResponseWriter, *http.Request) error {
				return httpx.Errorf(http.StatusUnauthorized, "missing or wrong credentials")
			}).ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}
