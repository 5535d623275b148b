package app

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"
	"github.com/stripe/stripe-go/v79/webhook"

	"github.com/wa-shop/shop/pkg/claim"
	"github.com/wa-shop/shop/pkg/lambdahttp"
	"github.com/wa-shop/shop/pkg/orders"
	"github.com/wa-shop/shop/pkg/whatsapp"
)

// Where a hostile request is sent.
type target int

const (
	// functions: the Netlify functions as the dev server mounts them
	// (cleanup does not trust the schedule header).
	functions target = iota
	// scheduled: the functions as their Lambda mains build them, where
	// cleanup accepts Netlify's scheduled invocation.
	scheduled
	// lambda: the functions as the Lambda mains serve them, behind the
	// Lambda adapter, given a raw event.
	lambda
	// backend: the dedicated backend.
	backend
	// proxy: create-order-proxy with BACKEND_MODE=proxy, forwarding to the
	// backend.
	proxy
)

// hostileShop is a shopEnv with every endpoint mounted as deployed.
type hostileShop struct {
	*shop
	handlers map[target]http.Handler
}

func newHostileShop(t *testing.T) *hostileShop {
	s := shopEnv(t)
	t.Setenv("WHATSAPP_CATALOG_ID", "1")
	log := slog.New(slog.DiscardHandler)
	h := &hostileShop{shop: s, handlers: map[target]http.Handler{}}
	for tg, trust := range map[target]bool{functions: false, scheduled: true} {
		routes, err := Routes(t.Context(), log, trust)
		if err != nil {
			t.Fatal(err)
		}
		h.handlers[tg] = routes
	}
	be, err := Backend(t.Context(), log)
	if err != nil {
		t.Fatal(err)
	}
	h.handlers[backend] = be
	srv := httptest.NewServer(be)
	t.Cleanup(srv.Close)
	t.Setenv("BACKEND_MODE", "proxy")
	t.Setenv("BACKEND_URL", srv.URL)
	px, err := CreateOrder(t.Context(), log)
	if err != nil {
		t.Fatal(err)
	}
	h.handlers[proxy] = px
	return h
}

// hostile is one request nobody legitimate sends, and its answer.
type hostile struct {
	name   string
	via    target
	method string
	path   string
	header http.Header
	body   []byte
	// signed adds Meta's signature of body.
	signed bool
	// event, for via == lambda, is sent as is.
	event *events.APIGatewayProxyRequest
	want  int
	// recorded is what an authentic but unservable message leaves behind.
	recorded recorded
}

// recorded is what the shop writes for an authentic message it cannot
// serve: the delivery is recorded as done (so it is not retried for a
// week) and, for a customer, answered in the chat. Nothing else changes.
type recorded struct {
	Messages, Events, Replies int
}

// TestHostileRequests sends every endpoint requests nobody legitimate
// sends. Each must get its documented answer and change nothing: no row in
// any table, no inventory key, no Stripe session, no message to anyone,
// beyond the record and the reply an authentic but unservable message gets.
func TestHostileRequests(t *testing.T) {
	h := newHostileShop(t)
	for _, tc := range hostileCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			before := h.state(t)
			if got := h.send(t, tc); got != tc.want {
				t.Errorf("status %d, want %d", got, tc.want)
			}
			want := before.plus(tc.recorded)
			if diff := cmp.Diff(want.comparable(), h.state(t).comparable()); diff != "" {
				t.Errorf("state changed (-want +got):\n%s", diff)
			}
		})
	}
}

func (h *hostileShop) send(t *testing.T, tc hostile) int {
	t.Helper()
	if tc.via == lambda {
		resp, err := lambdahttp.Handler(h.handlers[scheduled])(t.Context(), *tc.event)
		if err != nil {
			t.Fatalf("Lambda error: %v", err)
		}
		return resp.StatusCode
	}
	method := tc.method
	if method == "" {
		method = http.MethodPost
	}
	req := httptest.NewRequestWithContext(t.Context(), method, tc.path, bytes.NewReader(tc.body))
	for k, v := range tc.header {
		req.Header[k] = v
	}
	if tc.signed {
		req.Header.Set(whatsapp.SignatureHeader, whatsapp.SignatureHeaderValue(tc.body, "sec"))
	}
	rec := httptest.NewRecorder()
	h.handlers[tc.via].ServeHTTP(rec, req)
	return rec.Code
}

