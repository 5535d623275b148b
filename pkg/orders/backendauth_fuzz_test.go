package orders

import (
	"errors"
	"testing"
	"time"
)

// fuzzKey is the Idempotency-Key the fuzzed requests carry.
const fuzzKey = "3f0c8a1e-idem"

// FuzzVerifyBackendRequest checks the dedicated backend's signature check
// with whatever body, header and clock skew the fuzzer makes: the fuzzer's
// own header never passes (it cannot know the secret), a header signed now
// passes, and the same header fails once the body changes in one byte, the
// Idempotency-Key or the secret differs, or more than the tolerance has
// passed.
func FuzzVerifyBackendRequest(f *testing.F) {
	const secret = "backend-secret"
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	f.Add([]byte(`{"items":[{"sku":"TEE","quantity":1}]}`), "t=1795800000,v1=00", int64(0), uint16(3))
	f.Add([]byte{}, "", int64(301), uint16(0))
	f.Add([]byte("x"), "t=+1795800000,v1=zz,v1=", int64(-301), uint16(1))
	f.Add([]byte("x"), "v1=,t=", int64(1<<62), uint16(7))
	f.Add([]byte(`{}`), "t=-9223372036854775808,"+SignBackendRequest(fuzzKey, []byte(`{}`), secret, now)[13:], int64(-1<<62), uint16(2))

	f.Fuzz(func(t *testing.T, body []byte, header string, skew int64, at uint16) {
		// Only a signature made with the secret may pass; the fuzzer's could
		// only by chance equal one for a time within tolerance.
		if err := VerifyBackendRequest(fuzzKey, body, header, secret, now); err == nil && !signedWithin(body, header, secret, now) {
			t.Fatalf("the fuzzer's header %q passed", header)
		}

		signed := SignBackendRequest(fuzzKey, body, secret, now)
		if err := VerifyBackendRequest(fuzzKey, body, signed, secret, now); err != nil {
			t.Fatalf("a fresh signature failed: %v", err)
		}
		if err := VerifyBackendRequest(fuzzKey, body, signed, secret+"x", now); !errors.Is(err, ErrBadSignature) {
			t.Fatalf("another secret: err = %v, want ErrBadSignature", err)
		}
		if err := VerifyBackendRequest(fuzzKey+"2", body, signed, secret, now); !errors.Is(err, ErrBadSignature) {
			t.Fatalf("another Idempotency-Key: err = %v, want ErrBadSignature", err)
		}
		if len(body) > 0 {
			changed := append([]byte{}, body...)
			changed[int(at)%len(changed)] ^= byte(at>>8) | 1
			if err := VerifyBackendRequest(fuzzKey, changed, signed, secret, now); !errors.Is(err, ErrBadSignature) {
				t.Fatalf("a changed body: err = %v, want ErrBadSignature", err)
			}
		}
		later := now.Add(time.Duration(skew % int64(24*time.Hour)))
		err := VerifyBackendRequest(fuzzKey, body, signed, secret, later)
		if d := later.Sub(now); d > signatureTolerance || d < -signatureTolerance {
			if !errors.Is(err, ErrStaleSignature) {
				t.Fatalf("checked %v later: err = %v, want ErrStaleSignature", d, err)
			}
		} else if err != nil {
			t.Fatalf("checked %v later, within tolerance: %v", d, err)
		}
	})
}

// signedWithin reports whether header is a valid signature of body made at
// some second within the tolerance of now (a header the fuzzer cannot make
// without the secret, but which must then pass).
func signedWithin(body []byte, header, secret string, now time.Time) bool {
	for d := -signatureTolerance; d <= signatureTolerance; d += time.Second {
		if SignBackendRequest(fuzzKey, body, secret, now.Add(d)) == header {
			return true
		}
	}
	return false
}
