// Package claim keeps concurrent copies of one delivery apart. Meta and
// Stripe deliver at least once and sometimes at the same moment; a claim is
// a short Redis lease (SET NX PX) that lets one copy work while the others
// step back. It is not what makes work "done": the Postgres row written with
// the effect is. A lost claim (Redis restarted, lease expired) at worst lets
// a second copy reach that row and find the work done.
package claim

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// DefaultLease outlasts any one delivery's work (Netlify gives a function 60
// s, cleanup 30 s) but not Meta's or Stripe's retry interval by much.
const DefaultLease = 90 * time.Second

// releaseScript deletes the claim only if it is still ours: after an expiry
// another copy may hold it.
var releaseScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0`)

// Claims takes leases in Redis.
type Claims struct {
	rdb   redis.UniversalClient
	lease time.Duration
}

// New builds Claims with the given lease (DefaultLease when zero).
func New(rdb redis.UniversalClient, lease time.Duration) *Claims {
	if lease <= 0 {
		lease = DefaultLease
	}
	return &Claims{rdb: rdb, lease: lease}
}

// Take tries to claim key. ok is false when another copy holds it: one at
// work, or one that finished within the lease. Call release when the work
// failed, so a retry need not wait out the lease. After success let the
// lease run out instead: the Postgres row written with the effect answers
// every later copy, and releasing would cost a round trip per delivery.
func (c *Claims) Take(ctx context.Context, key string) (release func(), ok bool, err error) {
	token := newToken()
	ok, err = c.rdb.SetNX(ctx, key, token, c.lease).Result()
	if err != nil {
		return nil, false, fmt.Errorf("claim %s: %w", key, err)
	}
	if !ok {
		return nil, false, nil
	}
	return func() {
		// Detached: the request may be over, and a stuck claim delays retries.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer cancel()
		_ = releaseScript.Run(ctx, c.rdb, []string{key}, token).Err()
	}, true, nil
}

func newToken() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
