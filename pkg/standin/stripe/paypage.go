package stripe

import (
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"strings"
)

// The pay page stands in for Stripe's hosted Checkout page, so a human
// running `./build.sh dev` can follow a session's url and pay. Its buttons
// post to the control API, which sends the webhook event as usual.

var payPage = template.Must(template.New("pay").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>Stripe stand-in: test payment page</title></head>
<body style="font-family: sans-serif; max-width: 40em; margin: 2em auto">
<h1>Stripe stand-in: test payment page</h1>
<p>No money moves here. Session <code>{{.ID}}</code> is <b>{{.Status}}</b> ({{.PaymentStatus}}).</p>
<ul>{{range .Items}}<li>{{.Quantity}} × {{.Name}}: {{.Each}}</li>{{end}}</ul>
<p>Total: <b>{{.Total}}</b></p>
{{if .Open}}
<form method="post" action="/_control/sessions/{{.ID}}/pay"><button>Pay (test)</button></form>
<form method="post" action="/_control/sessions/{{.ID}}/pay"><input type="hidden" name="delayed" value="true">
<button>Pay with a delayed method (settle later with async-succeed / async-fail)</button></form>
{{if .CancelURL}}<p><a href="{{.CancelURL}}">Cancel and go back</a></p>{{end}}
{{end}}
</body></html>`))

var actionPage = template.Must(template.New("action").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>Stripe stand-in</title></head>
<body style="font-family: sans-serif; max-width: 40em; margin: 2em auto">
{{if .Error}}<h1>Not done</h1><p>{{.Error}}</p>{{else}}
<h1>Done: {{.Type}}</h1>
<p>The webhook ({{.WebhookURL}}) answered <b>{{.WebhookStatus}}</b>{{if .WebhookError}}: {{.WebhookError}}{{end}}.</p>
{{if .SuccessURL}}<p><a href="{{.SuccessURL}}">Continue to the shop</a></p>{{end}}{{end}}
</body></html>`))

func (s *Server) handlePayPage(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	sess, ok := s.sessions[r.PathValue("id")]
	var v Session
	if ok {
		v = s.view(sess)
	}
	s.mu.Unlock()
	if !ok {
		http.Error(w, "no such checkout session", http.StatusNotFound)
		return
	}
	type item struct {
		Quantity int64
		Name     string
		Each     string
	}
	data := struct {
		ID, Status, PaymentStatus, Total, CancelURL string
		Items                                       []item
		Open                                        bool
	}{ID: v.ID, Status: v.Status, PaymentStatus: v.PaymentStatus, Total: display(v.AmountTotal, v.Currency), Open: v.Status == statusOpen}
	if v.CancelURL != nil {
		data.CancelURL = *v.CancelURL
	}
	for _, li := range v.lineItems {
		data.Items = append(data.Items, item{li.Quantity, li.Name, display(li.UnitAmount, v.Currency)})
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = payPage.Execute(w, data)
}

// renderActionPage answers a form post from the pay page.
func (s *Server) renderActionPage(w http.ResponseWriter, res ActionResult, err error) {
	data := struct {
		Error, Type, WebhookURL, WebhookError, SuccessURL string
		WebhookStatus                                     int
	}{WebhookURL: res.WebhookURL, WebhookStatus: res.WebhookStatus, WebhookError: res.WebhookError}
	status := http.StatusOK
	if err != nil {
		data.Error = err.Error()
		status = http.StatusConflict
	} else {
		var ev struct {
			Type string `json:"type"`
		}
		_ = json.Unmarshal(res.Event, &ev)
		data.Type = ev.Type
		if res.Session.SuccessURL != nil {
			// Stripe fills this template variable when it redirects.
			data.SuccessURL = strings.ReplaceAll(*res.Session.SuccessURL, "{CHECKOUT_SESSION_ID}", res.Session.ID)
		}
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_ = actionPage.Execute(w, data)
}

// zeroDecimal are currencies whose minor unit is the unit
// (docs.stripe.com/currencies#zero-decimal); the page shows others with two
// decimals.
var zeroDecimal = map[string]bool{
	"bif": true, "clp": true, "djf": true, "gnf": true, "jpy": true, "kmf": true, "krw": true, "mga": true,
	"pyg": true, "rwf": true, "ugx": true, "vnd": true, "vuv": true, "xaf": true, "xof": true, "xpf": true,
}

func display(minor int64, currency string) string {
	cur := strings.ToUpper(currency)
	if zeroDecimal[currency] {
		return fmt.Sprintf("%d %s", minor, cur)
	}
	return fmt.Sprintf("%d.%02d %s", minor/100, minor%100, cur)
}
