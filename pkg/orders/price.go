package orders

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
)

// maxLines is how many different items an order may hold: Stripe Checkout
// takes at most 100 line items in payment mode.
const maxLines = 100

// normalise merges repeated SKUs, checks quantities and sorts the lines, so
// equal requests look equal (for the idempotency check too).
func normalise(lines []Line, maxQuantity int) ([]Line, error) {
	if len(lines) == 0 {
		return nil, invalid("no items")
	}
	merged := map[string]int{}
	for _, l := range lines {
		sku := strings.TrimSpace(l.SKU)
		if sku == "" {
			return nil, invalid("an item has no SKU")
		}
		if !plainText(sku, maxSKULength) {
			return nil, invalid("SKU %.40q is not a valid SKU", sku)
		}
		if l.Quantity < 1 {
			return nil, invalid("quantity of %s must be at least 1", sku)
		}
		// Checked line by line, so a sum of huge quantities cannot wrap
		// around into a small one.
		if l.Quantity > maxQuantity || merged[sku] > maxQuantity-l.Quantity {
			return nil, invalid("quantity of %s is more than %d; at most %d per order", sku, maxQuantity, maxQuantity)
		}
		if _, seen := merged[sku]; !seen && len(merged) == maxLines {
			return nil, invalid("more than %d different items; at most %d per order", maxLines, maxLines)
		}
		merged[sku] += l.Quantity
	}
	out := make([]Line, 0, len(merged))
	for sku, q := range merged {
		out = append(out, Line{SKU: sku, Quantity: q})
	}
	slices.SortFunc(out, func(a, b Line) int { return strings.Compare(a.SKU, b.SKU) })
	return out, nil
}

// pricesSQL reads each SKU's price: the product's price plus the variant's
// delta. Client-sent prices are never used.
const pricesSQL = `
	SELECT v.sku, p.title || CASE WHEN v.title <> p.title THEN ' — ' || v.title ELSE '' END,
	       p.price_minor + v.price_delta_minor, p.currency, v.availability = 'in stock'
	FROM variants v JOIN products p ON p.id = v.product_id
	WHERE v.sku = ANY($1)`

// catalogPrice is one SKU as the catalogue sells it.
type catalogPrice struct {
	title    string
	price    int64
	currency string
	onSale   bool
}

func scanPrices(rows pgx.Rows) (map[string]catalogPrice, error) {
	found := map[string]catalogPrice{}
	var sku string
	var p catalogPrice
	_, err := pgx.ForEachRow(rows, []any{&sku, &p.title, &p.price, &p.currency, &p.onSale}, func() error {
		found[sku] = p
		return nil
	})
	return found, err
}

// price turns lines into items at catalogue prices. Variants not in stock
// are short with nothing available.
func price(lines []Line, found map[string]catalogPrice) ([]Item, string, error) {
	var unknown []string
	var short []Shortage
	items := make([]Item, 0, len(lines))
	currency := ""
	for _, l := range lines {
		p, ok := found[l.SKU]
		switch {
		case !ok:
			unknown = append(unknown, l.SKU)
			continue
		case !p.onSale:
			short = append(short, Shortage{SKU: l.SKU, Available: 0, Wanted: l.Quantity})
		case currency != "" && p.currency != currency:
			return nil, "", invalid("items are priced in %s and %s; order them separately", currency, p.currency)
		}
		currency = p.currency
		items = append(items, Item{SKU: l.SKU, Title: p.title, Quantity: l.Quantity, UnitPriceMinor: p.price})
	}
	if len(unknown) > 0 {
		return nil, "", &UnknownSKUError{SKUs: unknown}
	}
	if len(short) > 0 {
		return nil, "", &OutOfStockError{Lines: short}
	}
	return items, currency, nil
}

func total(items []Item) int64 {
	var sum int64
	for _, it := range items {
		sum += it.UnitPriceMinor * int64(it.Quantity)
	}
	return sum
}

// requestHash fingerprints what a key promised, so the key cannot be reused
// for another order.
func requestHash(c Customer, lines []Line) string {
	raw, _ := json.Marshal(struct {
		WaID  string
		Lines []Line
	}{c.WaID, lines})
	sum := sha256.Sum256(raw)
	return hex.EncodeToString(sum[:12])
}
