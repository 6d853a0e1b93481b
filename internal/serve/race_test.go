package serve

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// TestConcurrentRotation is Metaflow's s3op burst: 64 workers fetch at once
// while the keeper rotates the set under them. Every answer must be one whole
// set as issued (never a body torn between two sets) or a clean 503 while
// the source has none. Run with -race.
func TestConcurrentRotation(t *testing.T) {
	ts := newTestServer(t, nil)
	var issued sync.Map // AccessKeyId -> aws.Credentials
	first, _ := ts.src.Current()
	issued.Store(first.AccessKeyID, first)
	var rotations atomic.Int64
	rotate := func(gap bool) {
		n := rotations.Add(1)
		c := newCreds(t, epoch.Add(time.Hour+time.Duration(n)*time.Second), fmt.Sprintf("%012d", n))
		issued.Store(c.AccessKeyID, c)
		if gap { // the keeper briefly has nothing, e.g. between expiry and the next set
			ts.src.set(aws.Credentials{}, false)
		}
		ts.src.set(c, true)
	}

	const workers, perWorker = 64, 60
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: workers}}
	defer client.CloseIdleConnections()
	var served sync.Map // AccessKeyId seen in 200 answers
	var ok200, ok503 atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < perWorker; i++ {
				if i%10 == 9 {
					rotate(i%30 == 29)
				}
				path := "/creds/dev"
				if w == 0 && i%5 == 0 {
					path = MetricsPath
				} else if w == 1 && i%5 == 0 {
					path = HealthPath
				}
				req, _ := http.NewRequest("GET", ts.URL(path), nil)
				req.Header.Set("Authorization", ts.Token())
				resp, err := client.Do(req)
				if err != nil {
					errs <- err
					return
				}
				body, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil {
					errs <- err
					return
				}
				if path != "/creds/dev" {
					continue
				}
				switch resp.StatusCode {
				case 503:
					ok503.Add(1)
				case 200:
					ok200.Add(1)
					var got credentialsJSON
					if err := json.Unmarshal(body, &got); err != nil {
						errs <- fmt.Errorf("unparsable 200 body: %v", err)
						return
					}
					v, known := issued.Load(got.AccessKeyID)
					if !known {
						errs <- fmt.Errorf("served a key id that was never issued")
						return
					}
					want := v.(aws.Credentials)
					if got.SecretAccessKey != want.SecretAccessKey || got.Token != want.SessionToken ||
						got.Expiration != want.Expires.UTC().Format(time.RFC3339) || got.AccountID != want.AccountID {
						errs <- fmt.Errorf("a body mixes two credential sets")
						return
					}
					served.Store(got.AccessKeyID, true)
				default:
					errs <- fmt.Errorf("status %d: %s", resp.StatusCode, body)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	distinct := 0
	served.Range(func(_, _ any) bool { distinct++; return true })
	if distinct < 2 {
		t.Errorf("only %d distinct sets were served across %d rotations: rotation was not exercised", distinct, rotations.Load())
	}
	t.Logf("%d rotations, %d distinct sets served, %d×200, %d×503", rotations.Load(), distinct, ok200.Load(), ok503.Load())
	for _, s := range ts.secrets() {
		if strings.Contains(ts.logs.String(), s) {
			t.Error("a secret reached the log")
		}
	}
}
