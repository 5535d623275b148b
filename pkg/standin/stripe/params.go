package stripe

import (
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// checkKnown rejects the first parameter (in sorted order, so the answer is
// stable) that the endpoint's stripe-go params struct has no field for.
// stripe-go's structs are generated from Stripe's OpenAPI spec, so their form
// tags are the parameters Stripe accepts; a typo or a parameter of another
// API version fails here as it fails at Stripe ("Received unknown
// parameter").
func checkKnown(params map[string][]string, spec any) *apiError {
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	t := reflect.TypeOf(spec)
	for _, k := range keys {
		if !known(t, splitKey(k)) {
			return unknownParam(strings.TrimSuffix(k, "[]"))
		}
	}
	return nil
}

// splitKey splits a form key as Stripe reads it:
// "line_items[0][price_data][currency]" → line_items, 0, price_data, currency;
// "expand[]" → expand, "".
func splitKey(k string) []string {
	head, rest, _ := strings.Cut(k, "[")
	segs := []string{head}
	for rest != "" {
		seg, after, ok := strings.Cut(rest, "]")
		if !ok {
			return append(segs, rest) // malformed: cannot match a field
		}
		segs = append(segs, seg)
		rest = strings.TrimPrefix(after, "[")
	}
	return segs
}

// known reports whether the path segs leads somewhere in t. A path may stop
// at a container: Stripe reads metadata= (empty) as "unset all".
func known(t reflect.Type, segs []string) bool {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if len(segs) == 0 {
		return true
	}
	switch t.Kind() {
	case reflect.Struct:
		f, ok := formField(t, segs[0])
		return ok && known(f, segs[1:])
	case reflect.Slice, reflect.Array:
		if _, err := strconv.Atoi(segs[0]); err != nil && segs[0] != "" {
			return false
		}
		return known(t.Elem(), segs[1:])
	case reflect.Map:
		return known(t.Elem(), segs[1:])
	}
	return false // a scalar cannot have sub-keys
}

// formField finds the field tagged form:"name", looking through embedded
// form:"*" structs (stripe.Params carries expand and metadata).
func formField(t reflect.Type, name string) (reflect.Type, bool) {
	key := fieldKey{t, name}
	if hit, ok := formFields.Load(key); ok {
		ft, _ := hit.(reflect.Type)
		return ft, ft != nil
	}
	ft, ok := findFormField(t, name)
	formFields.Store(key, ft)
	return ft, ok
}

// formFields caches formField: reflecting over stripe-go's large params
// structs on every request made the stand-in a visible cost in benchmarks
// that are meant to measure the shop.
var formFields sync.Map // fieldKey → reflect.Type (nil when absent)

type fieldKey struct {
	t    reflect.Type
	name string
}

func findFormField(t reflect.Type, name string) (reflect.Type, bool) {
	for i := range t.NumField() {
		f := t.Field(i)
		tag, _, _ := strings.Cut(f.Tag.Get("form"), ",")
		switch {
		case tag == name:
			return f.Type, true
		case tag == "*" && f.Type.Kind() == reflect.Struct:
			if ft, ok := findFormField(f.Type, name); ok {
				return ft, true
			}
		}
	}
	return nil, false
}

// intParam reads an optional integer parameter.
func intParam(params map[string][]string, key string) (v int64, set bool, e *apiError) {
	vals, ok := params[key]
	if !ok || len(vals) == 0 {
		return 0, false, nil
	}
	n, err := strconv.ParseInt(vals[0], 10, 64)
	if err != nil {
		return 0, true, invalidInteger(key, vals[0])
	}
	return n, true, nil
}

// metadataParam collects prefix[k]=v pairs (metadata[…] or
// payment_intent_data[metadata][…]) and applies Stripe's metadata limits:
// 50 keys, keys up to 40 characters, values up to 500.
func metadataParam(params map[string][]string, prefix string) (map[string]string, *apiError) {
	md := map[string]string{}
	for k, vals := range params {
		name, ok := strings.CutPrefix(k, prefix+"[")
		if !ok || !strings.HasSuffix(name, "]") || len(vals) == 0 {
			continue
		}
		name = strings.TrimSuffix(name, "]")
		if utf8.RuneCountInString(name) > 40 {
			return nil, invalidRequest(k, fmt.Sprintf("Metadata keys can have up to 40 characters: %q.", name))
		}
		if utf8.RuneCountInString(vals[0]) > 500 {
			return nil, invalidRequest(k, fmt.Sprintf("Metadata values can have up to 500 characters, but value for key %q has %d.", name, utf8.RuneCountInString(vals[0])))
		}
		if vals[0] != "" { // an empty value unsets the key
			md[name] = vals[0]
		}
	}
	if len(md) > 50 {
		return nil, invalidRequest(prefix, "Metadata can have up to 50 keys.")
	}
	return md, nil
}
