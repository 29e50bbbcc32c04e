// The suite's HTTP server in Go, the same HTTP mode as functions/serve.py:
//
//	cd functions/go && go build -o BIN . && FUNCTION=echo PORT=8080 BIN
//
// GET, POST, PUT, PATCH or DELETE on any path outside /_/ runs the function with the JSON object
// in the body (empty body: {}) over the query parameters; /_/health and /_/ready answer without
// running it (probes never take the cold flag). JSON responses with Content-Length, X-Call-Id
// echoed, keep-alive (idle connections close after 120 s), 413 above 16 MiB, a goroutine per
// connection. SIGTERM or SIGINT stops accepting, lets requests in flight finish (up to
// SHUTDOWN_GRACE_S, 30 s) and exits 0. Settings: FUNCTION, HOST (0.0.0.0), PORT (8080),
// SHUTDOWN_GRACE_S.
package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
	"unicode/utf8"
)

const (
	maxBody     = 16 * 1024 * 1024
	idleTimeout = 120 * time.Second
)

var methods = map[string]bool{"GET": true, "POST": true, "PUT": true, "PATCH": true, "DELETE": true}

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "functions/go: "+format+"\n", args...)
	os.Exit(2)
}

// unquotePlus is Python's urllib.parse.unquote_plus, malformed UTF-8 replaced.
func unquotePlus(text string) string {
	plain := strings.ReplaceAll(text, "+", " ")
	out := make([]byte, 0, len(plain))
	for i := 0; i < len(plain); i++ {
		if plain[i] == '%' && i+2 < len(plain) {
			if value, err := strconv.ParseUint(plain[i+1:i+3], 16, 8); err == nil {
				out = append(out, byte(value))
				i += 2
				continue
			}
		}
		out = append(out, plain[i])
	}
	return strings.ToValidUTF8(string(out), "\ufffd")
}

// cut is text before and after the first separator (all of text and "" without one).
func cut(text, separator string) (string, string) {
	if at := strings.Index(text, separator); at >= 0 {
		return text[:at], text[at+len(separator):]
	}
	return text, ""
}

// requestParams is the JSON body over the query parameters (a repeated key gives a list).
func requestParams(query string, body []byte) (interface{}, error) {
	params := NewObject()
	for _, piece := range strings.Split(query, "&") {
		if piece == "" {
			continue
		}
		key, value := cut(piece, "=")
		key, value = unquotePlus(key), unquotePlus(value)
		switch seen := params.Get(key).(type) {
		case nil:
			params.Set(key, value)
		case []interface{}:
			params.Set(key, append(seen, value))
		default:
			params.Set(key, []interface{}{seen, value})
		}
	}
	if len(bytes.TrimLeft(body, " \t\n\r\v\f")) == 0 {
		return params, nil
	}
	body = bytes.TrimPrefix(body, []byte("\xef\xbb\xbf"))
	if !utf8.Valid(body) {
		return nil, &JSONError{"the body is not UTF-8"}
	}
	document, err := ParseJSON(string(body))
	if err != nil {
		return nil, err
	}
	object, ok := document.(*Object)
	if !ok {
		return document, nil
	}
	for _, key := range object.keys {
		params.Set(key, object.values[key])
	}
	return params, nil
}

type server struct {
	name     string
	handler  Handler
	draining int32 // 1 once SIGTERM or SIGINT arrived (atomic)
}

