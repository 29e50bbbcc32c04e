package main

// The OpenWhisk adapter, what functions/_openwhisk.py is to Python: RunAction runs one
// activation and returns the envelope, {"result", "meta"} or {"error", "meta"}, meta.adapter
// "openwhisk", parameters named __ow_* dropped.
//
// The go:1.17 runtime compiles a source zip with its own launcher, which decodes each
// activation's parameters with encoding/json into map[string]interface{} (numbers are
// float64), calls the action's Main and encodes what Main returns with encoding/json. The
// packager (functions/package.py) writes the action's Main, which calls RunAction with the
// function it names; the HTTP server never calls it.

import (
	"encoding/json"
	"fmt"
	"strings"
)

// RunAction is one activation of function `name` with the parameters the launcher decoded.
// Each value of the envelope travels as json.RawMessage, written as the HTTP server writes it,
// so the result's and meta's keys keep their order and floats print as Python prints them.
func RunAction(name string, params map[string]interface{}) map[string]interface{} {
	handler, ok := Functions[name]
	if !ok {
		return map[string]interface{}{"error": fmt.Sprintf(
			"unknown function '%s'; known: %s", name, strings.Join(FunctionNames, ", "))}
	}
	kept := map[string]interface{}{}
	for key, value := range params {
		if !strings.HasPrefix(key, "__ow_") {
			kept[key] = value
		}
	}
	// encoding/json writes the keys sorted and a whole float64 below 1e21 without a fraction,
	// so a number that was an integer in the request is an integer again here.
	encoded, err := json.Marshal(kept)
	if err != nil {
		return map[string]interface{}{"error": "cannot read the parameters: " + err.Error()}
	}
	document, err := ParseJSON(string(encoded))
	if err != nil {
		return map[string]interface{}{"error": "cannot read the parameters: " + err.Error()}
	}
	_, body := Invoke(name, handler, document, "openwhisk")
	envelope := map[string]interface{}{}
	for _, key := range body.keys {
		envelope[key] = json.RawMessage(DumpJSON(body.values[key]))
	}
	return envelope
}
