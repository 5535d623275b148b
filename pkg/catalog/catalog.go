// Package catalog imports the shop's catalogue from a Meta Commerce
// catalogue data feed (CSV) into Postgres, the catalogue's source of truth.
//
// The feed is the file a shop already keeps for its Facebook/Instagram shop
// and WhatsApp catalogue, so one file feeds both Meta and us, and a feed
// Meta would reject should be rejected here too. Parse reads and checks it;
// Import writes it in one transaction; Load opens it from a path or a URL.
//
// # What Meta documents, and what Parse does with it
//
// Sources (checked 2026): Meta Business Help Center "Data feed
// specifications for catalogs" (required fields, id rules; quoted at
// https://help.godatafeed.com/hc/en-us/articles/360048361091 and
// http://ironfeather.com/bbs/viewtopic.php?f=12&t=3112), the developer
// pages https://developers.facebook.com/docs/marketing-api/catalog/reference
// (CSV format), …/catalog/product-variants (item_group_id),
// https://developers.facebook.com/docs/commerce-platform/catalog/quantity-to-sell
// and Meta's own template
// https://lookaside.facebook.com/developers/resources/?id=catalog_country_feed_template.csv.
// testdata/README.md has the details and the quotes.
//
//   - CSV: the first row names the columns; a field holding commas, quotes
//     or line breaks is enclosed in double quotes, a quote inside doubled.
//     Columns are found by name, so their order is free, and columns we do
//     not use (sale_price, gtin, google_product_category, …) are ignored.
//     Meta writes column names in lower case; we also accept other cases and
//     surrounding spaces, and a UTF-8 byte-order mark (Excel writes one).
//   - Required columns: id, title, description, availability, condition,
//     price, link, image_link. Each needs a value in every row.
//   - id: unique in the feed ("If you use the same content ID for multiple
//     items, none of them will be uploaded"), at most 100 characters. It is
//     our SKU and WhatsApp's product_retailer_id. Because customers type it
//     in chat ("buy TSHIRT-M 2"), we also refuse spaces in it and two ids
//     that differ only in letter case.
//   - availability: in stock, out of stock, and the older preorder,
//     available for order, discontinued. Meta's reference also lists pending
//     and mark_as_sold; this shop has no use for them, so they are errors.
//   - condition: new, refurbished, used.
//   - price: a number, a space, an ISO 4217 code ("9.99 USD"), with a period
//     as the decimal point. See ParseMoney for the exact rules.
//   - item_group_id: rows sharing it are variants of one product. A row
//     without it is a product of its own, keyed by its id.
//   - quantity_to_sell_on_facebook: the stock. Meta: "An item without
//     quantity to sell setup cannot be tagged or purchased", so a missing
//     or empty value means 0 here too. Meta's deprecated name, inventory, is
//     read when the new column is absent. Meta treats the uploaded value as
//     the source of truth that overwrites its own count; so does Import.
package catalog

// Product is what the customer sees: one row of the feed, or the rows
// sharing an item_group_id.
type Product struct {
	// ItemGroupID keys the product: the feed's item_group_id, or the id of
	// an item that has none.
	ItemGroupID string
	// Title, Description, Brand, Link and ImageLink come from the product's
	// first row in the feed: Meta asks variants to share one title, and the
	// first row is the one an operator sees as the product.
	Title       string
	Description string
	Brand       string
	Link        string
	ImageLink   string
	// Price is the lowest price among the variants.
	Price    Money
	Variants []Variant
}

// Variant is what is sold and stocked: one row of the feed.
type Variant struct {
	SKU          string
	Title        string
	Size         string
	Color        string
	Condition    string
	Availability string
	// PriceDeltaMinor is this variant's price minus the product's price, in
	// the product's currency; never negative, since the product has the
	// lowest price.
	PriceDeltaMinor int64
	Stock           int
	// Link and ImageLink are the variant's own page and picture; Meta asks
	// that they match the variant's colour.
	Link      string
	ImageLink string
}

// Availability values Meta documents and the shop accepts.
const (
	InStock            = "in stock"
	OutOfStock         = "out of stock"
	Preorder           = "preorder"
	AvailableForOrder  = "available for order"
	Discontinued       = "discontinued"
	maxSKULength       = 100 // Meta's id limit, and the variants.sku CHECK
	maxStock           = 1<<31 - 1
	quantityColumn     = "quantity_to_sell_on_facebook"
	legacyQuantityName = "inventory"
)

var availabilities = setOf(InStock, OutOfStock, Preorder, AvailableForOrder, Discontinued)

var conditions = setOf("new", "refurbished", "used")
