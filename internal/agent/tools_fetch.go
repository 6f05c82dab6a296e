package agent

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// Limits of web_fetch.
const (
	FetchCap            = 100 << 10 // bytes of a body the model sees
	DefaultFetchTimeout = 30 * time.Second
	MaxFetchTimeout     = 2 * time.Minute
)

// fetchScript fetches $1 with curl or, failing that, wget, writing the body to stdout
// (cut by head) and "status:", "content-type:" and "exit:" lines to stderr. $2 is the
// timeout in seconds, $3 the body cap. Neither tool present: exit 127 with a message.
const fetchScript = `fetch() {
  if command -v curl >/dev/null 2>&1; then
    curl -sS -L --max-redirs 5 --proto =http,https --proto-redir =http,https --max-time "$2" \
      -w '%{stderr}status: %{http_code}\ncontent-type: %{content_type}\n' -- "$1"
  elif command -v wget >/dev/null 2>&1; then
    wget -q -S -O - -T "$2" -- "$1"
  else
    echo "web_fetch: neither curl nor wget is installed in this sandbox's image" >&2
    return 127
  fi
}
{ fetch "$1" "$2"; echo "exit: $?" >&2; } | head -c "$3"`

// checkFetchURL accepts absolute http and https URLs with a host, and nothing a shell or
// an argument parser could read as more than one word.
func checkFetchURL(raw string) (string, error) {
	if raw == "" {
		return "", toolErr("url is required")
	}
	if strings.IndexFunc(raw, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0 {
		return "", toolErr("url must not contain spaces or control characters")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", toolErr("invalid url: %v", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", toolErr("only http and https URLs can be fetched, not %q", u.Scheme)
	}
	if u.Host == "" {
		return "", toolErr("url has no host")
	}
	return u.String(), nil
}

func (tb *Toolbox) webFetch(ctx context.Context, raw string, timeout int) (Outcome, error) {
	u, err := checkFetchURL(raw)
	if err != nil {
		return Outcome{}, err
	}
	d := DefaultFetchTimeout
	if timeout > 0 {
		d = min(time.Duration(timeout)*time.Second, MaxFetchTimeout)
	}
	secs := strconv.Itoa(int(d / time.Second))
	cmd := "sh -c " + shQuote(fetchScript) + " fetch " + shQuote(u) + " " + secs + " " + strconv.Itoa(FetchCap)
	// The command's own limit leaves room past the body for the last line of curl's output.
	res, err := tb.Box.Exec(ctx, cmd, tb.Dir, d+10*time.Second, FetchCap+1)
	if err != nil {
		return Outcome{}, err
	}
	return fetchOutcome(u, res), nil
}

// fetchOutcome reads what fetchScript wrote.
func fetchOutcome(u string, res ExecResult) Outcome {
	var status, ctype, exit string
	var other []string
	for _, line := range strings.Split(strings.TrimRight(string(res.Stderr), "\n"), "\n") {
		switch {
		case strings.HasPrefix(line, "status: "):
			status = strings.TrimPrefix(line, "status: ")
		case strings.HasPrefix(line, "content-type: "):
			ctype = strings.TrimPrefix(line, "content-type: ")
		case strings.HasPrefix(line, "exit: "):
			exit = strings.TrimPrefix(line, "exit: ")
		case strings.HasPrefix(strings.TrimSpace(line), "HTTP/"): // wget -S
			if f := strings.Fields(line); len(f) >= 2 {
				status = f[1]
			}
		case strings.HasPrefix(strings.ToLower(strings.TrimSpace(line)), "content-type:"):
			ctype = strings.TrimSpace(strings.TrimSpace(line)[len("content-type:"):])
		case line != "" && !strings.HasPrefix(line, "  "):
			other = append(other, line)
		}
	}
	body := res.Stdout
	cut := len(body) >= FetchCap
	if cut {
		body = body[:FetchCap]
	}
	code, _ := strconv.Atoi(status)
	// curl stops with 23 when head has its bytes and closes the pipe: that is the cut.
	failed := res.TimedOut || (exit != "0" && !(cut && exit == "23")) || code == 0 && len(body) == 0
	var b strings.Builder
	fmt.Fprintf(&b, "url: %s\n", u)
	if code != 0 {
		fmt.Fprintf(&b, "status: %d\n", code)
	}
	if ctype != "" {
		fmt.Fprintf(&b, "content-type: %s\n", ctype)
	}
	if failed && len(other) > 0 {
		fmt.Fprintf(&b, "error: %s\n", capString(strings.Join(other, "\n"), 4096))
	}
	if res.TimedOut {
		b.WriteString("error: timed out\n")
	}
	if len(body) > 0 {
		fmt.Fprintf(&b, "\n%s", body)
		if cut {
			fmt.Fprintf(&b, "\n(body cut at %d bytes)", FetchCap)
		}
	}
	return Outcome{Content: b.String(), IsError: failed || code >= 400}
}

// shQuote quotes s as one shell word.
func shQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
