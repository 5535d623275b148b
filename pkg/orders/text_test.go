package orders

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestNormaliseRefusesWhatPostgresCouldNotStore(t *testing.T) {
	tests := []struct {
		name  string
		lines []Line
	}{
		{"sum that would wrap around", []Line{{"TEE", math.MaxInt}, {"TEE", math.MaxInt}, {"TEE", 7}}},
		{"one line over the limit", []Line{{"TEE", 11}}},
		{"lines over the limit together", []Line{{"TEE", 6}, {" TEE", 5}}},
		{"NUL in a SKU", []Line{{"TEE\x00", 1}}},
		{"invalid UTF-8 in a SKU", []Line{{"TEE\xff", 1}}},
		{"SKU longer than the schema allows", []Line{{string(make([]byte, 101)), 1}}},
		{"more items than Checkout takes", manyLines(maxLines + 1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := normalise(tt.lines, 10); !errors.Is(err, ErrInvalid) {
				t.Errorf("err = %v, want ErrInvalid", err)
			}
		})
	}
	got, err := normalise([]Line{{"TEE", 4}, {"TEE ", 6}, {"MUG", 1}}, 10)
	if diff := cmp.Diff([]Line{{"MUG", 1}, {"TEE", 10}}, got); err != nil || diff != "" {
		t.Errorf("merged lines (-want +got):\n%s err %v", diff, err)
	}
	if got, err := normalise(append(manyLines(maxLines), manyLines(maxLines)...), 10); len(got) != maxLines || err != nil {
		t.Errorf("%d different items, each twice: %d lines, %v; want %d and no error", maxLines, len(got), err, maxLines)
	}
}

// manyLines is n different SKUs, one of each.
func manyLines(n int) []Line {
	lines := make([]Line, n)
	for i := range lines {
		lines[i] = Line{SKU: fmt.Sprintf("SKU-%d", i), Quantity: 1}
	}
	return lines
}

func TestCheckCustomer(t *testing.T) {
	for _, bad := range []Customer{{WaID: "1555\x00"}, {WaID: strings.Repeat("1", 141)}, {WaID: "guest:x"}, {WaID: "1", UserID: "\xff"}} {
		if _, err := checkCustomer(bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("checkCustomer(%q) err = %v, want ErrInvalid", bad.WaID, err)
		}
	}
	// A name is the customer's own: tidied, never a reason to refuse.
	got, err := checkCustomer(Customer{WaID: "15550001", Name: " Ada\x00\xff\n"})
	if err != nil || got.Name != "Ada" {
		t.Errorf("name %q, err %v; want Ada", got.Name, err)
	}
}
