//go:build linux

package main

import (
	"encoding/json"
	"fmt"
	"maps"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/uuid"
	"github.com/stripe/stripe-go/v79"
	"github.com/stripe/stripe-go/v79/webhook"

	"github.com/wa-shop/shop/pkg/whatsapp"
)

// source makes a load run's events for one function: each signed as its
// provider signs it and new to the shop, so each does the function's real
// work rather than being turned away as a forgery or a duplicate.
type source struct {
	// event is the i-th event, made just before it is sent: Stripe refuses
	// a signature older than five minutes.
	event func(i int) ([]byte, error)
	// replies is how many messages each event makes the function send
	// through the Graph API.
	replies int
}

// sourceFor reads the secrets from the function's own -env, so the events
// are signed with what the function checks them against. run keeps the ids
// of one run apart from an earlier run's on the same database: the shop
// would answer a message id it has seen with nothing.
func sourceFor(name string, env []string, run int64) (source, error) {
	switch name {
	case "webhook":
		secret, phoneID := envValue(env, "WHATSAPP_APP_SECRET"), envValue(env, "WHATSAPP_PHONE_NUMBER_ID")
		if secret == "" || phoneID == "" {
			return source{}, fmt.Errorf("%s events need -env WHATSAPP_APP_SECRET and WHATSAPP_PHONE_NUMBER_ID", name)
		}
		return source{replies: 1, event: func(i int) ([]byte, error) {
			return whatsappText(run, i, secret, phoneID, time.Now())
		}}, nil
	case "payment-callback":
		secret := envValue(env, "STRIPE_WEBHOOK_SECRET")
		if secret == "" {
			return source{}, fmt.Errorf("%s events need -env STRIPE_WEBHOOK_SECRET", name)
		}
		return source{event: func(i int) ([]byte, error) {
			return stripeCompleted(run, i, secret, time.Now())
		}}, nil
	}
	return source{}, fmt.Errorf("%s: -load has events for webhook and payment-callback only", name)
}

// whatsappText is Meta's notification of a text "hi" from customer i of
// run, shaped as pkg/whatsapp/testdata/inbound/text.json: the shop claims
// it, answers with the catalogue from Postgres and records it.
func whatsappText(run int64, i int, secret, phoneID string, now time.Time) ([]byte, error) {
	from := fmt.Sprintf("1%06d%06d", run, i)
	body, err := json.Marshal(map[string]any{
		"object": "whatsapp_business_account",
		"entry": []any{map[string]any{"id": "102290129340398", "changes": []any{map[string]any{
			"field": "messages",
			"value": map[string]any{
				"messaging_product": "whatsapp",
				"metadata":          map[string]any{"display_phone_number": "15550783881", "phone_number_id": phoneID},
				"contacts":          []any{map[string]any{"profile": map[string]any{"name": "Customer " + strconv.Itoa(i)}, "wa_id": from}},
				"messages": []any{map[string]any{"from": from, "id": fmt.Sprintf("wamid.load%06d%06d", run, i),
					"timestamp": strconv.FormatInt(now.Unix(), 10), "type": "text", "text": map[string]any{"body": "hi"}}},
			},
		}}}},
	})
	if err != nil {
		return nil, err
	}
	return gatewayEvent("webhook", body, map[string]string{
		"user-agent":   "facebookexternalua",
		"content-type": "application/json",
		strings.ToLower(whatsapp.SignatureHeader): whatsapp.SignatureHeaderValue(body, secret),
	})
}

// stripeCompleted is Stripe's checkout.session.completed, paid, for an
// order this shop does not have (the load run creates none): the function
// verifies it, claims it in Redis, looks the order up in Postgres and
// records the event as done, but sends nothing.
func stripeCompleted(run int64, i int, secret string, now time.Time) ([]byte, error) {
	id := fmt.Sprintf("%06d%06d", run, i)
	order := uuid.NewString()
	body, err := json.Marshal(map[string]any{
		"id": "evt_load" + id, "object": "event", "api_version": stripe.APIVersion,
		"created": now.Unix(), "livemode": false, "pending_webhooks": 1, "type": "checkout.session.completed",
		"data": map[string]any{"object": map[string]any{
			"id": "cs_test_load" + id, "object": "checkout.session", "mode": "payment", "status": "complete",
			"client_reference_id": order, "metadata": map[string]string{"order_id": order},
			"payment_status": "paid", "payment_intent": "pi_load" + id, "amount_total": 1500, "currency": "usd",
		}},
	})
	if err != nil {
		return nil, err
	}
	signed := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: body, Secret: secret, Timestamp: now})
	return gatewayEvent("payment-callback", body, map[string]string{
		"user-agent":       "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
		"content-type":     "application/json; charset=utf-8",
		"stripe-signature": signed.Header,
	})
}

// gatewayEvent wraps a POST body as Netlify hands it to a Go function (see
// pkg/lambdahttp/testdata/README.md): lower-case headers in both maps, and
// the body as text, its type being JSON.
func gatewayEvent(function string, body []byte, headers map[string]string) ([]byte, error) {
	h := map[string]string{
		"host": "wa-shop.netlify.app", "accept": "*/*", "accept-encoding": "deflate, gzip",
		"content-length": strconv.Itoa(len(body)), "client-ip": "203.0.113.7",
		"x-forwarded-for": "203.0.113.7", "x-nf-client-connection-ip": "203.0.113.7",
	}
	maps.Copy(h, headers)
	multi := make(map[string][]string, len(h))
	for k, v := range h {
		multi[k] = []string{v}
	}
	return json.Marshal(events.APIGatewayProxyRequest{
		Path:                            "/.netlify/functions/" + function,
		HTTPMethod:                      "POST",
		Headers:                         h,
		MultiValueHeaders:               multi,
		QueryStringParameters:           map[string]string{},
		MultiValueQueryStringParameters: map[string][]string{},
		Body:                            string(body),
		RequestContext:                  events.APIGatewayProxyRequestContext{HTTPMethod: "POST"},
	})
}

// envValue is key's value in env as exec would set it: the last one wins.
func envValue(env []string, key string) string {
	value := ""
	for _, kv := range env {
		if k, v, _ := strings.Cut(kv, "="); k == key {
			value = v
		}
	}
	return value
}
