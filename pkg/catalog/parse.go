package catalog

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// requiredColumns are the fields Meta requires of every product item.
var requiredColumns = []string{"id", "title", "description", "availability", "condition", "price", "link", "image_link"}

// optionalColumns are the other fields the shop stores.
var optionalColumns = []string{"brand", "item_group_id", "size", "color", quantityColumn, legacyQuantityName}

// item is one valid row of the feed.
type item struct {
	line                                             int
	id, title, description, availability, condition  string
	price                                            Money
	link, imageLink, brand, itemGroupID, size, color string
	quantity                                         int
}

// Parse reads a Meta catalogue feed and groups its rows into products. A
// feed with any malformed row yields a *FeedError listing every problem
// found, and no products: importing the good rows alone would mark the
// bad rows' SKUs discontinued. Other errors come from reading r.
func Parse(r io.Reader) ([]Product, error) {
	fe := &FeedError{}
	items, err := readItems(r, fe)
	if err != nil {
		return nil, err
	}
	products := group(items, fe)
	if !fe.empty() {
		// Group problems are found after all rows; the operator reads the
		// list top to bottom alongside the file.
		slices.SortStableFunc(fe.Errors, func(a, b RowError) int { return a.Line - b.Line })
		return nil, fe
	}
	return products, nil
}

// readItems returns the valid rows and records the problems of the others.
func readItems(r io.Reader, fe *FeedError) ([]item, error) {
	br := bufio.NewReader(r)
	if bom, err := br.Peek(3); err == nil && string(bom) == "\uFEFF" {
		br.Discard(3)
	}
	cr := csv.NewReader(br)
	cr.FieldsPerRecord = -1 // a short row is reported below, and reading goes on

	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		fe.add(1, "", "the feed is empty; want a header row naming the columns")
		return nil, nil
	}
	if err != nil {
		return nil, csvError(err, fe)
	}
	cols := mapHeader(header, fe)
	if !fe.empty() {
		return nil, nil // without the columns, every row would repeat the same error
	}

	var items []item
	ids := map[string]int{} // lower-cased id → line of its first row
	rows := 0
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			if err := csvError(err, fe); err != nil {
				return nil, err
			}
			rows++
			continue
		}
		rows++
		line, _ := cr.FieldPos(0)
		if len(rec) != len(header) {
			fe.add(line, "", "the row has %d fields, the header %d (a value with a comma must be in double quotes)", len(rec), len(header))
			continue
		}
		it, ok := parseRow(rec, line, cols, fe)
		if it.id != "" && !checkUnique(it.id, line, ids, fe) {
			ok = false
		}
		if ok {
			items = append(items, it)
		}
	}
	if rows == 0 {
		// An empty feed imported would mark every SKU discontinued: far more
		// likely a failed export than a shop closing down.
		fe.add(1, "", "the feed has a header but no items")
	}
	return items, nil
}

// csvError records a CSV syntax error as a row error and returns any other
// error (a failed read, ErrFeedTooLarge), which is no fault of a row.
func csvError(err error, fe *FeedError) error {
	var pe *csv.ParseError
	if !errors.As(err, &pe) {
		return fmt.Errorf("read catalogue feed: %w", err)
	}
	msg := pe.Err.Error()
	switch {
	case errors.Is(pe.Err, csv.ErrBareQuote):
		msg = `a value containing " must be in double quotes, with the " doubled ("")`
	case errors.Is(pe.Err, csv.ErrQuote):
		msg = `a quoted value is not closed, or a " inside it is not doubled ("")`
	}
	if pe.Line != pe.StartLine {
		msg += fmt.Sprintf(" (noticed on line %d)", pe.Line)
	}
	fe.add(pe.StartLine, "", "%s", msg)
	return nil
}

