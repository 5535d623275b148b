package catalog

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const header = "id,title,description,availability,condition,price,link,image_link,item_group_id,size,color,quantity_to_sell_on_facebook\n"

// row writes a valid feed row; tests change the fields they are about.
func row(id, price, group, size, quantity string) string {
	return strings.Join([]string{id, "Tee", "A tee.", "in stock", "new", price,
		"https://shop.example.com/" + id, "https://shop.example.com/" + id + ".jpg", group, size, "", quantity}, ",") + "\n"
}

func parseFile(t *testing.T, path string) ([]Product, error) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return Parse(f)
}

func TestParseGoodFeed(t *testing.T) {
	// BOM, CRLF, columns in another order and case, unused columns, quoted
	// fields with commas, doubled quotes and a line break, an empty stock.
	got, err := parseFile(t, "testdata/good_feed.csv")
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	tee := func(sku, size string, delta int64, stock int) Variant {
		return Variant{SKU: sku, Title: "Logo Tee", Size: size, Color: "White", Condition: "new", Availability: InStock,
			PriceDeltaMinor: delta, Stock: stock, Link: "https://shop.example.com/tee?s=" + size, ImageLink: "https://shop.example.com/tee.jpg"}
	}
	want := []Product{
		{
			ItemGroupID: "TEE", Title: "Logo Tee", Description: "Soft tee, 100% cotton.", Brand: "Acme",
			Link: "https://shop.example.com/tee?s=S", ImageLink: "https://shop.example.com/tee.jpg",
			Price:    Money{1800, "USD"},
			Variants: []Variant{tee("TEE-S", "S", 0, 4), tee("TEE-XL", "XL", 250, 2), tee("TEE-M", "M", 0, 12)},
		},
		{
			ItemGroupID: "MUG", Title: `Mug "Lantern" Edition`, Description: "Line one, with a comma.\nLine two: dishwasher safe.",
			Brand: "Acme", Link: "https://shop.example.com/mug", ImageLink: "https://shop.example.com/mug.jpg",
			Price: Money{1400, "USD"},
			Variants: []Variant{{SKU: "MUG", Title: `Mug "Lantern" Edition`, Condition: "new", Availability: OutOfStock,
				Link: "https://shop.example.com/mug", ImageLink: "https://shop.example.com/mug.jpg"}},
		},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("products (-want +got):\n%s", diff)
	}
}

func TestParseReportsEveryError(t *testing.T) {
	_, err := parseFile(t, "testdata/bad_feed.csv")
	var fe *FeedError
	if !errors.As(err, &fe) {
		t.Fatalf("Parse error = %v, want *FeedError", err)
	}
	want := []RowError{
		{4, "id", "is required"},
		{5, "id", `"BAD SKU" contains a space; customers type SKUs in chat, so use letters, digits and dashes`},
		{5, "availability", `"instock" is not one of: in stock, out of stock, preorder, available for order, discontinued`},
		{5, "condition", `"brand new" is not one of: new, refurbished, used`},
		{5, "price", `"12.50USD" needs a space before the currency code, like "12.50 USD"`},
		{5, "link", `"ftp://shop.example.com/3" is not an http(s) URL`},
		{5, "image_link", `"shop.example.com/3.jpg" is not an http(s) URL`},
		{5, "quantity_to_sell_on_facebook", `"-2" is not a whole number of items (0 or more)`},
		{6, "id", `"ok-1" is already the id of line 2; every id must be unique (letter case aside)`},
		{7, "price", `too many decimals in "1500.5": JPY has 0 decimal places`},
		{8, "", "the row has 2 fields, the header 10 (a value with a comma must be in double quotes)"},
		{10, "price", `currency EUR differs from USD on line 9; the variants of item_group_id "G" must share one currency`},
		{12, "item_group_id", `"LONE" is also the id of line 11, which has no item_group_id; give that item item_group_id "LONE" too if it is a variant`},
		{13, "description", "is required"},
		{13, "quantity_to_sell_on_facebook", `"2.5" is not a whole number of items (0 or more)`},
	}
	if diff := cmp.Diff(want, fe.Errors); diff != "" {
		t.Errorf("row errors (-want +got):\n%s", diff)
	}
	if !strings.HasPrefix(err.Error(), "catalogue feed has 15 errors; line 4, id: is required; ") {
		t.Errorf("Error() = %q", err.Error())
	}
}

