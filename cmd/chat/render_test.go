package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/wa-shop/shop/pkg/whatsapp"
)

func golden(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "replies", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestRender(t *testing.T) {
	const standInLink = "http://127.0.0.1:40123/pay/cs_test_a1B2c3D4e5"
	tests := []struct {
		name string
		body []byte
		want view
	}{
		{"text with a payment link", golden(t, "text_payment_link.json"), view{
			Text: "Your order 1A2B3C4D:\n• 2 × T-shirt M — €40.00\nTotal: €40.00\n\nPay here: " + standInLink +
				"\n\nWe hold your items until 16:10 UTC.",
			PayURL: standInLink,
		}},
		{"text as whatsapp.Text builds it", whatsapp.Text("Send \"menu\" to order again."), view{
			Text: `Send "menu" to order again.`,
		}},
		{"list as the shop sends it", golden(t, "list_catalogue.json"), view{
			Text: "Here is what we have. Tap an item to order it.\n[View items]\nIn stock\n" +
				"  1. T-shirt M · €20.00 — 5 left\n  2. Mug · €8.00\n  3. More… — See more items",
			Choices: []choice{
				{Kind: "list_reply", ID: "sku:TSHIRT-M", Title: "T-shirt M · €20.00", Description: "5 left"},
				{Kind: "list_reply", ID: "sku:MUG", Title: "Mug · €8.00"},
				{Kind: "list_reply", ID: "page:2", Title: "More…", Description: "See more items"},
			},
		}},
		{"list numbered across sections", golden(t, "list_sections.json"), view{
			Text: "*Choose Shipping Option*\nWhich shipping option do you prefer?\n_Lucky Shrub: Your gateway to succulents™_\n" +
				"[Shipping Options]\nI want it ASAP!\n  1. Priority Mail Express — Next Day to 2 Days\n  2. Priority Mail — 1–3 Days\n" +
				"I can wait a bit\n  3. USPS Ground Advantage — 2–5 Days",
			Choices: []choice{
				{Kind: "list_reply", ID: "priority_express", Title: "Priority Mail Express", Description: "Next Day to 2 Days"},
				{Kind: "list_reply", ID: "priority_mail", Title: "Priority Mail", Description: "1–3 Days"},
				{Kind: "list_reply", ID: "usps_ground_advantage", Title: "USPS Ground Advantage", Description: "2–5 Days"},
			},
		}},
		{"reply buttons", golden(t, "button.json"), view{
			Text: "[image]\nHi Pablo! Your gardening workshop is scheduled for 9am tomorrow. Use the buttons if you need to reschedule. Thank you!\n" +
				"_Lucky Shrub: Your gateway to succulents!™_\n  1. [Change]\n  2. [Cancel]",
			Choices: []choice{
				{Kind: "button_reply", ID: "change-button", Title: "Change"},
				{Kind: "button_reply", ID: "cancel-button", Title: "Cancel"},
			},
		}},
		{"product list", golden(t, "product_list.json"), view{
			Text: "*Our shop*\nAdd what you like to your cart and send it.\nT-shirts\n  • TSHIRT-M\n  • TSHIRT-L\nMugs\n  • MUG\n" +
				"(catalogue 194836987003835: chat cannot fill a cart; order in words)",
		}},
		{"single product", golden(t, "product.json"), view{
			Text: "Back in stock!\n_Reply to order_\n[product TSHIRT-M from catalogue 194836987003835]",
		}},
		{"template with parameters", golden(t, "template.json"), view{
			Text: "[template order_confirmation (en)]\nbody: Ada | 1A2B3C4D | €40.00 | 2 × T-shirt M\nbutton quick_reply: track-1A2B3C4D",
		}},
		{"template as whatsapp.Template builds it", whatsapp.Template("shipping_update", "en_US", "Ada", "1A2B3C4D"), view{
			Text: "[template shipping_update (en_US)]\nbody: Ada | 1A2B3C4D",
		}},
		{"template without parameters", whatsapp.Template("hello_world", "en_US"), view{
			Text: "[template hello_world (en_US)]",
		}},
		{"payment link behind a button", golden(t, "cta_url.json"), view{
			Text: "Your order 1A2B3C4D:\n• 2 × T-shirt M — €40.00\nTotal: €40.00\n\nWe hold your items until 16:10 UTC.\n" +
				"[Pay now] " + standInLink,
			PayURL: standInLink,
		}},
		{"call-to-action link as whatsapp.CTAURL builds it", whatsapp.CTAURL("Track your parcel.", "Track", "https://example.com/t/1"), view{
			Text: "Track your parcel.\n[Track] https://example.com/t/1",
		}},
		{"buttons as whatsapp.Buttons builds them", whatsapp.Buttons("Keep the order?",
			whatsapp.ReplyButton{ID: "keep", Title: "Keep"}, whatsapp.ReplyButton{ID: "cancel", Title: "Cancel"}), view{
			Text:    "Keep the order?\n  1. [Keep]\n  2. [Cancel]",
			Choices: []choice{{Kind: "button_reply", ID: "keep", Title: "Keep"}, {Kind: "button_reply", ID: "cancel", Title: "Cancel"}},
		}},
		{"product as whatsapp.Product builds it", whatsapp.Product("194836987003835", "MUG", "Our mug."), view{
			Text: "Our mug.\n[product MUG from catalogue 194836987003835]",
		}},
		{"template with a URL button", whatsapp.TemplateWithURLButton("shipping_update", "en", "orders/1A2B", "Ada"), view{
			Text: "[template shipping_update (en)]\nbody: Ada\nbutton url: orders/1A2B",
		}},
		{"a type chat does not know is shown raw", []byte(`{"type":"image","image":{"id":"1"}}`), view{
			Text: `(image message) {"type":"image","image":{"id":"1"}}`,
		}},
		{"an interactive type chat does not know is shown raw", []byte(`{"type":"interactive","interactive":{"type":"flow"}}`), view{
			Text: `(interactive message) {"type":"interactive","interactive":{"type":"flow"}}`,
		}},
		{"not JSON", []byte(`{`), view{Text: "(unreadable) {"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, render(tt.body)); diff != "" {
				t.Errorf("render (-want +got):\n%s", diff)
			}
		})
	}
}
