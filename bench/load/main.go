// Command load drives POST /run of a Paddock server (or `docker run --rm`, for comparison)
// with a fixed number of concurrent clients for a fixed time, and prints latency percentiles,
// throughput and errors.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	url := flag.String("url", "http://127.0.0.1:18888", "Paddock server")
	key := flag.String("key", os.Getenv("PADDOCK_API_KEY"), "API key")
	conc := flag.Int("c", 4, "concurrent clients")
	dur := flag.Duration("d", 60*time.Second, "how long to run")
	maxReq := flag.Int("n", 1_000_000, "stop after this many requests")
	docker := flag.Bool("docker", false, "run `docker run --rm debian:bookworm-slim echo hi` instead")
	flag.Parse()

	var mu sync.Mutex
	var lats []time.Duration
	var errs, sent atomic.Int64
	deadline := time.Now().Add(*dur)
	body, _ := json.Marshal(map[string]any{"command": []string{"echo", "hi"}})
	client := &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: *conc}}
	once := func() error {
		if *docker {
			return exec.Command("docker", "run", "--rm", "debian:bookworm-slim", "echo", "hi").Run()
		}
		req, _ := http.NewRequest("POST", *url+"/run", bytes.NewReader(body))
		req.Header.Set("X-API-Key", *key)
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		var env struct {
			Success bool
			Data    struct{ Output string }
		}
		if err := json.NewDecoder(resp.Body).Decode(&env); err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		if !env.Success || env.Data.Output != "hi\n" {
			return fmt.Errorf("unexpected answer %+v", env)
		}
		return nil
	}
	start := time.Now()
	var wg sync.WaitGroup
	for i := 0; i < *conc; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) && sent.Add(1) <= int64(*maxReq) {
				t0 := time.Now()
				if err := once(); err != nil {
					errs.Add(1)
					fmt.Fprintln(os.Stderr, "error:", err)
					continue
				}
				mu.Lock()
				lats = append(lats, time.Since(t0))
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	slices.Sort(lats)
	pct := func(p float64) time.Duration {
		if len(lats) == 0 {
			return 0
		}
		return lats[min(len(lats)-1, int(p*float64(len(lats))))]
	}
	fmt.Printf("runs %d  errors %d  elapsed %s  throughput %.1f runs/s  p50 %s  p90 %s  p99 %s  max %s\n",
		len(lats), errs.Load(), elapsed.Round(time.Millisecond), float64(len(lats))/elapsed.Seconds(),
		pct(0.50).Round(10*time.Microsecond), pct(0.90).Round(10*time.Microsecond), pct(0.99).Round(10*time.Microsecond),
		pct(1).Round(10*time.Microsecond))
	if errs.Load() > 0 {
		os.Exit(1)
	}
}