func TestParseFeedErrors(t *testing.T) {
	tests := []struct {
		name string
		feed string
		want []RowError
	}{
		{"empty file", "", []RowError{{1, "", "the feed is empty; want a header row naming the columns"}}},
		{"only a BOM", "\uFEFF", []RowError{{1, "", "the feed is empty; want a header row naming the columns"}}},
		{"header only", header, []RowError{{1, "", "the feed has a header but no items"}}},
		{"header and blank lines", header + "\n\n", []RowError{{1, "", "the feed has a header but no items"}}},
		{"missing required columns", "id,title,price\nA,B,1.00 USD\n", []RowError{
			{1, "description", "required column is missing"},
			{1, "availability", "required column is missing"},
			{1, "condition", "required column is missing"},
			{1, "link", "required column is missing"},
			{1, "image_link", "required column is missing"},
		}},
		{"column twice", strings.TrimSuffix(header, "\n") + ",ID\n" + strings.TrimSuffix(row("A", "1.00 USD", "", "", "1"), "\n") + ",A\n",
			[]RowError{{1, "id", "the column appears twice (columns 1 and 13)"}}},
		{"bare quote, then reading goes on", header + `A,Te"e,x,in stock,new,1.00 USD,https://s.example.com/a,https://s.example.com/a.jpg,,,,1` + "\n" + row("B", "1 EUR", "", "", "x"),
			[]RowError{
				{2, "", `a value containing " must be in double quotes, with the " doubled ("")`},
				{3, "quantity_to_sell_on_facebook", `"x" is not a whole number of items (0 or more)`},
			}},
		{"unclosed quote", header + row("A", "1.00 USD", "", "", "1") + `B,"Tee,x,in stock` + "\nmore\n",
			[]RowError{{3, "", `a quoted value is not closed, or a " inside it is not doubled ("") (noticed on line 4)`}}},
		{"id too long", header + row(strings.Repeat("X", 101), "1.00 USD", "", "", "1"),
			[]RowError{{2, "id", "101 characters; Meta allows 100"}}},
		{"not UTF-8, and the row's other problems too", header + row("A", "1.00 EUROS", "", "\xff", "1") + row("B", "1.00 USD", "", "", "1\x00"),
			[]RowError{
				{2, "size", "not UTF-8 text (save the feed as UTF-8)"},
				{2, "price", `"EUROS" is not an ISO 4217 currency code`},
				{3, "quantity_to_sell_on_facebook", "contains a NUL character"},
			}},
		{"standalone id after a group of that name", header + row("A-1", "1.00 USD", "A", "", "1") + row("A", "1.00 USD", "", "", "1"),
			[]RowError{{3, "id", `"A" is also the item_group_id of line 2; give this item item_group_id "A" too if it is a variant`}}},
		{"stock beyond int32", header + row("A", "1.00 USD", "", "", "2147483648"),
			[]RowError{{2, "quantity_to_sell_on_facebook", `"2147483648" is not a whole number of items (0 or more)`}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(strings.NewReader(tt.feed))
			var fe *FeedError
			if !errors.As(err, &fe) {
				t.Fatalf("Parse = %v, %v; want *FeedError", got, err)
			}
			if diff := cmp.Diff(tt.want, fe.Errors); diff != "" {
				t.Errorf("row errors (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseCapsTheErrorList(t *testing.T) {
	feed := header + strings.Repeat("only,two\n", maxRowErrors+5)
	_, err := Parse(strings.NewReader(feed))
	var fe *FeedError
	if !errors.As(err, &fe) {
		t.Fatalf("Parse error = %v", err)
	}
	if len(fe.Errors) != maxRowErrors || fe.Omitted != 5 {
		t.Errorf("listed %d, omitted %d; want %d and 5", len(fe.Errors), fe.Omitted, maxRowErrors)
	}
}

func TestParseStock(t *testing.T) {
	tests := []struct {
		name string
		feed string
		want int
	}{
		{"given", header + row("A", "1.00 USD", "", "", "7"), 7},
		{"empty means none", header + row("A", "1.00 USD", "", "", ""), 0},
		{"no column means none", "id,title,description,availability,condition,price,link,image_link\nA,T,D,in stock,new,1.00 USD,https://s.example.com,https://s.example.com/i.jpg\n", 0},
		{"Meta's older inventory column", "id,title,description,availability,condition,price,link,image_link,inventory\nA,T,D,in stock,new,1.00 USD,https://s.example.com,https://s.example.com/i.jpg,9\n", 9},
		{"the new column wins over inventory", "id,title,description,availability,condition,price,link,image_link,inventory,quantity_to_sell_on_facebook\nA,T,D,in stock,new,1.00 USD,https://s.example.com,https://s.example.com/i.jpg,9,3\n", 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			products, err := Parse(strings.NewReader(tt.feed))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if got := products[0].Variants[0].Stock; got != tt.want {
				t.Errorf("stock = %d, want %d", got, tt.want)
			}
		})
	}
}

// prices summarises products as group → price and SKU → delta.
func prices(products []Product) map[string]any {
	m := map[string]any{}
	for _, p := range products {
		m[p.ItemGroupID] = p.Price.String()
		for _, v := range p.Variants {
			m[v.SKU] = v.PriceDeltaMinor
		}
	}
	return m
}

func TestParseGroupsVariants(t *testing.T) {
	tests := []struct {
		name string
		feed string
		want map[string]any
	}{
		{"one price", row("T-S", "18.00 USD", "T", "S", "1") + row("T-M", "18.00 USD", "T", "M", "1"),
			map[string]any{"T": "18.00 USD", "T-S": int64(0), "T-M": int64(0)}},
		{"cheapest is not first", row("T-XL", "20.00 USD", "T", "XL", "1") + row("T-S", "17.50 USD", "T", "S", "1") + row("T-M", "18 USD", "T", "M", "1"),
			map[string]any{"T": "17.50 USD", "T-XL": int64(250), "T-S": int64(0), "T-M": int64(50)}},
		{"no group: a product of its own", row("MUG", "14.00 USD", "", "", "1") + row("CAP", "22.00 USD", "", "", "1"),
			map[string]any{"MUG": int64(0), "CAP": int64(0)}},
		{"yen", row("K-1", "1500 JPY", "K", "", "1") + row("K-2", "1800 JPY", "K", "", "1"),
			map[string]any{"K": "1500 JPY", "K-1": int64(0), "K-2": int64(300)}},
		{"dinar", row("D-1", "1.250 KWD", "D", "", "1") + row("D-2", "1.5 KWD", "D", "", "1"),
			map[string]any{"D": "1.250 KWD", "D-1": int64(0), "D-2": int64(250)}},
		{"groups in different currencies", row("A", "1.00 USD", "G1", "", "1") + row("B", "1.00 EUR", "G2", "", "1"),
			map[string]any{"G1": "1.00 USD", "G2": "1.00 EUR", "A": int64(0), "B": int64(0)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			products, err := Parse(strings.NewReader(header + tt.feed))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			// A product without a group reports its price under its SKU too.
			got := prices(products)
			for k := range got {
				if _, ok := tt.want[k]; !ok {
					delete(got, k)
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("prices (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseDemoFeed(t *testing.T) {
	products, err := parseFile(t, "../../scripts/demo-catalog.csv")
	if err != nil {
		t.Fatalf("Parse demo feed: %v", err)
	}
	if len(products) != 12 {
		t.Errorf("demo feed has %d products, want 12", len(products))
	}
	variants := map[string]Variant{}
	for _, p := range products {
		if p.Price.Currency != "USD" {
			t.Errorf("%s priced in %s, want USD", p.ItemGroupID, p.Price.Currency)
		}
		for _, v := range p.Variants {
			variants[v.SKU] = v
		}
	}
	got := map[string]any{
		"variants":        len(variants),
		"TSHIRT-XL delta": variants["TSHIRT-XL"].PriceDeltaMinor,
		"HOODIE-NVY":      variants["HOODIE-NVY"].Color,
		"KEYRING":         variants["KEYRING"].Availability,
		"MUG-WHT stock":   variants["MUG-WHT"].Stock,
	}
	want := map[string]any{
		"variants":        22,
		"TSHIRT-XL delta": int64(200),
		"HOODIE-NVY":      "Navy",
		"KEYRING":         OutOfStock,
		"MUG-WHT stock":   1,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("demo feed (-want +got):\n%s", diff)
	}
}