// mapHeader finds the columns the shop uses by name.
func mapHeader(header []string, fe *FeedError) map[string]int {
	wanted := setOf(append(requiredColumns, optionalColumns...)...)
	cols := map[string]int{}
	for i, h := range header {
		name := strings.ToLower(strings.TrimSpace(h))
		if !wanted[name] {
			continue // Meta defines dozens of optional fields; the shop ignores them
		}
		if j, dup := cols[name]; dup {
			fe.add(1, name, "the column appears twice (columns %d and %d)", j+1, i+1)
			continue
		}
		cols[name] = i
	}
	for _, name := range requiredColumns {
		if _, ok := cols[name]; !ok {
			fe.add(1, name, "required column is missing")
		}
	}
	return cols
}

// parseRow checks one row's values, recording every problem.
func parseRow(rec []string, line int, cols map[string]int, fe *FeedError) (item, bool) {
	failed := map[string]bool{}
	fail := func(column, format string, args ...any) {
		fe.add(line, column, format, args...)
		failed[column] = true
	}
	get := func(name string) string {
		i, ok := cols[name]
		if !ok || failed[name] {
			return ""
		}
		v := strings.TrimSpace(rec[i])
		// Postgres text refuses both; say so here, with the line.
		if !utf8.ValidString(v) {
			fail(name, "not UTF-8 text (save the feed as UTF-8)")
			return ""
		}
		if strings.ContainsRune(v, 0) {
			fail(name, "contains a NUL character")
			return ""
		}
		return v
	}
	it := item{
		line: line, id: get("id"), title: get("title"), description: get("description"),
		availability: strings.ToLower(get("availability")), condition: strings.ToLower(get("condition")),
		link: get("link"), imageLink: get("image_link"), brand: get("brand"),
		itemGroupID: get("item_group_id"), size: get("size"), color: get("color"),
	}
	for _, name := range requiredColumns {
		if !failed[name] && strings.TrimSpace(rec[cols[name]]) == "" {
			fail(name, "is required")
		}
	}
	if msg := checkSKU(it.id); it.id != "" && msg != "" {
		fail("id", "%s", msg)
	}
	if it.availability != "" && !availabilities[it.availability] {
		fail("availability", "%q is not one of: in stock, out of stock, preorder, available for order, discontinued", it.availability)
	}
	if it.condition != "" && !conditions[it.condition] {
		fail("condition", "%q is not one of: new, refurbished, used", it.condition)
	}
	if p := get("price"); p != "" {
		var err error
		if it.price, err = ParseMoney(p); err != nil {
			fail("price", "%v", err)
		}
	}
	for _, name := range []string{"link", "image_link"} {
		if v := get(name); v != "" && !isWebURL(v) {
			fail(name, "%q is not an http(s) URL", v)
		}
	}
	quantity, column := get(quantityColumn), quantityColumn
	if _, ok := cols[quantityColumn]; !ok {
		quantity, column = get(legacyQuantityName), legacyQuantityName
	}
	if quantity != "" {
		n, err := strconv.Atoi(quantity)
		if err != nil || n < 0 || n > maxStock || !isDigits(quantity) {
			fail(column, "%q is not a whole number of items (0 or more)", quantity)
		}
		it.quantity = n
	}
	return it, len(failed) == 0
}

// checkSKU explains what is wrong with an id, or returns "".
func checkSKU(id string) string {
	if n := utf8.RuneCountInString(id); n > maxSKULength {
		return fmt.Sprintf("%d characters; Meta allows %d", n, maxSKULength)
	}
	if strings.IndexFunc(id, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0 {
		return fmt.Sprintf("%q contains a space; customers type SKUs in chat, so use letters, digits and dashes", id)
	}
	return ""
}

// checkUnique records a repeated id; case-only differences count, since a
// customer typing "tshirt-m" must find exactly one SKU.
func checkUnique(id string, line int, ids map[string]int, fe *FeedError) bool {
	key := strings.ToLower(id)
	first, seen := ids[key]
	if !seen {
		ids[key] = line
		return true
	}
	fe.add(line, "id", "%q is already the id of line %d; every id must be unique (letter case aside)", id, first)
	return false
}

func isWebURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}
