package main

import (
	"fmt"
	"io"
	"os"

	"github.com/wa-shop/shop/pkg/config"
)

// printBanner tells a developer where everything listens and how to talk to
// it. Values printed here are local dev defaults or URLs, never secrets from
// the user's .env.
func printBanner(w io.Writer, server config.Server, s *standins) {
	base := fmt.Sprintf("http://localhost:%d", server.Port)
	fmt.Fprintf(w, "\nThe shop is running. Ctrl-C stops everything.\n\n")
	for _, fn := range []string{"webhook", "payment-callback", "create-order-proxy", "cleanup"} {
		fmt.Fprintf(w, "  %-20s %s/.netlify/functions/%s\n", fn, base, fn)
	}
	fmt.Fprintf(w, "  %-20s %s/webhook  %s/payment-callback  %s/create-order\n", "short paths", base, base, base)
	fmt.Fprintf(w, "  %-20s %s\n", "Graph API", describe(s.GraphURL, "WHATSAPP_API_BASE_URL"))
	fmt.Fprintf(w, "  %-20s %s\n", "Stripe API", describe(s.StripeURL, "STRIPE_API_BASE_URL"))
	fmt.Fprintf(w, "\nTry the webhook handshake:\n  curl '%s/webhook?hub.mode=subscribe&hub.verify_token=%s&hub.challenge=42'\n",
		base, shown("VERIFY_TOKEN"))
	if s.GraphURL != "" {
		fmt.Fprintf(w, "Messages the shop sent:\n  curl %s/_control/messages\n", s.GraphURL)
		chat := "./build.sh chat"
		if s.file != defaultStandinsFile {
			chat += " -standins " + s.file
		}
		fmt.Fprintf(w, "Chat with the shop as a customer, in another terminal:\n  %s\n", chat)
	}
	fmt.Fprintf(w, "Run cleanup:\n  curl -X POST -H 'Authorization: Bearer %s' %s/.netlify/functions/cleanup\n",
		shown("ADMIN_API_KEY"), base)
	fmt.Fprintf(w, "Re-import the catalogue feed (%s):\n  curl -X POST -H 'Authorization: Bearer %s' %s/catalog-sync\n\n",
		shown("CATALOG_FEED_URL"), shown("ADMIN_API_KEY"), base)
}

func describe(standinURL, variable string) string {
	if standinURL != "" {
		return standinURL + " (local stand-in)"
	}
	return "configured by " + variable
}

// shown prints a dev default as is, and hides a value the user set.
func shown(key string) string {
	if v := os.Getenv(key); v == devDefaults[key] {
		return v
	}
	return "$" + key
}
