package catalog

// group turns valid rows into products, in the order each product first
// appears, and records the problems only a whole group shows.
func group(items []item, fe *FeedError) []Product {
	type pending struct {
		first    item // the row that opened the group
		variants []item
	}
	var order []string
	groups := map[string]*pending{}
	for _, it := range items {
		key := it.itemGroupID
		if key == "" {
			key = it.id
		}
		g := groups[key]
		if g == nil {
			groups[key] = &pending{first: it, variants: []item{it}}
			order = append(order, key)
			continue
		}
		// An item without item_group_id is keyed by its id; a group of that
		// name elsewhere would silently swallow it as a variant.
		if it.itemGroupID == "" {
			fe.add(it.line, "id", "%q is also the item_group_id of line %d; give this item item_group_id %q too if it is a variant", it.id, g.first.line, it.id)
			continue
		}
		if g.first.itemGroupID == "" {
			fe.add(it.line, "item_group_id", "%q is also the id of line %d, which has no item_group_id; give that item item_group_id %q too if it is a variant", key, g.first.line, key)
			continue
		}
		if it.price.Currency != g.first.price.Currency {
			fe.add(it.line, "price", "currency %s differs from %s on line %d; the variants of item_group_id %q must share one currency",
				it.price.Currency, g.first.price.Currency, g.first.line, key)
			continue
		}
		g.variants = append(g.variants, it)
	}

	products := make([]Product, 0, len(order))
	for _, key := range order {
		g := groups[key]
		products = append(products, newProduct(key, g.first, g.variants))
	}
	return products
}

// newProduct prices the product at its cheapest variant, so every delta is
// zero or more: "from 18.00 USD" is what a customer should see.
func newProduct(key string, first item, variants []item) Product {
	lowest := first.price.Minor
	for _, v := range variants {
		lowest = min(lowest, v.price.Minor)
	}
	p := Product{
		ItemGroupID: key,
		Title:       first.title,
		Description: first.description,
		Brand:       first.brand,
		Link:        first.link,
		ImageLink:   first.imageLink,
		Price:       Money{Minor: lowest, Currency: first.price.Currency},
	}
	for _, v := range variants {
		p.Variants = append(p.Variants, Variant{
			SKU:             v.id,
			Title:           v.title,
			Size:            v.size,
			Color:           v.color,
			Condition:       v.condition,
			Availability:    v.availability,
			PriceDeltaMinor: v.price.Minor - lowest,
			Stock:           v.quantity,
			Link:            v.link,
			ImageLink:       v.imageLink,
		})
	}
	return p
}
