package conversation

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/wa-shop/shop/pkg/catalog"
	"github.com/wa-shop/shop/pkg/inventory"
	"github.com/wa-shop/shop/pkg/whatsapp"
)

// shelfTTL is how long a function instance reuses the catalogue's titles
// and prices: they change when a feed is imported, while every greeting
// reads them.
const shelfTTL = 5 * time.Second

// countTTL is how long it reuses what Redis says is available. The count
// only decides what is offered; a hold checks the stock itself, so an
// offer a second out of date costs at most an "out of stock" reply, while
// a busy instance saves a round trip per greeting.
const countTTL = time.Second

// shelf is the catalogue as last read from Postgres, and its availability
// as last read from Redis.
type shelf struct {
	mu        sync.Mutex
	readAt    time.Time
	offers    []offer
	countedAt time.Time
	available map[string]int
}

func fresh(at, now time.Time, ttl time.Duration) bool {
	return !at.IsZero() && !now.Before(at) && now.Sub(at) < ttl
}

func (s *shelf) read(ctx context.Context, db *pgxpool.Pool, now time.Time) ([]offer, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if fresh(s.readAt, now, shelfTTL) {
		return s.offers, nil
	}
	rows, err := db.Query(ctx, `
		SELECT v.sku, p.title, v.title, p.price_minor + v.price_delta_minor, p.currency
		FROM variants v JOIN products p ON p.id = v.product_id
		WHERE v.availability = 'in stock' AND v.stock_on_hand > 0
		ORDER BY p.title, v.sku`)
	if err != nil {
		return nil, err
	}
	var all []offer
	var o offer
	if _, err := pgx.ForEachRow(rows, []any{&o.sku, &o.product, &o.variant, &o.price.Minor, &o.price.Currency}, func() error {
		all = append(all, o)
		return nil
	}); err != nil {
		return nil, err
	}
	s.offers, s.readAt = all, now
	s.countedAt = time.Time{} // counted for the old shelf's SKUs
	return all, nil
}

// count reads the availability of every SKU on the shelf.
func (s *shelf) count(ctx context.Context, inv *inventory.Inventory, skus []string, now time.Time) (map[string]int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if fresh(s.countedAt, now, countTTL) {
		return s.available, nil
	}
	available, err := inv.Available(ctx, skus...)
	if err != nil {
		return nil, err
	}
	s.available, s.countedAt = available, now
	return available, nil
}

// pageRows leaves the tenth row of a list for "More".
const pageRows = whatsapp.MaxListRows - 1

type offer struct {
	sku, product, variant string
	price                 catalog.Money
	left                  int
}

// offers lists what can be bought now: on sale in Postgres, and available
// in Redis (held units are not offered).
func (c *Conversation) offers(ctx context.Context) ([]offer, error) {
	all, err := c.shelf.read(ctx, c.DB, c.Now())
	if err != nil {
		return nil, err
	}
	skus := make([]string, len(all))
	for i, o := range all {
		skus[i] = o.sku
	}
	if len(skus) == 0 {
		return nil, nil
	}
	available, err := c.shelf.count(ctx, c.Inventory, skus, c.Now())
	if err != nil {
		return nil, err
	}
	var inStock []offer
	for _, o := range all {
		if o.left = available[o.sku]; o.left > 0 {
			inStock = append(inStock, o)
		}
	}
	return inStock, nil
}

// catalogue sends one page of what is in stock: the Meta catalogue as a
// multi-product message when the shop has one, else a list with a "More"
// row to page on.
func (c *Conversation) catalogue(ctx context.Context, to string, page int, intro string) error {
	all, err := c.offers(ctx)
	if err != nil {
		return err
	}
	if len(all) == 0 {
		return c.reply(ctx, to, whatsapp.Text(strings.TrimSpace(intro+" Everything is sold out right now; please check back soon.")))
	}
	body := strings.TrimSpace(intro + " " + "Pick an item to order one, or type \"buy SKU 2\" for more.")
	if c.CatalogID != "" {
		return c.reply(ctx, to, whatsapp.ProductList(c.CatalogID, "Our shop", body, productSections(all)...))
	}
	if pages := (len(all) + pageRows - 1) / pageRows; page < 0 || page >= pages {
		// A "More" tapped after the catalogue shrank (or a page id nobody
		// sent): start again, as a list without rows is refused.
		page = 0
	}
	start := page * pageRows
	end := min(start+pageRows, len(all))
	if len(all)-start <= whatsapp.MaxListRows {
		end = len(all) // the last page can use the tenth row
	}
	var rows []whatsapp.Row
	for _, o := range all[start:end] {
		rows = append(rows, whatsapp.Row{ID: "sku:" + o.sku, Title: rowTitle(o),
			Description: fmt.Sprintf("%s · %s · %d left", o.price, o.sku, o.left)})
	}
	if end < len(all) {
		rows = append(rows, whatsapp.Row{ID: fmt.Sprintf("page:%d", page+1), Title: "More…",
			Description: fmt.Sprintf("%d more items", len(all)-end)})
	}
	return c.reply(ctx, to, whatsapp.List(body, "View items", whatsapp.Section{Title: "In stock", Rows: rows}))
}

func rowTitle(o offer) string {
	if o.variant == "" || o.variant == o.product {
		return o.product
	}
	if strings.HasPrefix(o.variant, o.product) {
		return o.variant
	}
	return o.product + " " + o.variant
}

// productSections groups catalogue items by product, within Meta's limits.
func productSections(all []offer) []whatsapp.Section {
	var sections []whatsapp.Section
	items := 0
	for _, o := range all {
		if items == whatsapp.MaxProductListItem {
			break
		}
		if n := len(sections); n == 0 || sections[n-1].Title != o.product {
			if n == whatsapp.MaxListSections {
				break
			}
			sections = append(sections, whatsapp.Section{Title: o.product})
		}
		s := &sections[len(sections)-1]
		s.ProductItems = append(s.ProductItems, whatsapp.ProductItem{ProductRetailerID: o.sku})
		items++
	}
	return sections
}

// describe answers a question about one catalogue item.
func (c *Conversation) describe(ctx context.Context, to, sku string) error {
	all, err := c.offers(ctx)
	if err != nil {
		return err
	}
	for _, o := range all {
		if o.sku == sku {
			return c.reply(ctx, to, whatsapp.Text(fmt.Sprintf("%s costs %s and we have %d left. Reply \"buy %s 1\" to order it.",
				rowTitle(o), o.price, o.left, o.sku)))
		}
	}
	return c.reply(ctx, to, whatsapp.Text("Sorry, that item is sold out right now. Send \"menu\" to see what we have."))
}
