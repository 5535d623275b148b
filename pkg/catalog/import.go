package catalog

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// ErrNoProducts: Import was given nothing. Importing it would mark every SKU
// discontinued, which is never what an empty list means.
var ErrNoProducts = errors.New("catalogue has no products")

// Result counts what an import did.
type Result struct {
	ProductsInserted int
	ProductsUpdated  int
	VariantsInserted int
	VariantsUpdated  int
	// VariantsDiscontinued is len(Discontinued).
	VariantsDiscontinued int
	// Discontinued lists, sorted, the SKUs this import marked discontinued
	// because the feed no longer has them.
	Discontinued []string
}

// importLock serialises imports (pg_advisory_xact_lock, released at commit,
// so it works behind transaction-mode poolers). Without it, an import that
// overlaps another cannot see the other's new SKUs, so would not
// discontinue them: the catalogue would end as a mix of both feeds instead
// of the last one.
const importLock = 0x636174616c6f67 // "catalog"

// Import writes the catalogue in one transaction: products are upserted by
// item_group_id, variants by SKU, and variants the feed no longer lists are
// marked discontinued, never deleted, since orders and reservations refer to
// them. Stock on hand is set to the feed's quantity: like Meta, the shop
// takes the uploaded count as the truth. Redis availability is not touched;
// rebuild it from Postgres afterwards.
//
// On any error the transaction rolls back and nothing is changed.
func Import(ctx context.Context, pool *pgxpool.Pool, products []Product) (Result, error) {
	var res Result
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		var err error
		res, err = ImportTx(ctx, tx, products)
		return err
	})
	if err != nil {
		return Result{}, err
	}
	return res, nil
}

// ImportTx is Import inside a transaction the caller owns: a dry run
// imports and rolls back, to report exactly what an import would do.
func ImportTx(ctx context.Context, tx pgx.Tx, products []Product) (Result, error) {
	if err := checkProducts(products); err != nil {
		return Result{}, err
	}
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(importLock)); err != nil {
		return Result{}, fmt.Errorf("lock catalogue import: %w", err)
	}
	var res Result
	ids, err := upsertProducts(ctx, tx, products, &res)
	if err != nil {
		return Result{}, err
	}
	if err := upsertVariants(ctx, tx, products, ids, &res); err != nil {
		return Result{}, err
	}
	if res.Discontinued, err = discontinueMissing(ctx, tx, products); err != nil {
		return Result{}, err
	}
	res.VariantsDiscontinued = len(res.Discontinued)
	return res, nil
}

// checkProducts catches what the statements below cannot survive: a key
// twice in one INSERT … ON CONFLICT is an error there, and a SKU in two
// products would move between them.
func checkProducts(products []Product) error {
	if len(products) == 0 {
		return ErrNoProducts
	}
	groups, skus := map[string]bool{}, map[string]bool{}
	for _, p := range products {
		if groups[p.ItemGroupID] {
			return fmt.Errorf("item_group_id %q appears in two products", p.ItemGroupID)
		}
		groups[p.ItemGroupID] = true
		if len(p.Variants) == 0 {
			return fmt.Errorf("product %q has no variants", p.ItemGroupID)
		}
		for _, v := range p.Variants {
			if skus[v.SKU] {
				return fmt.Errorf("sku %q appears twice", v.SKU)
			}
			skus[v.SKU] = true
			if v.Stock < 0 || v.Stock > maxStock {
				return fmt.Errorf("sku %q: stock %d out of range", v.SKU, v.Stock)
			}
		}
	}
	return nil
}

// Both upserts send whole columns as arrays and unnest them: one round trip
// for the catalogue however large, instead of one per row. Rows are sorted
// by key so concurrent writers (a paid order decrementing stock) lock them
// in the same order and cannot deadlock with us on two rows.
//
// "xmax = 0" tells an inserted row from an updated one: a row this statement
// inserted has no updating transaction recorded, an updated one has ours.

const upsertProductsSQL = `
INSERT INTO products (item_group_id, title, description, brand, link, image_link, price_minor, currency)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[], $8::text[])
ON CONFLICT (item_group_id) DO UPDATE SET
    title = EXCLUDED.title, description = EXCLUDED.description, brand = EXCLUDED.brand,
    link = EXCLUDED.link, image_link = EXCLUDED.image_link,
    price_minor = EXCLUDED.price_minor, currency = EXCLUDED.currency, updated_at = now()
RETURNING item_group_id, id::text, xmax = 0`