// shopState is everything a request could change.
type shopState struct {
	// Rows and Digest, per table: the count, and an md5 of every row, so an
	// UPDATE shows as well as an INSERT.
	Rows   map[string]int
	Digest map[string]string
	// Redis is every key (inventory, holds, claims) with its value.
	Redis    map[string]string
	Sent     int // messages to the Graph API
	Sessions int // Checkout sessions
	Requests int // calls to the Stripe API
}

var shopTables = []string{"products", "variants", "customers", "orders", "reservations",
	"processed_messages", "processed_events", "outbox"}

func (h *hostileShop) state(t *testing.T) shopState {
	t.Helper()
	ctx := t.Context()
	s := shopState{Rows: map[string]int{}, Digest: map[string]string{}, Redis: redisState(t, h.rdb),
		Sent: len(h.graph.Messages("")), Sessions: len(h.stripe.Sessions()), Requests: len(h.stripe.Requests())}
	for _, table := range shopTables {
		var n int
		var digest string
		err := h.db.QueryRow(ctx, fmt.Sprintf(
			`SELECT count(*), coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '') FROM %s t`, table)).Scan(&n, &digest)
		if err != nil {
			t.Fatalf("read %s: %v", table, err)
		}
		s.Rows[table], s.Digest[table] = n, digest
	}
	return s
}

// plus is s with what an unservable message may leave.
func (s shopState) plus(r recorded) shopState {
	s.Rows = maps.Clone(s.Rows)
	s.Rows["processed_messages"] += r.Messages
	s.Rows["processed_events"] += r.Events
	s.Sent += r.Replies
	return s
}

// comparable drops the digests of the tables a record may change: their
// row counts still say what was written.
func (s shopState) comparable() shopState {
	s.Digest = maps.Clone(s.Digest)
	delete(s.Digest, "processed_messages")
	delete(s.Digest, "processed_events")
	return s
}

func redisState(t *testing.T, rdb *redis.Client) map[string]string {
	t.Helper()
	ctx := t.Context()
	keys, err := rdb.Keys(ctx, "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, k := range keys {
		if strings.HasPrefix(k, "claim:") {
			// A claim kept after success is a lease that runs out by itself:
			// it must have its expiry, and is not state.
			if ttl := rdb.PTTL(ctx, k).Val(); ttl <= 0 || ttl > claim.DefaultLease {
				t.Errorf("claim %s expires in %v, want within %v", k, ttl, claim.DefaultLease)
			}
			continue
		}
		var v any
		switch rdb.Type(ctx, k).Val() {
		case "string":
			v = rdb.Get(ctx, k).Val()
		case "hash":
			v = rdb.HGetAll(ctx, k).Val()
		case "zset":
			v = rdb.ZRangeWithScores(ctx, k, 0, -1).Val()
		case "set":
			m := rdb.SMembers(ctx, k).Val()
			slices.Sort(m)
			v = m
		case "list":
			v = rdb.LRange(ctx, k, 0, -1).Val()
		default:
			v = "?"
		}
		out[k] = fmt.Sprint(v)
	}
	return out
}

// Bodies and credentials for the table.

const (
	webhookPath  = "/.netlify/functions/webhook"
	callbackPath = "/.netlify/functions/payment-callback"
	orderPath    = "/.netlify/functions/create-order-proxy"
	cleanupPath  = "/.netlify/functions/cleanup"
)

// waMessage is one inbound message object from Ada, sent now.
func waMessage(id, kind, content string) string {
	return fmt.Sprintf(`{"from":"15550001","id":%q,"timestamp":"%d","type":%q,%s}`, id, time.Now().Unix(), kind, content)
}

// cart is an order message from catalogue catalogID.
func cart(id, catalogID, items string) []byte {
	return notification("1", waMessage(id, "order", fmt.Sprintf(`"order":{"catalog_id":%q,"product_items":[%s]}`, catalogID, items)))
}

func metaSigned(body []byte) http.Header {
	return http.Header{whatsapp.SignatureHeader: {whatsapp.SignatureHeaderValue(body, "sec")}}
}

func stripeSigned(body []byte, secret string, at time.Time) http.Header {
	signed := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: body, Secret: secret, Timestamp: at})
	return http.Header{"Stripe-Signature": {signed.Header}, "Content-Type": {"application/json; charset=utf-8"}}
}

