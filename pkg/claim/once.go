package claim

import (
	"context"
	"errors"
)

// ErrHeld means another copy holds the claim and has not finished the work:
// the caller answers so that the sender delivers again later.
var ErrHeld = errors.New("claim: another copy is at work")

// Once runs work for key with the claim held, so copies of one delivery do
// not work at once. A copy that finds the claim taken asks done (the
// Postgres record written with the effect): the holder may have finished
// within its lease (nil) or still be at work (ErrHeld). The claim can be
// lost (Redis restarted, lease run out), so work itself must check done
// before it acts. The claim is given back only when work fails, so the
// sender's retry can do it; after success it runs out by itself.
func (c *Claims) Once(ctx context.Context, key string, done func(context.Context) (bool, error), work func(context.Context) error) (err error) {
	release, ok, err := c.Take(ctx, key)
	if err != nil {
		return err
	}
	if !ok {
		finished, err := done(ctx)
		if err != nil || finished {
			return err
		}
		return ErrHeld
	}
	defer func() {
		// A panic is a failure too: the claim goes back before it unwinds.
		if p := recover(); p != nil {
			release()
			panic(p)
		}
		if err != nil {
			release()
		}
	}()
	return work(ctx)
}
