package catalog

import (
	"errors"
	"os"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzParseFeed feeds arbitrary bytes to Parse. It must never panic; a feed
// it accepts must be one Import can write (unique SKUs within Meta's limit,
// valid UTF-8, non-negative deltas and stock, one currency per product); and
// a feed it refuses must say where, with lines from 1 on.
func FuzzParseFeed(f *testing.F) {
	for _, path := range []string{"testdata/good_feed.csv", "testdata/bad_feed.csv", "../../scripts/demo-catalog.csv"} {
		b, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
	}
	f.Add("")
	f.Add("\uFEFF" + header)
	f.Add(header + row("A", "1.00 USD", "G", "S", "1") + row("B", "1.5 USD", "G", "M", ""))
	f.Add(header + `A,"T,""x""` + "\n" + `y",D,in stock,new,1 JPY,http://a.example,http://a.example/i,,,,0` + "\n")
	f.Add(header + "A,T,D,in stock,new,0.001 KWD,http://a,http://b,,,,9\r\n\"")

	f.Fuzz(func(t *testing.T, feed string) {
		products, err := Parse(strings.NewReader(feed))
		if err != nil {
			var fe *FeedError
			if !errors.As(err, &fe) {
				t.Fatalf("Parse of an in-memory feed failed without a *FeedError: %v", err)
			}
			if fe.empty() || products != nil {
				t.Fatalf("FeedError with no errors, or products beside it: %v", err)
			}
			for _, re := range fe.Errors {
				if re.Line < 1 {
					t.Fatalf("row error on line %d: %v", re.Line, re)
				}
			}
			return
		}
		if len(products) == 0 {
			t.Fatal("Parse accepted a feed without products")
		}
		if err := checkProducts(products); err != nil {
			t.Fatalf("Parse accepted what Import refuses: %v", err)
		}
		for _, p := range products {
			if p.Price.Minor <= 0 || p.Title == "" || !utf8.ValidString(p.Title+p.Description+p.Brand) {
				t.Fatalf("bad product %+v", p)
			}
			for _, v := range p.Variants {
				if v.PriceDeltaMinor < 0 || v.Stock < 0 || v.SKU == "" || utf8.RuneCountInString(v.SKU) > maxSKULength {
					t.Fatalf("bad variant %+v", v)
				}
				if !availabilities[v.Availability] || !conditions[v.Condition] {
					t.Fatalf("variant %s: availability %q, condition %q", v.SKU, v.Availability, v.Condition)
				}
			}
		}
	})
}
