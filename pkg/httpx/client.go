package httpx

import (
	"net/http"
	"time"
)

// idleConnsPerProvider is how many kept-alive connections to one provider
// (graph.facebook.com, api.stripe.com, the backend) a process keeps. Go's
// default is 2: with a delivery's senders handled side by side, or the
// dedicated backend serving many requests, every third concurrent call
// would close a connection and the next would pay a new TCP and TLS
// handshake.
const idleConnsPerProvider = 32

// NewClient is an HTTP client for calling a provider, with the given
// timeout and connections that are kept and reused.
func NewClient(timeout time.Duration) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = idleConnsPerProvider
	return &http.Client{Timeout: timeout, Transport: t}
}
