package catalog

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseMoney(t *testing.T) {
	tests := []struct {
		in      string
		want    Money
		wantErr string // a piece of the message; "" means success
	}{
		{in: "12.50 USD", want: Money{1250, "USD"}},
		{in: "12.5 USD", want: Money{1250, "USD"}},
		{in: "12 USD", want: Money{1200, "USD"}},
		{in: "0.01 EUR", want: Money{1, "EUR"}},
		{in: "  9.99   gbp ", want: Money{999, "GBP"}},
		{in: "1500 JPY", want: Money{1500, "JPY"}},
		{in: "1500.00 JPY", want: Money{1500, "JPY"}}, // spreadsheet zeros carry no value
		{in: "50000 KRW", want: Money{50000, "KRW"}},
		{in: "1.234 KWD", want: Money{1234, "KWD"}},
		{in: "1.5 BHD", want: Money{1500, "BHD"}},
		{in: "3 JOD", want: Money{3000, "JOD"}},
		{in: "2.125 OMR", want: Money{2125, "OMR"}},
		{in: "0.005 TND", want: Money{5, "TND"}},
		{in: "999999999999999.99 USD", want: Money{99999999999999999, "USD"}},
		{in: "999999999999999.999 KWD", want: Money{999999999999999999, "KWD"}},

		{in: "12.505 USD", wantErr: `too many decimals in "12.505": USD has 2 decimal places`},
		{in: "1500.5 JPY", wantErr: `too many decimals in "1500.5": JPY has 0 decimal places`},
		{in: "1.2345 KWD", wantErr: `too many decimals in "1.2345": KWD has 3 decimal places`},
		{in: "12.50USD", wantErr: "needs a space before the currency code"},
		{in: "USD 12.50", wantErr: "put the amount first"},
		{in: "12,50 EUR", wantErr: "use a period as the decimal point"},
		{in: "1,250.00 USD", wantErr: "use a period as the decimal point"},
		{in: "$12.50 USD", wantErr: "not a plain decimal number"},
		{in: "-5.00 USD", wantErr: "not a plain decimal number"},
		{in: ".50 USD", wantErr: "not a plain decimal number"},
		{in: "12. USD", wantErr: "not a plain decimal number"},
		{in: "1e3 USD", wantErr: "not a plain decimal number"},
		{in: "0.00 USD", wantErr: "greater than zero"},
		{in: "12.50 UDS", wantErr: `unknown currency "UDS"`},
		{in: "12.50 US", wantErr: "not an ISO 4217 currency code"},
		{in: "12.50 U$D", wantErr: "not an ISO 4217 currency code"},
		{in: "12.50", wantErr: "not a price like"},
		{in: "", wantErr: "not a price like"},
		{in: "12.50 USD extra", wantErr: "not a price like"},
		{in: "1000000000000000 USD", wantErr: "too large"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseMoney(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseMoney(%q) = %v, %v; want an error containing %q", tt.in, got, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseMoney(%q): %v", tt.in, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseMoney(%q) (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

func TestMoneyString(t *testing.T) {
	tests := []struct {
		m    Money
		want string
	}{
		{Money{1250, "USD"}, "12.50 USD"},
		{Money{5, "EUR"}, "0.05 EUR"},
		{Money{1500, "JPY"}, "1500 JPY"},
		{Money{1234, "KWD"}, "1.234 KWD"},
		{Money{-250, "USD"}, "-2.50 USD"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := tt.m.String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
			if tt.m.Minor > 0 {
				back, err := ParseMoney(tt.want)
				if err != nil || back != tt.m {
					t.Errorf("ParseMoney(String()) = %v, %v; want %v", back, err, tt.m)
				}
			}
		})
	}
}
