package conversation

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestReadIntent(t *testing.T) {
	tests := []struct {
		text string
		want intent
	}{
		{"buy TSHIRT-M 2", intent{buy: true, sku: "TSHIRT-M", quantity: 2}},
		{"  BUY tshirt-m  ", intent{buy: true, sku: "tshirt-m", quantity: 1}},
		{"order MUG-BLK x3", intent{buy: true, sku: "MUG-BLK", quantity: 3}},
		{"buy", intent{}},
		{"buy two shirts please", intent{}},
		{"hi", intent{}},
		{"menu", intent{}},
		{"buy TSHIRT-M 99999", intent{}},
		{"cancel", intent{cancel: true}},
		{" Cancel my order! ", intent{cancel: true}},
		{"cancel order", intent{cancel: true}},
		{"cancel everything", intent{}},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, readIntent(tt.text), cmp.AllowUnexported(intent{})); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func FuzzReadIntent(f *testing.F) {
	f.Add("buy TSHIRT-M 2")
	f.Add("order x x9")
	f.Fuzz(func(t *testing.T, text string) {
		if in := readIntent(text); in.buy && (in.sku == "" || in.quantity < 0) || in.buy && in.cancel {
			t.Errorf("readIntent(%q) = %+v", text, in)
		}
	})
}
