// Package whatsapp speaks the WhatsApp Cloud API: it checks and reads Meta's
// webhooks and (with the WhatsApp issue) sends messages.
package whatsapp

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
)

// SignatureHeader carries Meta's HMAC-SHA256 of the raw body, keyed with the
// app secret.
const SignatureHeader = "X-Hub-Signature-256"

var (
	ErrNotSigned    = errors.New("whatsapp: missing X-Hub-Signature-256")
	ErrBadSignature = errors.New("whatsapp: signature does not match the body")
)

// VerifySignature checks header (`sha256=<hex>`) against the exact bytes
// Meta sent, in constant time, before anything parses them.
func VerifySignature(body []byte, header, appSecret string) error {
	if header == "" {
		return ErrNotSigned
	}
	hexSum, ok := strings.CutPrefix(header, "sha256=")
	if !ok {
		return ErrBadSignature
	}
	got, err := hex.DecodeString(hexSum)
	if err != nil {
		return ErrBadSignature
	}
	if !hmac.Equal(got, Sign(body, appSecret)) {
		return ErrBadSignature
	}
	return nil
}

// Sign computes the raw HMAC-SHA256 Meta sends.
func Sign(body []byte, appSecret string) []byte {
	mac := hmac.New(sha256.New, []byte(appSecret))
	mac.Write(body)
	return mac.Sum(nil)
}

// SignatureHeaderValue is the header value for body: what Meta would send,
// for tests and the storm harness.
func SignatureHeaderValue(body []byte, appSecret string) string {
	return "sha256=" + hex.EncodeToString(Sign(body, appSecret))
}
