package guest

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/paddock/paddock/internal/guest/logring"
	"github.com/paddock/paddock/internal/guestproto"
)

// sandboxLog is the ring of the sandbox's own process output, fed by the process service
// with the processes guestproto.LoggedTag names.
type sandboxLog struct{ *logring.Ring }

func (sandboxLog) Keeps(tag string) bool { return guestproto.LoggedTag(tag) }

// logsHandler answers GET /logs?tail=N&follow=true: the last N lines of the sandbox's log
// (all it keeps when N is absent or 0) as NDJSON guestproto.LogLines, then, with follow,
// each new line as it comes until the client leaves.
func logsHandler(ring *logring.Ring) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		tail := 0
		if s := q.Get("tail"); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n < 0 {
				writeError(w, http.StatusBadRequest, "tail must be a number of lines")
				return
			}
			tail = n
		}
		follow := q.Get("follow") == "true"
		w.Header().Set("Content-Type", "application/x-ndjson")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusOK)
		enc := json.NewEncoder(w)
		flush := http.NewResponseController(w).Flush
		lines, next, grew := ring.Tail(tail)
		for {
			for _, l := range lines {
				if err := enc.Encode(guestproto.LogLine{Seq: l.Seq, Time: l.Time.Format(time.RFC3339Nano), Source: l.Source,
					Stream: l.Stream, Text: l.Text}); err != nil {
					return
				}
			}
			if !follow {
				return
			}
			if err := flush(); err != nil {
				return
			}
			select {
			case <-grew:
			case <-r.Context().Done():
				return
			}
			lines, next, grew = ring.Since(next)
		}
	}
}
