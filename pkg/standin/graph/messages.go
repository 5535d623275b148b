package graph

import (
	"bytes"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
)

// maxBody bounds what the stand-in reads of a send; real sends are a few KB.
const maxBody = 1 << 20

var versionRE = regexp.MustCompile(`^v[0-9]+\.[0-9]+$`)

// sendResponse is Meta's answer to an accepted send.
type sendResponse struct {
	MessagingProduct string      `json:"messaging_product"`
	Contacts         []contact   `json:"contacts"`
	Messages         []messageID `json:"messages"`
}

type messageID struct {
	ID string `json:"id"`
}

type contact struct {
	Input  string `json:"input"`
	WaID   string `json:"wa_id,omitempty"`
	UserID string `json:"user_id,omitempty"`
}

// handleSend is POST /{version}/{phone_number_id}/messages. The checks run in
// the order Meta's answers suggest: token, then the phone number object, then
// throttling (injected failures), then the body.
func (s *Server) handleSend(w http.ResponseWriter, r *http.Request) {
	if !versionRE.MatchString(r.PathValue("version")) {
		s.handleUnknown(w, r)
		return
	}
	if !s.authorized(r) {
		writeError(w, http.StatusUnauthorized, Error{
			Message: "Invalid OAuth access token - Cannot parse access token",
			Type:    "OAuthException",
			Code:    190,
		})
		return
	}
	if id := r.PathValue("phone_number_id"); s.opts.PhoneNumberID != "" && id != s.opts.PhoneNumberID {
		writeError(w, http.StatusBadRequest, Error{
			Message: fmt.Sprintf("Unsupported post request. Object with ID '%s' does not exist, "+
				"cannot be loaded due to missing permissions, or does not support this operation. "+
				"Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api", id),
			Type:         "GraphMethodException",
			Code:         100,
			ErrorSubcode: 33,
		})
		return
	}
	if f, ok := s.nextFailure(); ok {
		writeError(w, f.Status, f.graphError())
		return
	}

	raw, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil || len(raw) > maxBody {
		writeError(w, http.StatusBadRequest, invalidParameter("Request body could not be read or is too large."))
		return
	}
	var req sendRequest
	if err := json.Unmarshal(raw, &req); err != nil {
		writeError(w, http.StatusBadRequest, invalidParameter("Invalid parameter: "+err.Error()))
		return
	}
	if e := validate(&req); e != nil {
		writeError(w, http.StatusBadRequest, *e)
		return
	}

	// Meta: with both, the phone number wins; by BSUID alone, the answer
	// names the user_id instead of a wa_id.
	to, who := req.To, contact{Input: req.To, WaID: waID(req.To)}
	if to == "" {
		to, who = req.Recipient, contact{Input: req.Recipient, UserID: req.Recipient}
	}
	id := newWAMID(to)
	s.record(Message{ID: id, To: to, Type: req.Type, Body: compact(raw), Time: s.opts.Now()})
	resp := sendResponse{
		MessagingProduct: "whatsapp",
		Contacts:         []contact{who},
		Messages:         []messageID{{ID: id}},
	}
	writeJSON(w, http.StatusOK, resp)
}

// authorized checks the bearer token in constant time, so the stand-in does
// not model a weaker check than the code under test should expect.
func (s *Server) authorized(r *http.Request) bool {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || token == "" {
		return false
	}
	if s.opts.AccessToken == "" {
		return true
	}
	return subtle.ConstantTimeCompare([]byte(token), []byte(s.opts.AccessToken)) == 1
}

// newWAMID builds an id shaped like Meta's: "wamid." and base64 of a small
// record holding the recipient and a random hex message key, e.g.
// wamid.HBgLMTY1MDUwNzY1MjAVAgARGBI5QTNDQTVCM0Q0Q0Q2RTY3RTcA. Clients must
// treat it as opaque; the shape only makes logs look familiar.
func newWAMID(to string) string {
	key := make([]byte, 9)
	_, _ = rand.Read(key)
	wa := waID(to)
	var b bytes.Buffer
	b.Write([]byte{0x1c, 0x18, byte(len(wa))})
	b.WriteString(wa)
	b.Write([]byte{0x15, 0x02, 0x00, 0x11, 0x18, 0x12})
	b.WriteString(strings.ToUpper(hex.EncodeToString(key)))
	b.WriteByte(0x00)
	return "wamid." + base64.StdEncoding.EncodeToString(b.Bytes())
}

// waID is the WhatsApp id Meta reports for a `to`: the phone number's digits
// without "+", spaces or dashes.
func waID(to string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, to)
}

// compact stores the body as one line of JSON, so recordings print cleanly;
// it is valid JSON because it was just decoded.
func compact(raw []byte) json.RawMessage {
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return raw
	}
	return b.Bytes()
}