func bearer(key string) http.Header {
	return http.Header{"Authorization": {"Bearer " + key}, "Content-Type": {"application/json"}}
}

func backendSigned(body []byte, secret string, at time.Time) http.Header {
	return http.Header{orders.SignatureHeader: {orders.SignBackendRequest("", body, secret, at)}, "Content-Type": {"application/json"}}
}

func with(h http.Header, k, v string) http.Header {
	h = h.Clone()
	h.Set(k, v)
	return h
}

// incompressible is n random characters, which Postgres cannot shrink to
// fit an index row.
func incompressible(n int) string {
	var b strings.Builder
	for b.Len() < n {
		b.WriteString(rand.Text())
	}
	return b.String()[:n]
}

// deep nests n arrays: past encoding/json's depth limit of 10000.
func deep(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }

func orderBody(items string) []byte {
	return fmt.Appendf(nil, `{"customer":{"wa_id":"15550009","name":"Mallory"},"items":[%s]}`, items)
}

func stripeEvent(id, typ, object string) []byte {
	return fmt.Appendf(nil, `{"id":%q,"object":"event","api_version":"2024-06-20","created":%d,"type":%q,"data":{"object":%s}}`,
		id, time.Now().Unix(), typ, object)
}

func hostileCases(t *testing.T) []hostile {
	now := time.Now()
	hi := notification("1", waMessage("wamid.h1", "text", `"text":{"body":"buy TEE 1"}`))
	notJSON := []byte("object=whatsapp_business_account&entry=1")
	badUTF8 := []byte("{\"object\":\"whatsapp_business_account\",\"entry\":[\xff\xfe]}")
	nested := fmt.Appendf(nil, `{"object":"whatsapp_business_account","entry":%s}`, deep(10001))
	huge := bytes.Repeat([]byte("a"), whatsapp.MaxBodyBytes+1)
	event := stripeEvent("evt_h1", "checkout.session.completed",
		`{"id":"cs_test_h1","object":"checkout.session","client_reference_id":"00000000-0000-0000-0000-000000000001","payment_status":"paid"}`)
	order := orderBody(`{"sku":"TEE","quantity":1}`)
	sql := `x'; DROP TABLE orders;--`

	cases := []hostile{
		// WhatsApp webhook: 401 unsigned, 403 handshake, 413 over 3 MB,
		// 400 for signed bytes that are no notification.
		{name: "webhook/no signature", path: webhookPath, body: hi, want: 401},
		{name: "webhook/other secret", path: webhookPath, body: hi,
			header: http.Header{whatsapp.SignatureHeader: {whatsapp.SignatureHeaderValue(hi, "guess")}}, want: 401},
		{name: "webhook/signature of another body", path: webhookPath, body: append(bytes.Clone(hi), ' '), header: metaSigned(hi), want: 401},
		{name: "webhook/sha1 signature", path: webhookPath, body: hi,
			header: http.Header{whatsapp.SignatureHeader: {"sha1=" + strings.Repeat("0", 40)}}, want: 401},
		{name: "webhook/signature not hex", path: webhookPath, body: hi,
			header: http.Header{whatsapp.SignatureHeader: {"sha256=zz"}}, want: 401},
		{name: "webhook/over 3 MB", path: webhookPath, body: huge, header: metaSigned(huge), want: 413},
		{name: "webhook/over 3 MB unsigned", path: webhookPath, body: huge, want: 413},
		{name: "webhook/form body", path: webhookPath, body: notJSON,
			header: with(metaSigned(notJSON), "Content-Type", "application/x-www-form-urlencoded"), want: 400},
		{name: "webhook/invalid UTF-8", path: webhookPath, body: badUTF8, header: metaSigned(badUTF8), want: 400},
		{name: "webhook/invalid UTF-8 unsigned", path: webhookPath, body: badUTF8, want: 401},
		{name: "webhook/deeply nested", path: webhookPath, body: nested, header: metaSigned(nested), want: 400},
		{name: "webhook/wrong verify token", method: "GET",
			path: webhookPath + "?hub.mode=subscribe&hub.verify_token=guess&hub.challenge=1", want: 403},
		{name: "webhook/no verify token", method: "GET", path: webhookPath + "?hub.mode=subscribe&hub.challenge=1", want: 403},
		{name: "webhook/PUT", method: "PUT", path: webhookPath, body: hi, header: metaSigned(hi), want: 405},
		{name: "webhook/for another number", path: webhookPath, body: notification("999", waMessage("wamid.h2", "text", `"text":{"body":"buy TEE 1"}`)),
			signed: true, want: 200},
		// Authentic messages the shop cannot serve: recorded, answered in
		// the chat, nothing held or ordered.
		{name: "webhook/negative quantity", path: webhookPath, body: cart("wamid.h3", "1", `{"product_retailer_id":"TEE","quantity":-1,"item_price":15,"currency":"USD"}`),
			signed: true, want: 200, recorded: recorded{Messages: 1, Replies: 1}},
		{name: "webhook/zero quantity", path: webhookPath, body: cart("wamid.h4", "1", `{"product_retailer_id":"TEE","quantity":0,"item_price":15,"currency":"USD"}`),
			signed: true, want: 200, recorded: recorded{Messages: 1, Replies: 1}},
		{name: "webhook/huge quantity", path: webhookPath, body: cart("wamid.h5", "1", `{"product_retailer_id":"TEE","quantity":1e30,"item_price":15,"currency":"USD"}`),
			signed: true, want: 200, recorded: recorded{Messages: 1, Replies: 1}},
		{name: "webhook/quantity over the limit", path: webhookPath, body: cart("wamid.h6", "1", `{"product_retailer_id":"TEE","quantity":11,"item_price":15,"currency":"USD"}`),
			signed: true, want: 200, recorded: recorded{Messages: 1, Replies: 1}},
		{name: "webhook/quantities that overflow", path: webhookPath, body: cart("wamid.h7", "1",
			`{"product_retailer_id":"TEE","quantity":9223372036854775807,"item_price":15,"currency":"USD"},
			 {"product_retailer_id":"TEE","quantity":9223372036854775807,"item_price":15,"currency":"USD"}`),
			signed: true, want: 200, recorded: recorded{Messages: 1, Replies: 1}},
		{name: "webhook/SQL in a SKU", path: webhookPath, body: cart("wamid.h8", "1", fmt.Sprintf(`{"product_retailer_id":%q,"quantity":1,"item_price":15,"currency":"USD"}`, sql)),
			signed: true, want: 200, recorded: recorded{Messages: 1, Replies: 1}},
		{name: "webhook/SQL in a text", path: webhookPath, body: notification("1", waMessage("wamid.h9", "text", fmt.Sprintf(`"text":{"body":"buy %s 1"}`, sql))),
			signed: true, want: 200, recorded: recorded{Messages: 1, Replies: 1}},
		{name: "webhook/invalid UTF-8 in a SKU", path: webhookPath, body: cart("wamid.h10", "1", "{\"product_retailer_id\":\"TEE\xff\",\"quantity\":1,\"item_price\":15,\"currency\":\"USD\"}"),
			signed: true, want: 200, recorded: recorded{Messages: 1, Replies: 1}},
		{name: "webhook/NUL in a SKU", path: webhookPath, body: cart("wamid.h12", "1", `{"product_retailer_id":"TEE\u0000","quantity":1,"item_price":15,"currency":"USD"}`),
			signed: true, want: 200, recorded: recorded{Messages: 1, Replies: 1}},
		{name: "webhook/NUL in a text", path: webhookPath, body: notification("1", waMessage("wamid.h13", "text", `"text":{"body":"buy TEE\u0000 1"}`)),
			signed: true, want: 200, recorded: recorded{Messages: 1, Replies: 1}},
		{name: "webhook/NUL in a message id", path: webhookPath, body: notification("1", waMessage("wamid.h\u0000", "text", `"text":{"body":"hi"}`)),
			signed: true, want: 400},
		{name: "webhook/our SKU from another catalogue", path: webhookPath, body: cart("wamid.h15", "999999", `{"product_retailer_id":"TEE","quantity":1,"item_price":1,"currency":"USD"}`),
			signed: true, want: 200, recorded: recorded{Messages: 1, Replies: 1}},
		{name: "webhook/cart from another catalogue", path: webhookPath, body: cart("wamid.h11", "999999", `{"product_retailer_id":"THEIR-SKU","quantity":1,"item_price":1,"currency":"USD"}`),
			signed: true, want: 200, recorded: recorded{Messages: 1, Replies: 1}},

		// Stripe webhook: 400 for anything not signed by Stripe within 300 s,
		// 413 over 1 MB.
		{name: "stripe/no signature", path: callbackPath, body: event, want: 400},
		{name: "stripe/other secret", path: callbackPath, body: event, header: stripeSigned(event, "whsec_guess", now), want: 400},
		{name: "stripe/signature of another body", path: callbackPath, body: bytes.Replace(event, []byte(`"paid"`), []byte(`"PAID"`), 1),
			header: stripeSigned(event, "whsec_x", now), want: 400},
		{name: "stripe/older than 300 s", path: callbackPath, body: event, header: stripeSigned(event, "whsec_x", now.Add(-301*time.Second)), want: 400},
		{name: "stripe/timestamp moved", path: callbackPath, body: event,
			header: http.Header{"Stripe-Signature": {strings.Replace(stripeSigned(event, "whsec_x", now.Add(-time.Hour)).Get("Stripe-Signature"),
				fmt.Sprintf("t=%d", now.Add(-time.Hour).Unix()), fmt.Sprintf("t=%d", now.Unix()), 1)}}, want: 400},
		{name: "stripe/over 1 MB", path: callbackPath, body: bytes.Repeat([]byte(" "), 1<<20+1), want: 413},
		{name: "stripe/form body", path: callbackPath, body: notJSON,
			header: with(stripeSigned(notJSON, "whsec_x", now), "Content-Type", "application/x-www-form-urlencoded"), want: 400},
		{name: "stripe/invalid UTF-8", path: callbackPath, body: badUTF8, header: stripeSigned(badUTF8, "whsec_x", now), want: 400},
		{name: "stripe/deeply nested", path: callbackPath, body: stripeEvent("evt_h2", "checkout.session.completed", deep(10001)),
			header: stripeSigned(stripeEvent("evt_h2", "checkout.session.completed", deep(10001)), "whsec_x", now), want: 400},
		{name: "stripe/GET", method: "GET", path: callbackPath, want: 405},
		{name: "stripe/SQL as the order id", path: callbackPath, body: stripeEvent("evt_h3", "checkout.session.completed",
			fmt.Sprintf(`{"id":"cs_test_h3","object":"checkout.session","client_reference_id":%q,"payment_status":"paid"}`, sql)),
			header: stripeSigned(stripeEvent("evt_h3", "checkout.session.completed",
				fmt.Sprintf(`{"id":"cs_test_h3","object":"checkout.session","client_reference_id":%q,"payment_status":"paid"}`, sql)), "whsec_x", now),
			want: 200, recorded: recorded{Events: 1}},

		// create-order: 401 without ORDER_API_KEY, 400 malformed or
		// invalid, 413 over 64 KiB, 422 unknown SKU.
		{name: "create-order/no key", path: orderPath, body: order, want: 401},
		{name: "create-order/wrong key", path: orderPath, body: order, header: bearer("guess"), want: 401},
		{name: "create-order/admin key", path: orderPath, body: order, header: bearer("adm"), want: 401},
		{name: "create-order/empty bearer", path: orderPath, body: order, header: bearer(""), want: 401},
		{name: "create-order/lower-case scheme", path: orderPath, body: order, header: http.Header{"Authorization": {"bearer ord"}}, want: 401},
		{name: "create-order/basic auth", path: orderPath, body: order, header: http.Header{"Authorization": {"Basic b3JkOg=="}}, want: 401},
		{name: "create-order/key as a query", path: orderPath + "?key=ord", body: order, want: 401},
		{name: "create-order/GET", method: "GET", path: orderPath, header: bearer("ord"), want: 405},
		{name: "create-order/over 64 KiB", path: orderPath, body: orderBody(`{"sku":"TEE","quantity":1,"pad":"` + strings.Repeat("a", 64<<10) + `"}`),
			header: bearer("ord"), want: 413},
		{name: "create-order/form body", path: orderPath, body: []byte("sku=TEE&quantity=1"),
			header: with(bearer("ord"), "Content-Type", "application/x-www-form-urlencoded"), want: 400},
		{name: "create-order/text body", path: orderPath, body: []byte("TEE x1"), header: with(bearer("ord"), "Content-Type", "text/plain"), want: 400},
		{name: "create-order/invalid UTF-8 in a SKU", path: orderPath, body: orderBody("{\"sku\":\"TE\xffE\",\"quantity\":1}"), header: bearer("ord"), want: 422},
		{name: "create-order/invalid UTF-8 outside strings", path: orderPath, body: []byte("{\"items\":\xff}"), header: bearer("ord"), want: 400},
		{name: "create-order/deeply nested", path: orderPath,
			body: fmt.Appendf(nil, `{"customer":{"wa_id":"15550009","x":%s},"items":[{"sku":"TEE","quantity":1}]}`, deep(10001)), header: bearer("ord"), want: 400},
		{name: "create-order/negative quantity", path: orderPath, body: orderBody(`{"sku":"TEE","quantity":-1}`), header: bearer("ord"), want: 400},
		{name: "create-order/zero quantity", path: orderPath, body: orderBody(`{"sku":"TEE","quantity":0}`), header: bearer("ord"), want: 400},
		{name: "create-order/no quantity", path: orderPath, body: orderBody(`{"sku":"TEE"}`), header: bearer("ord"), want: 400},
		{name: "create-order/quantity over the limit", path: orderPath, body: orderBody(`{"sku":"TEE","quantity":11}`), header: bearer("ord"), want: 400},
		{name: "create-order/lines over the limit together", path: orderPath,
			body: orderBody(`{"sku":"TEE","quantity":6},{"sku":" TEE ","quantity":5}`), header: bearer("ord"), want: 400},
		{name: "create-order/largest int quantity", path: orderPath, body: orderBody(`{"sku":"TEE","quantity":9223372036854775807}`), header: bearer("ord"), want: 400},
		{name: "create-order/quantities that overflow", path: orderPath,
			body: orderBody(`{"sku":"TEE","quantity":9223372036854775807},{"sku":"TEE","quantity":9223372036854775807}`), header: bearer("ord"), want: 400},
		{name: "create-order/quantities that wrap to a few", path: orderPath,
			body:   orderBody(`{"sku":"TEE","quantity":9223372036854775807},{"sku":"TEE","quantity":9223372036854775807},{"sku":"TEE","quantity":7}`),
			header: bearer("ord"), want: 400},
		{name: "create-order/wa_id of 3000 characters", path: orderPath,
			body:   fmt.Appendf(nil, `{"customer":{"wa_id":%q},"items":[{"sku":"TEE","quantity":1}]}`, incompressible(3000)),
			header: bearer("ord"), want: 400},
		{name: "create-order/quantity past int64", path: orderPath, body: orderBody(`{"sku":"TEE","quantity":1e30}`), header: bearer("ord"), want: 400},
		{name: "create-order/fractional quantity", path: orderPath, body: orderBody(`{"sku":"TEE","quantity":1.5}`), header: bearer("ord"), want: 400},
		{name: "create-order/quantity as a string", path: orderPath, body: orderBody(`{"sku":"TEE","quantity":"1"}`), header: bearer("ord"), want: 400},
		{name: "create-order/no items", path: orderPath, body: []byte(`{"customer":{"wa_id":"15550009"},"items":[]}`), header: bearer("ord"), want: 400},
		{name: "create-order/items null", path: orderPath, body: []byte(`{"customer":{"wa_id":"15550009"},"items":null}`), header: bearer("ord"), want: 400},
		{name: "create-order/a JSON array", path: orderPath, body: []byte(`[{"sku":"TEE","quantity":1}]`), header: bearer("ord"), want: 400},
		{name: "create-order/data after the object", path: orderPath, body: append(orderBody(`{"sku":"TEE","quantity":1}`), " junk"...), header: bearer("ord"), want: 400},
		{name: "create-order/no SKU", path: orderPath, body: orderBody(`{"sku":"  ","quantity":1}`), header: bearer("ord"), want: 400},
		{name: "create-order/SQL in a SKU", path: orderPath, body: orderBody(fmt.Sprintf(`{"sku":%q,"quantity":1}`, sql)), header: bearer("ord"), want: 422},
		{name: "create-order/NUL in a SKU", path: orderPath, body: orderBody(`{"sku":"TEE\u0000","quantity":1}`), header: bearer("ord"), want: 400},
		{name: "create-order/NUL in a wa_id", path: orderPath, body: []byte(`{"customer":{"wa_id":"1555\u0000"},"items":[{"sku":"TEE","quantity":1}]}`),
			header: bearer("ord"), want: 400},
		{name: "create-order/unknown SKU", path: orderPath, body: orderBody(`{"sku":"THEIR-SKU","quantity":1}`), header: bearer("ord"), want: 422},
		{name: "create-order/key over 200 characters", path: orderPath, body: order,
			header: with(bearer("ord"), "Idempotency-Key", strings.Repeat("k", 201)), want: 400},

		// create-order-proxy in proxy mode: the key is checked before
		// anything is forwarded; the backend's answer comes back as is.
		{name: "proxy/no key", via: proxy, path: "/create-order", body: order, want: 401},
		{name: "proxy/wrong key", via: proxy, path: "/create-order", body: order, header: bearer("guess"), want: 401},
		{name: "proxy/backend secret as the key", via: proxy, path: "/create-order", body: order, header: bearer("shared"), want: 401},
		{name: "proxy/a signature instead of the key", via: proxy, path: "/create-order", body: order, header: backendSigned(order, "shared", now), want: 401},
		{name: "proxy/over 64 KiB", via: proxy, path: "/create-order", body: orderBody(`{"sku":"TEE","quantity":1,"pad":"` + strings.Repeat("a", 64<<10) + `"}`),
			header: bearer("ord"), want: 413},
		{name: "proxy/negative quantity", via: proxy, path: "/create-order", body: orderBody(`{"sku":"TEE","quantity":-1}`), header: bearer("ord"), want: 400},
		{name: "proxy/SQL in a SKU", via: proxy, path: "/create-order", body: orderBody(fmt.Sprintf(`{"sku":%q,"quantity":1}`, sql)), header: bearer("ord"), want: 422},

		// The dedicated backend's /create-order: ORDER_API_KEY, or
		// create-order-proxy's HMAC over "<t>.<Idempotency-Key>\n<body>"
		// within five minutes.
		{name: "backend/unsigned", via: backend, path: "/create-order", body: order, want: 401},
		{name: "backend/garbage signature", via: backend, path: "/create-order", body: order,
			header: http.Header{orders.SignatureHeader: {"t=1,v1=00"}}, want: 401},
		{name: "backend/no timestamp", via: backend, path: "/create-order", body: order,
			header: http.Header{orders.SignatureHeader: {strings.Split(orders.SignBackendRequest("", order, "shared", now), ",")[1]}}, want: 401},
		{name: "backend/other secret", via: backend, path: "/create-order", body: order, header: backendSigned(order, "guess", now), want: 401},
		{name: "backend/stale signature", via: backend, path: "/create-order", body: order, header: backendSigned(order, "shared", now.Add(-6*time.Minute)), want: 401},
		{name: "backend/signature from the future", via: backend, path: "/create-order", body: order, header: backendSigned(order, "shared", now.Add(6*time.Minute)), want: 401},
		{name: "backend/signature of another body", via: backend, path: "/create-order", body: orderBody(`{"sku":"TEE","quantity":10}`),
			header: backendSigned(order, "shared", now), want: 401},
		{name: "backend/bad signature beside the right key", via: backend, path: "/create-order", body: order,
			header: with(bearer("ord"), orders.SignatureHeader, "t=1,v1=00"), want: 401},
		{name: "backend/wrong key", via: backend, path: "/create-order", body: order, header: bearer("guess"), want: 401},
		{name: "backend/signed but invalid", via: backend, path: "/create-order", body: orderBody(`{"sku":"TEE","quantity":0}`),
			header: backendSigned(orderBody(`{"sku":"TEE","quantity":0}`), "shared", now), want: 400},

		// Admin endpoints: ADMIN_API_KEY and nothing else.
		{name: "backend/catalog-sync without the admin key", via: backend, path: "/catalog-sync", want: 401},
		{name: "backend/catalog-sync with the order key", via: backend, path: "/catalog-sync", header: bearer("ord"), want: 401},
		{name: "backend/ship without the admin key", via: backend, path: "/orders/" + uuid.NewString() + "/ship",
			body: []byte(`{"tracking_ref":"T1"}`), want: 401},
		{name: "backend/ship with a wrong key", via: backend, path: "/orders/" + uuid.NewString() + "/ship",
			body: []byte(`{"tracking_ref":"T1"}`), header: bearer("guess"), want: 401},
		{name: "backend/ship an unknown order", via: backend, path: "/orders/" + uuid.NewString() + "/ship",
			body: []byte(`{"tracking_ref":"T1"}`), header: bearer("adm"), want: 404},
		{name: "backend/ship SQL", via: backend, path: "/orders/" + url.PathEscape(sql) + "/ship",
			body: []byte(`{"tracking_ref":"T1"}`), header: bearer("adm"), want: 400},
		{name: "backend/ship nested JSON", via: backend, path: "/orders/" + uuid.NewString() + "/ship",
			body: fmt.Appendf(nil, `{"tracking_ref":%s}`, deep(1000)), header: bearer("adm"), want: 400},
		{name: "backend/ship deeply nested", via: backend, path: "/orders/" + uuid.NewString() + "/ship",
			body: []byte(deep(10001)), header: bearer("adm"), want: 413},
		{name: "backend/ship over 4 KiB", via: backend, path: "/orders/" + uuid.NewString() + "/ship",
			body: fmt.Appendf(nil, `{"tracking_ref":%q}`, strings.Repeat("T", 4<<10)), header: bearer("adm"), want: 413},
		{name: "backend/cleanup without the admin key", via: backend, path: "/cleanup", want: 401},
		{name: "backend/cleanup claiming to be the scheduler", via: backend, path: "/cleanup",
			header: http.Header{"X-Nf-Event": {"schedule"}}, body: []byte(`{"next_run":"2026-11-27T17:00:00.000Z"}`), want: 401},

		// cleanup from outside: neither Netlify's scheduler nor an admin.
		{name: "cleanup/no credentials", path: cleanupPath, want: 401},
		{name: "cleanup/wrong key", path: cleanupPath, header: bearer("guess"), want: 401},
		{name: "cleanup/order key", path: cleanupPath, header: bearer("ord"), want: 401},
		{name: "cleanup/schedule header off Netlify", path: cleanupPath, header: http.Header{"X-Nf-Event": {"schedule"}}, want: 401},
		{name: "cleanup/GET", method: "GET", path: cleanupPath, header: bearer("adm"), want: 405},
		{name: "cleanup/lambda without the schedule", via: scheduled, path: cleanupPath,
			body: []byte(`{"next_run":"2026-11-27T17:00:00.000Z"}`), want: 401},
		{name: "cleanup/lambda with another event", via: scheduled, path: cleanupPath, header: http.Header{"X-Nf-Event": {"deploy"}}, want: 401},

		// Through the Lambda adapter, as Netlify delivers events.
		{name: "lambda/bad base64", via: lambda, event: &events.APIGatewayProxyRequest{HTTPMethod: "POST", Path: webhookPath,
			Body: "not base64!", IsBase64Encoded: true, Headers: map[string]string{"x-hub-signature-256": whatsapp.SignatureHeaderValue(hi, "sec")}}, want: 400},
		{name: "lambda/octet-stream unsigned", via: lambda, event: &events.APIGatewayProxyRequest{HTTPMethod: "POST", Path: webhookPath,
			Body: base64.StdEncoding.EncodeToString(hi), IsBase64Encoded: true, Headers: map[string]string{"content-type": "application/octet-stream"}}, want: 401},
		{name: "lambda/webhook over 3 MB", via: lambda, event: &events.APIGatewayProxyRequest{HTTPMethod: "POST", Path: webhookPath,
			Body: base64.StdEncoding.EncodeToString(huge), IsBase64Encoded: true, Headers: map[string]string{"x-hub-signature-256": whatsapp.SignatureHeaderValue(huge, "sec")}}, want: 413},
		{name: "lambda/create-order without the key", via: lambda, event: &events.APIGatewayProxyRequest{HTTPMethod: "POST", Path: orderPath,
			Body: string(order), Headers: map[string]string{"content-type": "application/json"}}, want: 401},
		{name: "lambda/cleanup without the schedule", via: lambda, event: &events.APIGatewayProxyRequest{HTTPMethod: "POST", Path: cleanupPath,
			Body: `{"next_run":"2026-11-27T17:00:00.000Z"}`}, want: 401},
	}
	names := map[string]bool{}
	for _, tc := range cases {
		if names[tc.name] {
			t.Fatalf("two cases named %q", tc.name)
		}
		names[tc.name] = true
	}
	return cases
}
