// Command payment-callback receives Stripe's webhook events, as a Netlify
// function.
package main

import "github.com/wa-shop/shop/pkg/app"

func main() { app.Lambda(app.PaymentCallback) }
