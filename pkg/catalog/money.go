package catalog

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Money is an amount in the minor units of an ISO 4217 currency (cents for
// USD, yen for JPY, fils for KWD). It never passes through a float: 0.1 has
// no exact binary form, and a price that drifts by a cent is a wrong charge.
type Money struct {
	Minor    int64
	Currency string
}

// String writes the amount the way the feed does, "12.50 USD".
func (m Money) String() string {
	exp, ok := exponent(m.Currency)
	if !ok || exp == 0 {
		return fmt.Sprintf("%d %s", m.Minor, m.Currency)
	}
	sign, v := "", m.Minor
	if v < 0 {
		sign, v = "-", -v
	}
	scale := pow10(exp)
	return fmt.Sprintf("%s%d.%0*d %s", sign, v/scale, exp, v%scale, m.Currency)
}

// maxIntegerDigits keeps amount × 10^3 (the largest exponent we accept)
// inside int64, which holds a little over 9.2 × 10^18.
const maxIntegerDigits = 15

// ParseMoney reads a feed price: a number, a space, and an ISO 4217 code, as
// Meta documents it ("9.99 USD"). The decimal separator is a period; Meta
// says not to use a comma, and a comma could as well be a thousands
// separator, so both are refused rather than guessed at.
//
// The number may have fewer decimals than the currency ("12.5 USD" is 1250
// cents) and, for spreadsheets that format every cell with two decimals,
// extra decimals that are zeros ("1500.00 JPY"). A non-zero digit beyond
// the currency's exponent ("12.505 USD", "1500.50 JPY") has no meaning in
// that currency and is an error. A price must be greater than zero: Stripe
// Checkout cannot charge nothing, and a zero in a feed is almost always a
// blank cell.
func ParseMoney(s string) (Money, error) {
	parts := strings.Fields(s)
	if len(parts) != 2 {
		if len(parts) == 1 && len(parts[0]) > 3 && isLetters(parts[0][len(parts[0])-3:]) {
			return Money{}, fmt.Errorf("%q needs a space before the currency code, like \"12.50 USD\"", s)
		}
		return Money{}, fmt.Errorf("%q is not a price like \"12.50 USD\" (a number, a space, an ISO 4217 currency code)", s)
	}
	amount, code := parts[0], strings.ToUpper(parts[1])
	if isLetters(amount) && !isLetters(code) {
		return Money{}, fmt.Errorf("%q: put the amount first, like \"12.50 USD\"", s)
	}
	if !isLetters(code) || len(code) != 3 {
		return Money{}, fmt.Errorf("%q is not an ISO 4217 currency code", parts[1])
	}
	exp, ok := exponent(code)
	if !ok {
		return Money{}, fmt.Errorf("unknown currency %q", parts[1])
	}
	minor, err := parseAmount(amount, code, exp)
	if err != nil {
		return Money{}, err
	}
	if minor == 0 {
		return Money{}, errors.New("price must be greater than zero")
	}
	return Money{Minor: minor, Currency: code}, nil
}

// parseAmount turns "12.50" into 1250 when exp is 2, digit by digit.
func parseAmount(amount, code string, exp int) (int64, error) {
	whole, frac, hasPoint := strings.Cut(amount, ".")
	switch {
	case whole == "" || !isDigits(whole) || (hasPoint && (frac == "" || !isDigits(frac))):
		if strings.Contains(amount, ",") {
			return 0, fmt.Errorf("%q: use a period as the decimal point and no thousands separators", amount)
		}
		return 0, fmt.Errorf("%q is not a plain decimal number like 12.50", amount)
	case len(whole) > maxIntegerDigits:
		return 0, fmt.Errorf("%q is too large", amount)
	}
	if len(frac) > exp {
		if strings.Trim(frac[exp:], "0") != "" {
			return 0, fmt.Errorf("too many decimals in %q: %s has %d decimal places", amount, code, exp)
		}
		frac = frac[:exp]
	}
	frac += strings.Repeat("0", exp-len(frac))
	// At most 15 + 3 digits: fits int64, so ParseInt cannot overflow.
	return strconv.ParseInt(whole+frac, 10, 64)
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

func isLetters(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i] | 0x20 // ASCII lower case
		if c < 'a' || c > 'z' {
			return false
		}
	}
	return s != ""
}

func pow10(n int) int64 {
	p := int64(1)
	for range n {
		p *= 10
	}
	return p
}
