// gopeer: the Go reference for `make bench`. A net/http service that answers POST /v1/presign (the same JSON
// body as presignd's bench request) with minio-go v7's PresignedGetObject, in presignd's reply shape.
// It does no authentication, no policy check and no audit: presignd does all three on the rows it is compared in.
// Built offline in GOPATH mode from Debian's packaged sources by scripts/build_gopeer.sh.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"log"
	"net/http"
	"os"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// The request body presignd's bench sends: {"operation":"get","bucket":...,"key":...,"expires_in":600}.
type presignRequest struct {
	Operation   string `json:"operation"`
	Bucket      string `json:"bucket"`
	Key         string `json:"key"`
	ExpiresIn   int64  `json:"expires_in"`
	ContentType string `json:"content_type,omitempty"`
}

// presignd's reply shape for a presigned GET.
type presignReply struct {
	URL              string            `json:"url"`
	Method           string            `json:"method"`
	Headers          map[string]string `json:"headers"`
	ExpiresAt        string            `json:"expires_at"`
	SignatureVersion string            `json:"signature_version"`
}

const maxBody = 64 << 10

type server struct{ s3 *minio.Client }

func fail(w http.ResponseWriter, status int, code string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write([]byte(`{"error":"` + code + `"}`))
}

func (s *server) presign(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		fail(w, http.StatusMethodNotAllowed, "method_not_allowed")
		return
	}
	var req presignRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		fail(w, http.StatusBadRequest, "invalid_json")
		return
	}
	if req.Operation != "get" || req.Bucket == "" || req.Key == "" || req.ExpiresIn < 1 || req.ExpiresIn > 604800 {
		fail(w, http.StatusBadRequest, "invalid_request")
		return
	}
	expires := time.Duration(req.ExpiresIn) * time.Second
	now := time.Now().UTC()
	u, err := s.s3.PresignedGetObject(r.Context(), req.Bucket, req.Key, expires, nil)
	if err != nil {
		fail(w, http.StatusBadRequest, "invalid_request")
		return
	}
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false) // presignd writes '&' in the URL as is
	enc.Encode(presignReply{
		URL: u.String(), Method: "GET", Headers: map[string]string{},
		ExpiresAt: now.Add(expires).Format("2006-01-02T15:04:05Z"), SignatureVersion: "v4",
	})
	w.Header().Set("Content-Type", "application/json")
	w.Write(bytes.TrimSuffix(out.Bytes(), []byte("\n")))
}

func main() {
	listen := flag.String("listen", "127.0.0.1:18092", "address to listen on")
	endpoint := flag.String("endpoint", "127.0.0.1:8333", "S3 endpoint (host:port, plain HTTP)")
	region := flag.String("region", "us-east-1", "region: set, so minio-go never asks the endpoint for it")
	flag.Parse()
	s3, err := minio.New(*endpoint, &minio.Options{
		Creds:        credentials.NewStaticV4(os.Getenv("BENCH_S3_ACCESS"), os.Getenv("BENCH_S3_SECRET"), ""),
		Secure:       false,
		Region:       *region,
		BucketLookup: minio.BucketLookupPath,
	})
	if err != nil {
		log.Fatal(err)
	}
	// One signing up front: a configuration error stops the peer here, not on the first wrk request.
	if _, err := s3.PresignedGetObject(context.Background(), "uploads", "probe", time.Minute, nil); err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	srv := &server{s3: s3}
	mux.HandleFunc("/v1/presign", srv.presign)
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"status":"ok"}`))
	})
	log.Fatal((&http.Server{Addr: *listen, Handler: mux, MaxHeaderBytes: 16 << 10,
		ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 75 * time.Second}).ListenAndServe())
}
