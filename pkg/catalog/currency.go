package catalog

// exponent is the number of decimals of a currency's minor unit, from the
// ISO 4217 list of active currencies (fund and precious-metal codes left
// out: nobody prices a T-shirt in XAU). The list is closed on purpose: a
// typo like "UDS" must be an error, not a guess of two decimals.
//
// Stripe rounds a few of these differently when charging (it treats HUF and
// TWD amounts as whole units for some operations, for example); that is the
// payments package's concern. The catalogue stores what ISO defines.
func exponent(currency string) (int, bool) {
	if e, ok := unusualExponents[currency]; ok {
		return e, true
	}
	if twoDecimalCurrencies[currency] {
		return 2, true
	}
	return 0, false
}

// unusualExponents: currencies without cents, or with thousandths.
var unusualExponents = map[string]int{
	// No minor unit.
	"BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0,
	"KRW": 0, "PYG": 0, "RWF": 0, "UGX": 0, "VND": 0, "VUV": 0, "XAF": 0,
	"XOF": 0, "XPF": 0,
	// Thousandths (fils, baisa, millimes, dirhams).
	"BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
}

var twoDecimalCurrencies = setOf(
	"AED", "AFN", "ALL", "AMD", "ANG", "AOA", "ARS", "AUD", "AWG", "AZN",
	"BAM", "BBD", "BDT", "BGN", "BMD", "BND", "BOB", "BRL", "BSD", "BTN",
	"BWP", "BYN", "BZD", "CAD", "CDF", "CHF", "CNY", "COP", "CRC", "CUP",
	"CVE", "CZK", "DKK", "DOP", "DZD", "EGP", "ERN", "ETB", "EUR", "FJD",
	"FKP", "GBP", "GEL", "GHS", "GIP", "GMD", "GTQ", "GYD", "HKD", "HNL",
	"HTG", "HUF", "IDR", "ILS", "INR", "IRR", "JMD", "KES", "KGS", "KHR",
	"KPW", "KYD", "KZT", "LAK", "LBP", "LKR", "LRD", "LSL", "MAD", "MDL",
	"MGA", "MKD", "MMK", "MNT", "MOP", "MRU", "MUR", "MVR", "MWK", "MXN",
	"MYR", "MZN", "NAD", "NGN", "NIO", "NOK", "NPR", "NZD", "PAB", "PEN",
	"PGK", "PHP", "PKR", "PLN", "QAR", "RON", "RSD", "RUB", "SAR", "SBD",
	"SCR", "SDG", "SEK", "SGD", "SHP", "SLE", "SOS", "SRD", "SSP", "STN",
	"SVC", "SYP", "SZL", "THB", "TJS", "TMT", "TOP", "TRY", "TTD", "TWD",
	"TZS", "UAH", "USD", "UYU", "UZS", "VES", "VED", "WST", "XCD", "XCG",
	"YER", "ZAR", "ZMW", "ZWG",
)

func setOf(codes ...string) map[string]bool {
	m := make(map[string]bool, len(codes))
	for _, c := range codes {
		m[c] = true
	}
	return m
}
