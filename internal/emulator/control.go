package emulator

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
)

// The control API, on the same listener as everything else (unsigned):
//
//	POST /_emulator/approve       {"userCode":"ABCD-EFGH"}; no body: every pending code
//	POST /_emulator/deny          {"userCode":"ABCD-EFGH"}
//	POST /_emulator/end-sessions  every live session ends now
//	GET  /_emulator/faults        the faults in force
//	PUT  /_emulator/faults        {"CreateToken":{"rate":0.2,"error":"SlowDownException","latency":"300ms"}}
//	GET  /_emulator/stats         counters per operation, live sessions, credentials
//
// Answers are JSON; errors are {"error":"..."} with a 4xx status.

func controlError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

func (s *Server) handleControl(w http.ResponseWriter, r *http.Request) {
	route := r.Method + " " + strings.TrimPrefix(r.URL.Path, "/_emulator/")
	switch route {
	case "POST approve", "POST deny":
		b, err := io.ReadAll(io.LimitReader(r.Body, 1<<16))
		if err != nil {
			controlError(w, 400, "cannot read the request body")
			return
		}
		var in struct {
			UserCode string `json:"userCode"`
		}
		if len(strings.TrimSpace(string(b))) > 0 {
			if err := json.Unmarshal(b, &in); err != nil {
				controlError(w, 400, `the body must be {"userCode":"ABCD-EFGH"} or empty`)
				return
			}
		}
		deny := route == "POST deny"
		if in.UserCode == "" {
			if deny {
				controlError(w, 400, `deny needs {"userCode":"..."}`)
				return
			}
			writeJSON(w, 200, map[string]int{"approved": s.ApproveAll()})
			return
		}
		err = s.decide(in.UserCode, !deny)
		if errors.Is(err, ErrUnknownUserCode) {
			controlError(w, 404, err.Error())
			return
		}
		if deny {
			writeJSON(w, 200, map[string]int{"denied": 1})
		} else {
			writeJSON(w, 200, map[string]int{"approved": 1})
		}
	case "POST end-sessions":
		writeJSON(w, 200, map[string]int{"ended": s.EndSessions()})
	case "GET faults":
		writeJSON(w, 200, s.Faults())
	case "PUT faults":
		var f Faults
		dec := json.NewDecoder(io.LimitReader(r.Body, 1<<20))
		if err := dec.Decode(&f); err != nil {
			controlError(w, 400, `the body must be a JSON object such as {"CreateToken":{"rate":0.2,"error":"SlowDownException","latency":"300ms"}}: `+err.Error())
			return
		}
		if err := s.SetFaults(f); err != nil {
			controlError(w, 400, err.Error())
			return
		}
		writeJSON(w, 200, s.Faults())
	case "GET stats":
		writeJSON(w, 200, s.Stats())
	default:
		controlError(w, 404, "unknown control route "+route+"; see the package documentation of internal/emulator")
	}
}
