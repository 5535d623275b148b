// Command webhook is the WhatsApp Cloud API webhook, as a Netlify function.
package main

import "github.com/wa-shop/shop/pkg/app"

func main() { app.Lambda(app.Webhook) }
