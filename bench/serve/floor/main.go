// Command floor is the least a Go net/http server can do for the same job:
// compare the Authorization header and send the same pre-rendered JSON. It
// is the yardstick for ssokeep's endpoint in bench/serve/run.sh.
package main

import (
	"crypto/subtle"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"

	"github.com/ssokeep/ssokeep/bench/serve/benchdata"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address")
	flag.Parse()
	token := []byte(os.Getenv(benchdata.TokenEnv))
	body := benchdata.Body()
	ln, err := net.Listen("tcp4", *addr)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("ready", "http://"+ln.Addr().String()+"/creds/bench")
	log.Fatal(http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), token) != 1 {
			w.WriteHeader(http.StatusForbidden)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	})))
}