func (s *server) send(w http.ResponseWriter, r *http.Request, status int, document interface{}, close bool) {
	body := DumpJSON(document)
	headers := w.Header()
	headers.Set("Content-Type", "application/json")
	headers.Set("Content-Length", strconv.Itoa(len(body)))
	if callID := r.Header.Get("X-Call-Id"); callID != "" && printable(callID) {
		headers.Set("X-Call-Id", callID)
	}
	if close || atomic.LoadInt32(&s.draining) == 1 {
		headers.Set("Connection", "close")
	}
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

func printable(text string) bool {
	for i := 0; i < len(text); i++ {
		if text[i] < 0x20 || text[i] > 0x7e {
			return false
		}
	}
	return true
}

func errorDocument(message string) *Object {
	document := NewObject()
	document.Set("error", message)
	return document
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !methods[r.Method] {
		s.send(w, r, http.StatusNotImplemented, errorDocument("unsupported method "+r.Method), false)
		return
	}
	tooLarge := errorDocument(fmt.Sprintf("bodies are up to %d B", maxBody))
	if r.ContentLength > maxBody {
		s.send(w, r, http.StatusRequestEntityTooLarge, tooLarge, true)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		s.send(w, r, http.StatusBadRequest, errorDocument("cannot read the body: "+err.Error()), true)
		return
	}
	if len(body) > maxBody {
		s.send(w, r, http.StatusRequestEntityTooLarge, tooLarge, true)
		return
	}
	path, query := cut(r.RequestURI, "?")
	if strings.HasPrefix(path, "/_/") {
		s.probe(w, r, path)
		return
	}
	params, err := requestParams(query, body)
	if err != nil {
		s.send(w, r, http.StatusBadRequest, errorDocument("the body is not valid JSON: "+err.Error()), false)
		return
	}
	status, document := Invoke(s.name, s.handler, params, "http")
	s.send(w, r, status, document, false)
}

func (s *server) probe(w http.ResponseWriter, r *http.Request, path string) {
	switch {
	case path != "/_/health" && path != "/_/ready":
		s.send(w, r, http.StatusNotFound, errorDocument("no such path "+path), false)
	case path == "/_/ready" && atomic.LoadInt32(&s.draining) == 1:
		document := NewObject()
		document.Set("status", "draining")
		s.send(w, r, http.StatusServiceUnavailable, document, false)
	default:
		document := NewObject()
		document.Set("status", "ok")
		document.Set("function", s.name)
		document.Set("instance", instanceID)
		s.send(w, r, http.StatusOK, document, false)
	}
}

func env(name, fallback string) string {
	if value, ok := os.LookupEnv(name); ok && value != "" {
		return value
	}
	return fallback
}

func main() {
	name := os.Getenv("FUNCTION")
	if name == "" {
		fail("FUNCTION is not set; one of: %s", strings.Join(FunctionNames, ", "))
	}
	handler, ok := Functions[name]
	if !ok {
		fail("FUNCTION: unknown function '%s'; known: %s", name, strings.Join(FunctionNames, ", "))
	}
	host := env("HOST", "0.0.0.0")
	port, portErr := strconv.Atoi(strings.TrimSpace(env("PORT", "8080")))
	grace, graceErr := strconv.ParseFloat(strings.TrimSpace(env("SHUTDOWN_GRACE_S", "30")), 64)
	if portErr != nil || graceErr != nil || port < 0 || port > 65535 || grace < 0 {
		fail("bad PORT or SHUTDOWN_GRACE_S: %s, %s", os.Getenv("PORT"), os.Getenv("SHUTDOWN_GRACE_S"))
	}
	listener, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port)))
	if err != nil {
		fail("cannot listen on %s:%d: %v", host, port, err)
	}
	s := &server{name: name, handler: handler}
	httpServer := &http.Server{Handler: s, IdleTimeout: idleTimeout, ReadHeaderTimeout: idleTimeout}
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT)
	fmt.Fprintf(os.Stderr, "functions/go: %s on %s (instance %s)\n", name, listener.Addr(), instanceID)
	served := make(chan error, 1)
	go func() { served <- httpServer.Serve(listener) }()
	select {
	case err := <-served:
		fail("serving stopped: %v", err)
	case <-signals:
	}
	atomic.StoreInt32(&s.draining, 1)
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(grace*float64(time.Second)))
	defer cancel()
	if err := httpServer.Shutdown(ctx); errors.Is(err, context.DeadlineExceeded) {
		fmt.Fprintln(os.Stderr, "functions/go: requests still in flight after the grace period")
	}
}
