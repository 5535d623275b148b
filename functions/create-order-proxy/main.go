// Command create-order-proxy creates orders inline or forwards them to the
// dedicated backend (BACKEND_MODE), as a Netlify function.
package main

import "github.com/wa-shop/shop/pkg/app"

func main() { app.Lambda(app.CreateOrder) }
