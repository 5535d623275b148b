package testenv

import (
	"testing"
)

func TestDBHasSchemaAndIsPrivate(t *testing.T) {
	a, b := DB(t), DB(t)
	if _, err := a.Exec(t.Context(), `INSERT INTO customers (wa_id) VALUES ('15550001111')`); err != nil {
		t.Fatalf("insert into a: %v", err)
	}
	var n int
	if err := b.QueryRow(t.Context(), `SELECT count(*) FROM customers`).Scan(&n); err != nil {
		t.Fatalf("count in b: %v", err)
	}
	if n != 0 {
		t.Errorf("second database sees %d customers of the first, want 0", n)
	}
}

func TestRedisDatabasesAreSeparate(t *testing.T) {
	a, b := Redis(t), Redis(t)
	if err := a.Set(t.Context(), "{inv}:epoch", "1", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if n := b.Exists(t.Context(), "{inv}:epoch").Val(); n != 0 {
		t.Errorf("second Redis database sees the first's key")
	}
}
