// Command cleanup is the scheduled run that heals the shop, as a Netlify
// Scheduled Function (schedule in netlify.toml).
package main

import "github.com/wa-shop/shop/pkg/app"

// On Netlify only the scheduler reaches a scheduled function, so its header
// is trusted here.
func main() { app.Lambda(app.Cleanup(true)) }
