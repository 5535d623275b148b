package whatsapp

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestInteractivePayloads(t *testing.T) {
	tests := []struct {
		name    string
		payload json.RawMessage
		want    string
	}{
		{"list", List("Pick one", "View items", Section{Title: "In stock", Rows: []Row{{ID: "sku:A", Title: "A shirt", Description: "15.00 USD"}}}),
			`{"type":"interactive","interactive":{"type":"list","body":{"text":"Pick one"},"action":{"button":"View items","sections":[{"title":"In stock","rows":[{"id":"sku:A","title":"A shirt","description":"15.00 USD"}]}]}}}`},
		{"buttons, at most three", Buttons("Sure?", ReplyButton{"a", "Yes"}, ReplyButton{"b", "No"}, ReplyButton{"c", "Later"}, ReplyButton{"d", "Never"}),
			`{"type":"interactive","interactive":{"type":"button","body":{"text":"Sure?"},"action":{"buttons":[{"type":"reply","reply":{"id":"a","title":"Yes"}},{"type":"reply","reply":{"id":"b","title":"No"}},{"type":"reply","reply":{"id":"c","title":"Later"}}]}}}`},
		{"product", Product("123", "MUG", "Our mug"),
			`{"type":"interactive","interactive":{"type":"product","body":{"text":"Our mug"},"action":{"catalog_id":"123","product_retailer_id":"MUG"}}}`},
		{"cta_url", CTAURL("Your order", "Pay now", "https://pay.example/1"),
			`{"type":"interactive","interactive":{"type":"cta_url","body":{"text":"Your order"},"action":{"name":"cta_url","parameters":{"display_text":"Pay now","url":"https://pay.example/1"}}}}`},
		{"product list", ProductList("123", "Shop", "Browse", Section{Title: "Mugs", ProductItems: []ProductItem{{"MUG"}}}),
			`{"type":"interactive","interactive":{"type":"product_list","header":{"type":"text","text":"Shop"},"body":{"text":"Browse"},"action":{"catalog_id":"123","sections":[{"title":"Mugs","product_items":[{"product_retailer_id":"MUG"}]}]}}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, string(tt.payload)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestLongTitlesAreCutToMetasLimits(t *testing.T) {
	long := strings.Repeat("é", 100)
	var got struct {
		Interactive struct {
			Action struct {
				Button   string
				Sections []Section
			}
		}
	}
	if err := json.Unmarshal(List("b", long, Section{Title: long, Rows: []Row{{ID: "x", Title: long, Description: long}}}), &got); err != nil {
		t.Fatal(err)
	}
	a := got.Interactive.Action
	row := a.Sections[0].Rows[0]
	lengths := []int{len([]rune(a.Button)), len([]rune(a.Sections[0].Title)), len([]rune(row.Title)), len([]rune(row.Description))}
	if diff := cmp.Diff([]int{maxButtonText, maxSectionTitle, maxRowTitle, maxRowDescription}, lengths); diff != "" {
		t.Errorf("lengths (-want +got):\n%s", diff)
	}
}

func TestLongBodiesAreCutToMetasLimits(t *testing.T) {
	long := strings.Repeat("é", 5000)
	var body struct {
		Text        struct{ Body string }
		Interactive struct{ Body struct{ Text string } }
	}
	tests := []struct {
		name    string
		payload json.RawMessage
		text    func() string
		want    int
	}{
		{"text", Text(long), func() string { return body.Text.Body }, maxTextBody},
		{"cta_url", CTAURL(long, "Pay now", "https://pay.example/1"), func() string { return body.Interactive.Body.Text }, maxBodyText},
		{"list", List(long, "View", Section{Rows: []Row{{ID: "x", Title: "x"}}}), func() string { return body.Interactive.Body.Text }, maxBodyText},
		{"buttons", Buttons(long, ReplyButton{"a", "Yes"}), func() string { return body.Interactive.Body.Text }, maxBodyText},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body.Text.Body, body.Interactive.Body.Text = "", ""
			if err := json.Unmarshal(tt.payload, &body); err != nil {
				t.Fatal(err)
			}
			if got := len([]rune(tt.text())); got != tt.want {
				t.Errorf("%d characters, want %d", got, tt.want)
			}
		})
	}
}

func TestTemplateWithURLButton(t *testing.T) {
	got := string(TemplateWithURLButton("payment_link", "en", "cs_test_1", "Ada", "A1B2C3D4"))
	want := `{"type":"template","template":{"name":"payment_link","language":{"code":"en"},"components":[` +
		`{"type":"body","parameters":[{"type":"text","text":"Ada"},{"type":"text","text":"A1B2C3D4"}]},` +
		`{"type":"button","sub_type":"url","index":"0","parameters":[{"type":"text","text":"cs_test_1"}]}]}}`
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