func upsertProducts(ctx context.Context, tx pgx.Tx, products []Product, res *Result) (map[string]string, error) {
	sorted := slices.SortedFunc(slices.Values(products), func(a, b Product) int { return strings.Compare(a.ItemGroupID, b.ItemGroupID) })
	n := len(sorted)
	keys, titles, descs, brands := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	links, images, prices, currencies := make([]string, n), make([]string, n), make([]int64, n), make([]string, n)
	for i, p := range sorted {
		keys[i], titles[i], descs[i], brands[i] = p.ItemGroupID, p.Title, p.Description, p.Brand
		links[i], images[i], prices[i], currencies[i] = p.Link, p.ImageLink, p.Price.Minor, p.Price.Currency
	}
	rows, err := tx.Query(ctx, upsertProductsSQL, keys, titles, descs, brands, links, images, prices, currencies)
	if err != nil {
		return nil, fmt.Errorf("upsert products: %w", err)
	}
	ids := make(map[string]string, n)
	var key, id string
	var inserted bool
	_, err = pgx.ForEachRow(rows, []any{&key, &id, &inserted}, func() error {
		ids[key] = id
		if inserted {
			res.ProductsInserted++
		} else {
			res.ProductsUpdated++
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("upsert products: %w", err)
	}
	return ids, nil
}

// The feed's own fields live under metadata.feed, replaced whole on each
// import; other keys in metadata belong to other code and are kept.
const upsertVariantsSQL = `
INSERT INTO variants (product_id, sku, title, size, color, condition, availability,
                      price_delta_minor, stock_on_hand, metadata)
SELECT product_id, sku, title, size, color, condition, availability, delta, stock,
       jsonb_build_object('feed', jsonb_build_object('link', link, 'image_link', image_link))
FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
            $8::bigint[], $9::int[], $10::text[], $11::text[])
     AS v(product_id, sku, title, size, color, condition, availability, delta, stock, link, image_link)
ON CONFLICT (sku) DO UPDATE SET
    product_id = EXCLUDED.product_id, title = EXCLUDED.title, size = EXCLUDED.size,
    color = EXCLUDED.color, condition = EXCLUDED.condition, availability = EXCLUDED.availability,
    price_delta_minor = EXCLUDED.price_delta_minor, stock_on_hand = EXCLUDED.stock_on_hand,
    metadata = variants.metadata || EXCLUDED.metadata, updated_at = now()
RETURNING xmax = 0`

func upsertVariants(ctx context.Context, tx pgx.Tx, products []Product, ids map[string]string, res *Result) error {
	type row struct {
		productID string
		v         Variant
	}
	var all []row
	for _, p := range products {
		for _, v := range p.Variants {
			all = append(all, row{ids[p.ItemGroupID], v})
		}
	}
	slices.SortFunc(all, func(a, b row) int { return strings.Compare(a.v.SKU, b.v.SKU) })
	n := len(all)
	pids, skus, titles, sizes, colors := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	conds, avails, deltas, stocks := make([]string, n), make([]string, n), make([]int64, n), make([]int32, n)
	links, images := make([]string, n), make([]string, n)
	for i, r := range all {
		pids[i], skus[i], titles[i], sizes[i], colors[i] = r.productID, r.v.SKU, r.v.Title, r.v.Size, r.v.Color
		conds[i], avails[i], deltas[i], stocks[i] = r.v.Condition, r.v.Availability, r.v.PriceDeltaMinor, int32(r.v.Stock)
		links[i], images[i] = r.v.Link, r.v.ImageLink
	}
	rows, err := tx.Query(ctx, upsertVariantsSQL, pids, skus, titles, sizes, colors, conds, avails, deltas, stocks, links, images)
	if err != nil {
		return fmt.Errorf("upsert variants: %w", err)
	}
	var inserted bool
	_, err = pgx.ForEachRow(rows, []any{&inserted}, func() error {
		if inserted {
			res.VariantsInserted++
		} else {
			res.VariantsUpdated++
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("upsert variants: %w", err)
	}
	return nil
}

// Locked in SKU order first, for the same reason the upserts are sorted.
const discontinueSQL = `
UPDATE variants SET availability = 'discontinued', updated_at = now()
WHERE id IN (
    SELECT id FROM variants
    WHERE availability <> 'discontinued' AND NOT (sku = ANY($1::text[]))
    ORDER BY sku FOR UPDATE)
RETURNING sku`

func discontinueMissing(ctx context.Context, tx pgx.Tx, products []Product) ([]string, error) {
	var skus []string
	for _, p := range products {
		for _, v := range p.Variants {
			skus = append(skus, v.SKU)
		}
	}
	rows, err := tx.Query(ctx, discontinueSQL, skus)
	if err != nil {
		return nil, fmt.Errorf("discontinue missing variants: %w", err)
	}
	gone, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("discontinue missing variants: %w", err)
	}
	if len(gone) == 0 {
		return nil, nil
	}
	slices.Sort(gone)
	return gone, nil
}
