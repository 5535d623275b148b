// Package testenv gives integration tests their own database and Redis
// database on the real servers that `./build.sh test` starts.
//
// Tests run against DATABASE_URL and REDIS_URL. Without them a test skips
// locally, but fails under CI=true: CI must never pass by testing nothing.
package testenv

import (
	"os"
	"testing"
)

// need returns the variable or stops the test the right way for where it
// runs.
func need(t testing.TB, name string) string {
	t.Helper()
	v := os.Getenv(name)
	if v != "" {
		return v
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is not set: integration tests must run in CI (use ./build.sh test)", name)
	}
	t.Skipf("%s is not set: run ./build.sh test to start Postgres and Redis", name)
	return ""
}
