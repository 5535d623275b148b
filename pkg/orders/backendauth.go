package orders

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// SignatureHeader carries create-order-proxy's signature to the dedicated
// backend: `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<key>\n<body>")>`
// where key is the request's Idempotency-Key: Stripe's scheme, plus the key,
// so a captured request cannot be replayed later, with another body, or
// under another key (which would make another order; replayed under its own
// key it answers with the same order). A header value holds no newline, so
// the key ends where the body begins.
const SignatureHeader = "X-Backend-Signature"

// signatureTolerance bounds clock skew and replay.
const signatureTolerance = 5 * time.Minute

var (
	ErrNotSigned      = errors.New("orders: request is not signed")
	ErrBadSignature   = errors.New("orders: signature does not match")
	ErrStaleSignature = errors.New("orders: signature is too old or from the future")
)

// SignBackendRequest is the header value for a request with Idempotency-Key
// key and body, at time now.
func SignBackendRequest(key string, body []byte, secret string, now time.Time) string {
	t := strconv.FormatInt(now.Unix(), 10)
	return "t=" + t + ",v1=" + hex.EncodeToString(backendMAC(t, key, body, secret))
}

// VerifyBackendRequest checks a signature in constant time.
func VerifyBackendRequest(key string, body []byte, header, secret string, now time.Time) error {
	if header == "" {
		return ErrNotSigned
	}
	var t, v1 string
	for part := range strings.SplitSeq(header, ",") {
		k, v, _ := strings.Cut(part, "=")
		switch k {
		case "t":
			t = v
		case "v1":
			v1 = v
		}
	}
	ts, err := strconv.ParseInt(t, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: no timestamp", ErrBadSignature)
	}
	if d := now.Sub(time.Unix(ts, 0)); d > signatureTolerance || d < -signatureTolerance {
		return ErrStaleSignature
	}
	got, err := hex.DecodeString(v1)
	if err != nil || !hmac.Equal(got, backendMAC(t, key, body, secret)) {
		return ErrBadSignature
	}
	return nil
}

func backendMAC(t, key string, body []byte, secret string) []byte {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(t + "." + key + "\n"))
	mac.Write(body)
	return mac.Sum(nil)
}
