package main

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"time"
)

// The three ways a customer asks for stock, as Meta delivers them (see
// pkg/whatsapp/testdata for the documented shapes).

func textMessage(id, from, body string, at time.Time) map[string]any {
	return map[string]any{"from": from, "id": id, "timestamp": fmt.Sprint(at.Unix()), "type": "text",
		"text": map[string]any{"body": body}}
}

func listReply(id, from, sku string, at time.Time) map[string]any {
	return map[string]any{"from": from, "id": id, "timestamp": fmt.Sprint(at.Unix()), "type": "interactive",
		"interactive": map[string]any{"type": "list_reply", "list_reply": map[string]any{"id": "sku:" + sku, "title": sku}}}
}

// cart is an order from the catalogue. Its item_price is deliberately wrong:
// the shop must price from Postgres.
func cart(id, from string, skus []string, at time.Time) map[string]any {
	items := make([]map[string]any, len(skus))
	for i, sku := range skus {
		items[i] = map[string]any{"product_retailer_id": sku, "quantity": 1, "item_price": 0.01, "currency": "USD"}
	}
	return map[string]any{"from": from, "id": id, "timestamp": fmt.Sprint(at.Unix()), "type": "order",
		"order": map[string]any{"catalog_id": catalogID, "text": "storm cart", "product_items": items}}
}

// notification wraps one message in the webhook envelope.
func notification(from string, message map[string]any) []byte {
	body, _ := json.Marshal(map[string]any{
		"object": "whatsapp_business_account",
		"entry": []any{map[string]any{"id": "storm-waba", "changes": []any{map[string]any{"field": "messages",
			"value": map[string]any{
				"messaging_product": "whatsapp",
				"metadata":          map[string]any{"display_phone_number": "15550009999", "phone_number_id": phoneNumberID},
				"contacts":          []any{map[string]any{"profile": map[string]any{"name": "Storm " + from[len(from)-4:]}, "wa_id": from}},
				"messages":          []any{message},
			}}}}},
	})
	return body
}

// orderRequest picks how customer i asks: a typed "buy", a tap in the
// list, or a cart of several SKUs.
func orderRequest(rng *rand.Rand, i int, id, from string, skus []string) map[string]any {
	now := time.Now()
	switch i % 3 {
	case 0:
		return textMessage(id, from, fmt.Sprintf("buy %s %d", skus[rng.IntN(len(skus))], 1+rng.IntN(2)), now)
	case 1:
		return listReply(id, from, skus[rng.IntN(len(skus))], now)
	}
	n := min(len(skus), 2+rng.IntN(2))
	picked := rng.Perm(len(skus))[:n]
	chosen := make([]string, n)
	for j, k := range picked {
		chosen[j] = skus[k]
	}
	return cart(id, from, chosen, now)
}
