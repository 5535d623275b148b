package catalog

import (
	"errors"
	"fmt"
	"strings"
)

// ErrFeedTooLarge: the feed is bigger than Load accepts. Reading stops with
// this error rather than at a silent cut, because a truncated feed would
// look valid and mark every missing SKU discontinued.
var ErrFeedTooLarge = errors.New("catalogue feed is too large")

// RowError is one problem in the feed. Line is the line of the CSV file on
// which the row starts (the header is line 1), so the operator can open the
// file at that line; Column names the header column, empty when the problem
// is the row's shape rather than one value.
type RowError struct {
	Line    int
	Column  string
	Message string
}

func (e RowError) String() string {
	if e.Column == "" {
		return fmt.Sprintf("line %d: %s", e.Line, e.Message)
	}
	return fmt.Sprintf("line %d, %s: %s", e.Line, e.Column, e.Message)
}

// maxRowErrors bounds the list: a binary file mistaken for a feed would
// otherwise produce an error per line, millions of them. A thousand is far
// more than anyone fixes before running the import again.
const maxRowErrors = 1000

// FeedError lists every malformed row of a feed. Parse returns all of them
// at once, so the operator fixes the file in one pass instead of one error
// per run; and since any of them fails the whole feed, nothing is imported.
type FeedError struct {
	Errors []RowError
	// Omitted counts errors found beyond maxRowErrors and not listed.
	Omitted int
}

func (e *FeedError) Error() string {
	var b strings.Builder
	n := len(e.Errors) + e.Omitted
	fmt.Fprintf(&b, "catalogue feed has %d error", n)
	if n != 1 {
		b.WriteString("s")
	}
	for i, re := range e.Errors {
		if i == 3 {
			fmt.Fprintf(&b, "; and %d more", n-3)
			break
		}
		b.WriteString("; ")
		b.WriteString(re.String())
	}
	return b.String()
}

// add records one problem, up to maxRowErrors.
func (e *FeedError) add(line int, column, format string, args ...any) {
	if len(e.Errors) >= maxRowErrors {
		e.Omitted++
		return
	}
	e.Errors = append(e.Errors, RowError{Line: line, Column: column, Message: fmt.Sprintf(format, args...)})
}

func (e *FeedError) empty() bool { return len(e.Errors) == 0 && e.Omitted == 0 }
