package config

import (
	"os"
	"reflect"
	"regexp"
	"testing"
)

// Every variable any section reads must be documented in .env.example.
func TestEnvExampleListsEveryVariable(t *testing.T) {
	raw, err := os.ReadFile("../../.env.example")
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^#? ?([A-Z][A-Z0-9_]+)=`).FindAllSubmatch(raw, -1) {
		documented[string(m[1])] = true
	}
	sections := []any{Database{}, Redis{}, WhatsAppInbound{}, WhatsAppAPI{}, StripeAPI{}, StripeWebhook{},
		Orders{}, Backend{}, OrderAPI{}, Admin{}, Catalog{}, Server{}, Logging{}}
	for _, s := range sections {
		typ := reflect.TypeOf(s)
		for i := range typ.NumField() {
			name := typ.Field(i).Tag.Get("envconfig")
			if !documented[name] {
				t.Errorf("%s (config.%s) is missing from .env.example", name, typ.Name())
			}
		}
	}
}
