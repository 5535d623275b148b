package inventory

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"

	"github.com/redis/go-redis/v9"

	"github.com/wa-shop/shop/scripts"
)

var (
	reserveScript   = newScript(scripts.Reserve)
	releaseScript   = newScript(scripts.Release)
	commitScript    = newScript(scripts.Commit)
	extendScript    = newScript(scripts.Extend)
	restockScript   = newScript(scripts.Restock)
	rebuildScript   = newScript(scripts.Rebuild)
	reconcileScript = newScript(scripts.Reconcile)
)

// script runs one of the Lua scripts by its SHA1. Redis keeps a script
// until it restarts or SCRIPT FLUSH; EVALSHA then answers NOSCRIPT, and the
// source goes once more with EVAL, which caches it again.
//
// It does what redis.Script.Run does, but the caller builds the whole
// command in one slice (see command), which Reserve, the shop's hottest
// path, notices: redis.Script copies keys and arguments into a new slice
// and boxes every key again.
type script struct {
	// Boxed once, so a call does not allocate them again.
	src, sha any
}

func newScript(src string) *script {
	sum := sha1.Sum([]byte(src))
	return &script{src: src, sha: hex.EncodeToString(sum[:])}
}

// command starts a call with keys keys and room for args more arguments;
// append the keys, then the arguments.
func (s *script) command(keys, args int) []any {
	cmd := make([]any, 3, 3+keys+args)
	cmd[2] = keys
	return cmd
}

// run sends a command built with command.
func (s *script) run(ctx context.Context, rdb redis.UniversalClient, cmd []any) *redis.Cmd {
	cmd[0], cmd[1] = "evalsha", s.sha
	c := s.send(ctx, rdb, cmd)
	if err := c.Err(); err != nil && (errors.Is(err, redis.ErrNoScript) || redis.HasErrorPrefix(err, "NOSCRIPT")) {
		cmd[0], cmd[1] = "eval", s.src
		c = s.send(ctx, rdb, cmd)
	}
	return c
}

func (s *script) send(ctx context.Context, rdb redis.UniversalClient, cmd []any) *redis.Cmd {
	c := redis.NewCmd(ctx, cmd...)
	// A cluster client routes by the first key, every one in the {inv} slot.
	c.SetFirstKeyPos(3)
	_ = rdb.Process(ctx, c)
	return c
}
