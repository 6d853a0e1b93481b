// Command burst opens n new connections at once against a credentials URL,
// like Metaflow's 64 s3op workers starting together, and reports the slowest
// answer (connect + request + body) per round and overall.
package main

import (
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/ssokeep/ssokeep/bench/serve/benchdata"
)

func main() {
	url := flag.String("url", "", "credentials URL")
	n := flag.Int("n", 64, "simultaneous fresh connections per round")
	rounds := flag.Int("rounds", 20, "rounds")
	flag.Parse()
	token := os.Getenv(benchdata.TokenEnv)
	var all []time.Duration
	var roundMax []time.Duration
	failures := 0
	for r := 0; r < *rounds; r++ {
		start := make(chan struct{})
		lat := make([]time.Duration, *n)
		var wg sync.WaitGroup
		var mu sync.Mutex
		for i := 0; i < *n; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				// A transport per request: a fresh TCP connection each.
				tr := &http.Transport{DisableKeepAlives: true}
				client := &http.Client{Transport: tr, Timeout: 5 * time.Second}
				req, _ := http.NewRequest("GET", *url, nil)
				req.Header.Set("Authorization", token)
				<-start
				t0 := time.Now()
				resp, err := client.Do(req)
				if err == nil {
					_, err = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if err == nil && resp.StatusCode != 200 {
						err = fmt.Errorf("status %d", resp.StatusCode)
					}
				}
				lat[i] = time.Since(t0)
				if err != nil {
					mu.Lock()
					failures++
					mu.Unlock()
					fmt.Fprintln(os.Stderr, "burst:", err)
				}
			}()
		}
		time.Sleep(50 * time.Millisecond) // let every goroutine reach the start line
		close(start)
		wg.Wait()
		all = append(all, lat...)
		roundMax = append(roundMax, slices.Max(lat))
	}
	slices.Sort(all)
	slices.Sort(roundMax)
	ms := func(d time.Duration) string { return fmt.Sprintf("%.2fms", float64(d.Microseconds())/1000) }
	fmt.Printf("burst: %d fresh connections x %d rounds: slowest %s, median of round maxima %s, p50 %s, p99 %s, failures %d\n",
		*n, *rounds, ms(all[len(all)-1]), ms(roundMax[len(roundMax)/2]), ms(all[len(all)/2]), ms(all[len(all)*99/100]), failures)
	if failures > 0 {
		os.Exit(1)
	}
}
