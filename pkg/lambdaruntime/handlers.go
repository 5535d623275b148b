package lambdaruntime

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"
)

// handleNext is GET /runtime/invocation/next: it blocks until Invoke hands
// over an event, as Lambda keeps the runtime waiting (frozen) between events.
func (rt *Runtime) handleNext(w http.ResponseWriter, r *http.Request) {
	rt.mu.Lock()
	if rt.initEnd.IsZero() {
		rt.initEnd = time.Now()
	}
	rt.mu.Unlock()

	var inv *invocation
	select {
	case inv = <-rt.queue:
	case <-r.Context().Done():
		return
	case <-rt.closed:
		writeJSON(w, http.StatusInternalServerError, &Error{Type: "ServiceUnavailable", Message: "runtime api closed"})
		return
	}
	deadline := time.Now().Add(rt.timeout)
	// Registered before the event is written, so the answer always finds it.
	rt.mu.Lock()
	rt.inflight[inv.id] = inv
	rt.mu.Unlock()

	h := w.Header()
	h.Set(headerRequestID, inv.id)
	h.Set(headerDeadline, strconv.FormatInt(deadline.UnixMilli(), 10))
	h.Set(headerFunctionARN, rt.arn)
	h.Set(headerTraceID, newTraceID())
	h.Set("Content-Type", "application/json")
	_, _ = w.Write(inv.event) // a runtime that hung up finds out itself; Invoke times out
}

// handleResponse is POST /runtime/invocation/{id}/response.
func (rt *Runtime) handleResponse(w http.ResponseWriter, r *http.Request) {
	inv := rt.take(r.PathValue("id"))
	if inv == nil {
		writeJSON(w, http.StatusBadRequest, errUnknownID)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxResponseSize))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		inv.done <- result{err: &Error{
			Type:    "Function.ResponseSizeTooLarge",
			Message: fmt.Sprintf("response payload exceeds %d bytes", MaxResponseSize),
		}}
		writeJSON(w, http.StatusRequestEntityTooLarge, &Error{Type: "RequestEntityTooLarge", Message: "payload too large"})
		return
	case err != nil:
		inv.done <- result{err: fmt.Errorf("read response: %w", err)}
		return // the runtime is gone; nobody reads an answer
	}
	if typ := r.Trailer.Get(headerErrorType); typ != "" {
		raw, _ := base64.StdEncoding.DecodeString(r.Trailer.Get(trailerErrorBody))
		inv.done <- result{err: parseError(typ, raw)}
	} else {
		inv.done <- result{body: body}
	}
	writeJSON(w, http.StatusAccepted, statusOK)
}

// handleError is POST /runtime/invocation/{id}/error.
func (rt *Runtime) handleError(w http.ResponseWriter, r *http.Request) {
	inv := rt.take(r.PathValue("id"))
	if inv == nil {
		writeJSON(w, http.StatusBadRequest, errUnknownID)
		return
	}
	inv.done <- result{err: readError(r)}
	writeJSON(w, http.StatusAccepted, statusOK)
}

// handleInitError is POST /runtime/init/error. It is valid only during Init,
// before the first /next; the runtime is expected to exit after it.
func (rt *Runtime) handleInitError(w http.ResponseWriter, r *http.Request) {
	e := readError(r)
	e.Init = true
	rt.mu.Lock()
	state := "ok"
	switch {
	case !rt.initEnd.IsZero():
		state = "after init"
	case rt.initErr != nil:
		state = "repeated"
	default:
		rt.initErr = e
	}
	rt.mu.Unlock()
	if state != "ok" {
		writeJSON(w, http.StatusForbidden, &Error{Type: "InvalidStateTransition", Message: "init error " + state})
		return
	}
	close(rt.initFailed)
	writeJSON(w, http.StatusAccepted, statusOK)
}

var (
	statusOK     = map[string]string{"status": "OK"}
	errUnknownID = &Error{Type: "InvalidRequestID", Message: "unknown or already answered request id"}
)

func readError(r *http.Request) *Error {
	raw, _ := io.ReadAll(io.LimitReader(r.Body, MaxResponseSize))
	return parseError(r.Header.Get(headerErrorType), raw)
}

// parseError reads Lambda's error document. Runtimes may send any body, so
// anything else becomes the message, and the type falls back to the header.
func parseError(typ string, raw []byte) *Error {
	e := &Error{}
	if err := json.Unmarshal(raw, e); err != nil || (e.Type == "" && e.Message == "") {
		e = &Error{Message: string(raw)}
	}
	if e.Type == "" {
		e.Type = typ
	}
	if e.Type == "" {
		e.Type = "Unhandled"
	}
	return e
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// newRequestID makes a random UUID, the form Lambda's request ids take.
func newRequestID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // never fails (crypto/rand since Go 1.24)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// newTraceID makes an X-Ray header: the root holds the epoch seconds in hex
// and 96 random bits; unsampled, as nothing here collects traces.
func newTraceID() string {
	b := make([]byte, 20)
	_, _ = rand.Read(b)
	return fmt.Sprintf("Root=1-%08x-%s;Parent=%s;Sampled=0",
		time.Now().Unix(), hex.EncodeToString(b[:12]), hex.EncodeToString(b[12:]))
}
