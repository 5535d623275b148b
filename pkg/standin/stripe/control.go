package stripe

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
)

// The control API is for tests, the dev stack and the storm, never for the
// code under test. It takes no key: the stand-in only ever listens locally.
// Its errors are {"control_error": …}, deliberately not Stripe's shape, so a
// broken test setup is not mistaken for a provider answer.

func (s *Server) handleControlSessions(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.Sessions())
}

func (s *Server) handleControlRequests(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.Requests())
}

func (s *Server) handleControlRefunds(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.Refunds())
}

func (s *Server) handleControlEvents(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.Events())
}

func (s *Server) handleControlReset(w http.ResponseWriter, r *http.Request) {
	s.Reset()
	w.WriteHeader(http.StatusNoContent)
}

// handleControlSessionAction is POST /_control/sessions/{id}/{action}. The
// pay page posts a form here; it gets a page back instead of JSON.
func (s *Server) handleControlSessionAction(w http.ResponseWriter, r *http.Request) {
	id, action := r.PathValue("id"), r.PathValue("action")
	fromPage := strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded")
	var run func(context.Context, string) (ActionResult, error)
	switch action {
	case "pay":
		delayed, err := delayedParam(r, fromPage)
		if err != nil {
			controlError(w, http.StatusBadRequest, err.Error())
			return
		}
		run = func(ctx context.Context, id string) (ActionResult, error) { return s.Pay(ctx, id, delayed) }
	case "expire":
		run = s.ExpireSession
	case "async-succeed":
		run = s.AsyncSucceed
	case "async-fail":
		run = s.AsyncFail
	default:
		controlError(w, http.StatusNotFound, "unknown action "+action+": want pay, expire, async-succeed or async-fail")
		return
	}
	res, err := run(r.Context(), id)
	if fromPage {
		s.renderActionPage(w, res, err)
		return
	}
	switch {
	case errors.Is(err, ErrUnknownSession):
		controlError(w, http.StatusNotFound, err.Error())
	case errors.Is(err, ErrSessionState):
		controlError(w, http.StatusConflict, err.Error())
	case err != nil:
		controlError(w, http.StatusInternalServerError, err.Error())
	default:
		writeJSON(w, http.StatusOK, res)
	}
}

// delayedParam reads pay's option: {"delayed": true} as JSON, or delayed=true
// from the page's form. An empty body pays at once.
func delayedParam(r *http.Request, fromPage bool) (bool, error) {
	if fromPage {
		return r.PostFormValue("delayed") == "true", nil
	}
	var opts struct {
		Delayed bool `json:"delayed"`
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&opts); err != nil && !errors.Is(err, io.EOF) {
		return false, errors.New("decode pay options: " + err.Error())
	}
	return opts.Delayed, nil
}

// handleControlFail is POST /_control/fail with a Failure as JSON.
func (s *Server) handleControlFail(w http.ResponseWriter, r *http.Request) {
	var f Failure
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields() // a misspelt field would silently fail nothing
	if err := dec.Decode(&f); err != nil {
		controlError(w, http.StatusBadRequest, "decode failure: "+err.Error())
		return
	}
	switch {
	case f.Count < 1:
		controlError(w, http.StatusBadRequest, "count must be at least 1")
		return
	case f.Status < 400 || f.Status > 599:
		controlError(w, http.StatusBadRequest, "status must be a 4xx or 5xx HTTP status")
		return
	}
	s.Fail(f)
	writeJSON(w, http.StatusOK, f)
}

func controlError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"control_error": msg})
}
