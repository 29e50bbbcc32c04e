package main

// Per-instance state, parameter parsing and the envelope, as functions/_runtime.py and
// functions/_params.py define them: {"result": ..., "meta": {...}} with status 200, or
// {"error": "message", "meta": {...}} with 400 (bad parameter) or 500 (failure).

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"math"
	"math/big"
	"os"
	"regexp"
	"runtime/debug"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// Version is the suite's version (functions/_runtime.py VERSION); Language this runtime's.
const (
	Version  = "1.1.0"
	Language = "go"
)

var (
	instanceID        = newInstanceID()
	instanceStartedNs = time.Now().UnixNano()
	coldTaken         int32 // 1 once an invocation took the cold flag (atomic)
)

func newInstanceID() string {
	raw := make([]byte, 8)
	if _, err := rand.Read(raw); err != nil {
		panic(err)
	}
	return hex.EncodeToString(raw)
}

// ParamError is a missing, mistyped or out-of-range parameter (400).
type ParamError struct{ message string }

func (e *ParamError) Error() string { return e.message }

func paramError(format string, args ...interface{}) *ParamError {
	return &ParamError{fmt.Sprintf(format, args...)}
}

// Handler is one function of the suite.
type Handler func(params *Object) interface{}

// show is Python's repr of a bad value, as _params._show quotes it (60 characters at most).
func show(value interface{}) string {
	var text string
	switch v := value.(type) {
	case string:
		quoteChar := "'"
		if strings.Contains(v, "'") && !strings.Contains(v, `"`) {
			quoteChar = `"`
		}
		var out strings.Builder
		for _, r := range v {
			switch {
			case r == '\\':
				out.WriteString(`\\`)
			case r == '\n':
				out.WriteString(`\n`)
			case r == '\r':
				out.WriteString(`\r`)
			case r == '\t':
				out.WriteString(`\t`)
			case r < 0x20 || r == 0x7f:
				fmt.Fprintf(&out, `\x%02x`, r)
			case string(r) == quoteChar:
				out.WriteString(`\` + quoteChar)
			default:
				out.WriteRune(r)
			}
		}
		text = quoteChar + out.String() + quoteChar
	case float64:
		text = FloatRepr(v)
	case *big.Int:
		text = v.String()
	case bool:
		text = map[bool]string{true: "True", false: "False"}[v]
	default:
		text = TypeName(value)
	}
	runes := []rune(text)
	if len(runes) > 60 {
		return string(runes[:57]) + "..."
	}
	return text
}

var (
	integerText = regexp.MustCompile(`^[+-]?[0-9]+(_[0-9]+)*$`)
	floatText   = regexp.MustCompile(`^[+-]?([0-9]+(_[0-9]+)*(\.([0-9]+(_[0-9]+)*)?)?|\.[0-9]+(_[0-9]+)*)([eE][+-]?[0-9]+(_[0-9]+)*)?$`)
	special     = map[string]float64{"inf": math.Inf(1), "infinity": math.Inf(1), "nan": math.NaN()}
)

// IntParam is params[name] as an integer in [low, high], or fallback when absent or null.
func IntParam(params *Object, name string, fallback, low, high int64) int64 {
	value := params.Get(name)
	var number *big.Int
	switch v := value.(type) {
	case nil:
		return fallback
	case bool:
		panic(paramError("%s must be an integer, got a boolean", name))
	case *big.Int:
		number = v
	case float64:
		if math.IsInf(v, 0) || math.IsNaN(v) || v != math.Trunc(v) {
			panic(paramError("%s must be an integer, got float", name))
		}
		number, _ = big.NewFloat(v).Int(nil)
	case string:
		text := strings.TrimSpace(v)
		if !integerText.MatchString(text) {
			panic(paramError("%s must be an integer, got %s", name, show(v)))
		}
		number, _ = new(big.Int).SetString(strings.ReplaceAll(strings.TrimPrefix(text, "+"), "_", ""), 10)
	default:
		panic(paramError("%s must be an integer, got %s", name, TypeName(value)))
	}
	if number.Cmp(big.NewInt(low)) < 0 || number.Cmp(big.NewInt(high)) > 0 {
		panic(paramError("%s must be between %d and %d, got %s", name, low, high, number))
	}
	return number.Int64()
}

// formatG is Python's "{:g}" of the bounds the suite uses (whole numbers below 1e16).
func formatG(x float64) string {
	if x == math.Trunc(x) && math.Abs(x) < 1e16 {
		return strconv.FormatFloat(x, 'f', 0, 64)
	}
	return FloatRepr(x)
}

// FloatParam is params[name] as a finite float in [low, high], or fallback when absent or null.
func FloatParam(params *Object, name string, fallback, low, high float64) float64 {
	value := params.Get(name)
	var number float64
	switch v := value.(type) {
	case nil:
		return fallback
	case bool:
		panic(paramError("%s must be a number, got a boolean", name))
	case *big.Int:
		number, _ = new(big.Float).SetInt(v).Float64()
	case float64:
		number = v
	case string:
		text := strings.TrimSpace(v)
		unsigned := strings.TrimLeft(strings.ToLower(text), "+-")
		if found, ok := special[unsigned]; ok && len(text)-len(unsigned) <= 1 {
			number = found
			if strings.HasPrefix(text, "-") {
				number = -number
			}
		} else if floatText.MatchString(text) {
			number, _ = strconv.ParseFloat(strings.ReplaceAll(text, "_", ""), 64)
		} else {
			panic(paramError("%s must be a number, got %s", name, show(v)))
		}
	default:
		panic(paramError("%s must be a number, got %s", name, TypeName(value)))
	}
	if math.IsNaN(number) || math.IsInf(number, 0) || number < low || number > high {
		panic(paramError("%s must be between %s and %s, got %s", name, formatG(low), formatG(high), show(value)))
	}
	return number
}

// Round3 is round(x, 3).
func Round3(x float64) float64 { return math.Round(x*1000) / 1000 }

// Invoke runs handler(params) as one invocation of this instance: the status and the document.
func Invoke(name string, handler Handler, params interface{}, adapter string) (int, *Object) {
	cold := atomic.CompareAndSwapInt32(&coldTaken, 0, 1)
	start := time.Now()
	status := 200
	body := NewObject()
	func() {
		defer func() {
			caught := recover()
			if caught == nil {
				return
			}
			if bad, ok := caught.(*ParamError); ok {
				status = 400
				body.Set("error", bad.message)
				return
			}
			fmt.Fprintf(os.Stderr, "%v\n%s", caught, debug.Stack())
			status = 500
			body.Set("error", fmt.Sprintf("internal error: %v", caught))
		}()
		object, ok := params.(*Object)
		if !ok {
			panic(paramError("parameters must be a JSON object, got %s", TypeName(params)))
		}
		body.Set("result", handler(object))
	}()
	meta := NewObject()
	meta.Set("function", name)
	meta.Set("instance", instanceID)
	meta.Set("cold", cold)
	meta.Set("instance_started_ns", instanceStartedNs)
	meta.Set("handler_ms", Round3(float64(time.Since(start).Nanoseconds())/1e6))
	meta.Set("version", Version)
	meta.Set("adapter", adapter)
	meta.Set("language", Language)
	body.Set("meta", meta)
	return status, body
}
