// Command portsrv is the web server the port tests run inside a sandbox: on every port given
// as an argument it answers plain HTTP with a JSON description of the request it received,
// /echo is a WebSocket echo, and /set-cookie answers with a Set-Cookie header for each
// value of its query parameter c.
package main

import (
	"context"
	"encoding/json"
	"log"
	"net"
	"net/http"
	"os"

	"github.com/coder/websocket"
)

func main() {
	mux := http.NewServeMux()
	mux.HandleFunc("/echo", echo)
	mux.HandleFunc("/set-cookie", func(w http.ResponseWriter, r *http.Request) {
		for _, c := range r.URL.Query()["c"] {
			w.Header().Add("Set-Cookie", c)
		}
	})
	mux.HandleFunc("/", describe)
	for _, p := range os.Args[1:] {
		go func() { log.Fatal(http.ListenAndServe(net.JoinHostPort("127.0.0.1", p), mux)) }()
	}
	select {}
}

// describe tells the client what reached the server, so tests can check what the proxy
// forwarded and what it kept back.
func describe(w http.ResponseWriter, r *http.Request) {
	local, _ := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]string{
		"local":         local.String(),
		"method":        r.Method,
		"path":          r.URL.Path,
		"query":         r.URL.RawQuery,
		"host":          r.Host,
		"prefix":        r.Header.Get("X-Forwarded-Prefix"),
		"api_key":       r.Header.Get("X-Api-Key"),
		"authorization": r.Header.Get("Authorization"),
		"traffic":       r.Header.Get("X-Paddock-Traffic-Token") + r.Header.Get("E2b-Traffic-Access-Token"),
		"cookie":        r.Header.Get("Cookie"),
		"access_token":  r.Header.Get("X-Access-Token"),
	})
}

// echo sends every WebSocket message back.
func echo(w http.ResponseWriter, r *http.Request) {
	c, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	defer c.CloseNow()
	ctx := context.Background()
	for {
		typ, msg, err := c.Read(ctx)
		if err != nil {
			return
		}
		if err := c.Write(ctx, typ, msg); err != nil {
			return
		}
	}
}
