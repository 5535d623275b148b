// Package config reads the shop's settings from the environment.
//
// Settings come in sections (Database, WhatsAppAPI, StripeWebhook, …) so each
// function asks only for what it uses. Load fills the sections it is given and
// reports every missing or malformed variable in one error, naming variables
// but never printing their values: several of them are secrets.
package config

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/kelseyhightower/envconfig"
)

// Error lists every problem found in the environment, one per variable.
type Error struct {
	Problems []string
}

func (e *Error) Error() string {
	return "configuration: " + strings.Join(e.Problems, "; ")
}

// validator is implemented by sections whose variables depend on each other
// (BACKEND_URL is required only in proxy mode, say).
type validator interface {
	validate() []string
}

// Load fills each section (a pointer to a struct with envconfig tags) from
// the process environment.
func Load(sections ...any) error {
	var problems []string
	for _, s := range sections {
		loadProblems := loadSection(s)
		problems = append(problems, loadProblems...)
		if v, ok := s.(validator); ok && len(loadProblems) == 0 {
			problems = append(problems, v.validate()...)
		}
	}
	if len(problems) == 0 {
		return nil
	}
	// Sections may share a variable (WHATSAPP_PHONE_NUMBER_ID): say it once.
	slices.Sort(problems)
	return &Error{Problems: slices.Compact(problems)}
}

// loadSection processes one field at a time because envconfig stops at the
// first bad variable, and operators deserve the whole list in one deploy.
func loadSection(section any) []string {
	v := reflect.ValueOf(section)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		panic(fmt.Sprintf("config: section %T is not a pointer to a struct", section))
	}
	v = v.Elem()
	var problems []string
	for i := range v.NumField() {
		field := v.Type().Field(i)
		one := reflect.New(reflect.StructOf([]reflect.StructField{field}))
		if err := envconfig.Process("", one.Interface()); err != nil {
			problems = append(problems, describe(field, err))
			continue
		}
		value := one.Elem().Field(0)
		// envconfig accepts a variable that is set but empty; for a required
		// secret or URL that is as good as missing.
		if field.Tag.Get("required") == "true" && value.IsZero() {
			problems = append(problems, field.Tag.Get("envconfig")+" is required")
			continue
		}
		v.Field(i).Set(value)
	}
	return problems
}

// describe words an envconfig error without the offending value, which may be
// a secret.
func describe(field reflect.StructField, err error) string {
	name := field.Tag.Get("envconfig")
	var parseErr *envconfig.ParseError
	if errors.As(err, &parseErr) {
		return fmt.Sprintf("%s is not a valid %s", name, kindName(field.Type))
	}
	return name + " is required"
}

func kindName(t reflect.Type) string {
	switch t.String() {
	case "time.Duration":
		return "duration (like 10m or 90s)"
	case "int", "int32", "int64":
		return "integer"
	case "bool":
		return "boolean"
	}
	return t.String()
}
