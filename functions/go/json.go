package main

// JSON as the Python suite reads and writes it (json.loads, json.dumps with separators
// (",", ":") and ensure_ascii): objects keep their keys' order (the last duplicate key wins),
// integers are *big.Int (exact at any size), other numbers float64 and print the way Python's
// repr prints a float ("100.0", "1e-05"), so int and float survive a round trip. Strings hold
// UTF-8; a lone surrogate from a \u escape is kept as its 3-byte encoding and written back.

import (
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
)

// Object is a JSON object with its keys in order.
type Object struct {
	keys   []string
	values map[string]interface{}
}

func NewObject() *Object { return &Object{values: map[string]interface{}{}} }

func (o *Object) Set(key string, value interface{}) {
	if _, seen := o.values[key]; !seen {
		o.keys = append(o.keys, key)
	}
	o.values[key] = value
}

// Get returns the value of key (nil for JSON null or when absent).
func (o *Object) Get(key string) interface{} { return o.values[key] }

func (o *Object) Copy() *Object {
	copied := NewObject()
	for _, key := range o.keys {
		copied.Set(key, o.values[key])
	}
	return copied
}

// JSONError is a body that is not JSON.
type JSONError struct{ message string }

func (e *JSONError) Error() string { return e.message }

type parser struct {
	text string
	at   int
}

func (p *parser) fail(what string) { panic(&JSONError{fmt.Sprintf("%s at char %d", what, p.at)}) }

func (p *parser) space() {
	for p.at < len(p.text) {
		switch p.text[p.at] {
		case ' ', '\n', '\r', '\t':
			p.at++
		default:
			return
		}
	}
}

func (p *parser) peek() byte {
	if p.at < len(p.text) {
		return p.text[p.at]
	}
	return 0
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func (p *parser) number() interface{} {
	start := p.at
	if p.peek() == '-' {
		p.at++
	}
	switch {
	case p.peek() == '0':
		p.at++
	case isDigit(p.peek()):
		for isDigit(p.peek()) {
			p.at++
		}
	default:
		p.at = start
		p.fail("Expecting value")
	}
	integer := true
	if p.peek() == '.' && p.at+1 < len(p.text) && isDigit(p.text[p.at+1]) {
		integer = false
		p.at++
		for isDigit(p.peek()) {
			p.at++
		}
	}
	if c := p.peek(); c == 'e' || c == 'E' {
		mark := p.at
		p.at++
		if c := p.peek(); c == '+' || c == '-' {
			p.at++
		}
		if isDigit(p.peek()) {
			integer = false
			for isDigit(p.peek()) {
				p.at++
			}
		} else {
			p.at = mark
		}
	}
	literal := p.text[start:p.at]
	if integer {
		value, _ := new(big.Int).SetString(literal, 10)
		return value
	}
	value, err := strconv.ParseFloat(literal, 64)
	if err != nil && !strings.Contains(err.Error(), "range") {
		p.fail("Expecting value")
	}
	return value
}

func hex4(text string) (rune, bool) {
	if len(text) < 4 {
		return 0, false
	}
	value, err := strconv.ParseUint(text[:4], 16, 32)
	return rune(value), err == nil
}

// appendCode appends a code point as UTF-8; a lone surrogate as its 3-byte encoding.
func appendCode(out []byte, code rune) []byte {
	if code >= 0xd800 && code <= 0xdfff {
		return append(out, byte(0xe0|code>>12), byte(0x80|(code>>6)&0x3f), byte(0x80|code&0x3f))
	}
	return append(out, string(code)...)
}

func (p *parser) str() string {
	p.at++
	out := []byte{}
	for {
		if p.at >= len(p.text) {
			p.fail("Unterminated string")
		}
		c := p.text[p.at]
		switch {
		case c == '"':
			p.at++
			return string(out)
		case c < 0x20:
			p.fail("Invalid control character")
		case c == '\\':
			if p.at+1 >= len(p.text) {
				p.fail("Unterminated string")
			}
			escaped := map[byte]byte{'"': '"', '\\': '\\', '/': '/', 'b': '\b', 'f': '\f', 'n': '\n', 'r': '\r', 't': '\t'}
			e := p.text[p.at+1]
			if simple, ok := escaped[e]; ok {
				out = append(out, simple)
				p.at += 2
				continue
			}
			code, ok := hex4(p.text[p.at+2:])
			if e != 'u' || !ok {
				p.fail("Invalid \\escape")
			}
			p.at += 6
			if code >= 0xd800 && code <= 0xdbff && strings.HasPrefix(p.text[p.at:], "\\u") {
				if low, ok := hex4(p.text[p.at+2:]); ok && low >= 0xdc00 && low <= 0xdfff {
					code = 0x10000 + (code-0xd800)<<10 + (low - 0xdc00)
					p.at += 6
				}
			}
			out = appendCode(out, code)
		default:
			out = append(out, c)
			p.at++
		}
	}
}

func (p *parser) value(depth int) interface{} {
	if depth > 1000 {
		p.fail("Nesting too deep")
	}
	p.space()
	switch p.peek() {
	case '{':
		p.at++
		object := NewObject()
		p.space()
		if p.peek() == '}' {
			p.at++
			return object
		}
		for {
			p.space()
			if p.peek() != '"' {
				p.fail("Expecting property name enclosed in double quotes")
			}
			key := p.str()
			p.space()
			if p.peek() != ':' {
				p.fail("Expecting ':' delimiter")
			}
			p.at++
			object.Set(key, p.value(depth+1))
			p.space()
			switch p.peek() {
			case ',':
				p.at++
			case '}':
				p.at++
				return object
			default:
				p.fail("Expecting ',' delimiter")
			}
		}
	case '[':
		p.at++
		array := []interface{}{}
		p.space()
		if p.peek() == ']' {
			p.at++
			return array
		}
		for {
			array = append(array, p.value(depth+1))
			p.space()
			switch p.peek() {
			case ',':
				p.at++
			case ']':
				p.at++
				return array
			default:
				p.fail("Expecting ',' delimiter")
			}
		}
	case '"':
		return p.str()
	}
	for word, result := range map[string]interface{}{"true": true, "false": false, "null": nil} {
		if strings.HasPrefix(p.text[p.at:], word) {
			p.at += len(word)
			return result
		}
	}
	return p.number()
}

// ParseJSON reads one JSON document; *JSONError when text is not JSON.
func ParseJSON(text string) (result interface{}, err error) {
	defer func() {
		if caught := recover(); caught != nil {
			jsonErr, ok := caught.(*JSONError)
			if !ok {
				panic(caught)
			}
			err = jsonErr
		}
	}()
	p := &parser{text: text}
	result = p.value(0)
	p.space()
	if p.at != len(p.text) {
		p.fail("Extra data")
	}
	return result, nil
}

// FloatRepr is Python's repr of a float: fixed notation from 1e-4 up to 1e16, else exponent.
func FloatRepr(x float64) string {
	switch {
	case math.IsNaN(x):
		return "nan"
	case math.IsInf(x, 1):
		return "inf"
	case math.IsInf(x, -1):
		return "-inf"
	}
	sign := ""
	if math.Signbit(x) {
		sign = "-"
	}
	if x == 0 {
		return sign + "0.0"
	}
	shortest := strconv.FormatFloat(math.Abs(x), 'e', -1, 64)
	split := strings.Index(shortest, "e")
	mantissa, exponentText := shortest[:split], shortest[split+1:]
	digits := strings.Replace(mantissa, ".", "", 1)
	exponent, _ := strconv.Atoi(exponentText)
	point := exponent + 1
	switch {
	case point <= -4 || point > 16:
		text := digits[:1]
		if len(digits) > 1 {
			text += "." + digits[1:]
		}
		expSign := "+"
		if exponent < 0 {
			expSign, exponent = "-", -exponent
		}
		return fmt.Sprintf("%s%se%s%02d", sign, text, expSign, exponent)
	case point <= 0:
		return sign + "0." + strings.Repeat("0", -point) + digits
	case point >= len(digits):
		return sign + digits + strings.Repeat("0", point-len(digits)) + ".0"
	default:
		return sign + digits[:point] + "." + digits[point:]
	}
}

// decodeUnit reads one code point (or a lone surrogate) from UTF-8 text at i.
func decodeUnit(text string, i int) (rune, int) {
	c := text[i]
	switch {
	case c < 0x80:
		return rune(c), 1
	case c < 0xe0 && i+1 < len(text):
		return rune(c&0x1f)<<6 | rune(text[i+1]&0x3f), 2
	case c < 0xf0 && i+2 < len(text):
		return rune(c&0x0f)<<12 | rune(text[i+1]&0x3f)<<6 | rune(text[i+2]&0x3f), 3
	case i+3 < len(text):
		return rune(c&0x07)<<18 | rune(text[i+1]&0x3f)<<12 | rune(text[i+2]&0x3f)<<6 | rune(text[i+3]&0x3f), 4
	}
	return 0xfffd, 1
}

func quote(out *strings.Builder, text string) {
	out.WriteByte('"')
	for i := 0; i < len(text); {
		code, size := decodeUnit(text, i)
		i += size
		switch code {
		case '"':
			out.WriteString(`\"`)
		case '\\':
			out.WriteString(`\\`)
		case '\n':
			out.WriteString(`\n`)
		case '\r':
			out.WriteString(`\r`)
		case '\t':
			out.WriteString(`\t`)
		case '\b':
			out.WriteString(`\b`)
		case '\f':
			out.WriteString(`\f`)
		default:
			switch {
			case code >= 0x20 && code <= 0x7e:
				out.WriteByte(byte(code))
			case code > 0xffff:
				code -= 0x10000
				fmt.Fprintf(out, `\u%04x\u%04x`, 0xd800+(code>>10), 0xdc00+(code&0x3ff))
			default:
				fmt.Fprintf(out, `\u%04x`, code)
			}
		}
	}
	out.WriteByte('"')
}

func writeJSON(out *strings.Builder, value interface{}) {
	switch v := value.(type) {
	case nil:
		out.WriteString("null")
	case bool:
		if v {
			out.WriteString("true")
		} else {
			out.WriteString("false")
		}
	case *big.Int:
		out.WriteString(v.String())
	case int:
		out.WriteString(strconv.Itoa(v))
	case int64:
		out.WriteString(strconv.FormatInt(v, 10))
	case float64:
		switch {
		case math.IsNaN(v):
			out.WriteString("NaN")
		case math.IsInf(v, 1):
			out.WriteString("Infinity")
		case math.IsInf(v, -1):
			out.WriteString("-Infinity")
		default:
			out.WriteString(FloatRepr(v))
		}
	case string:
		quote(out, v)
	case []interface{}:
		out.WriteByte('[')
		for i, item := range v {
			if i > 0 {
				out.WriteByte(',')
			}
			writeJSON(out, item)
		}
		out.WriteByte(']')
	case *Object:
		out.WriteByte('{')
		for i, key := range v.keys {
			if i > 0 {
				out.WriteByte(',')
			}
			quote(out, key)
			out.WriteByte(':')
			writeJSON(out, v.values[key])
		}
		out.WriteByte('}')
	default:
		panic(fmt.Sprintf("not a JSON value: %T", value))
	}
}

// DumpJSON writes value compactly, non-ASCII escaped, as Python's json.dumps does.
func DumpJSON(value interface{}) string {
	var out strings.Builder
	writeJSON(&out, value)
	return out.String()
}

// TypeName is Python's type name for a parsed value, for messages ("got list").
func TypeName(value interface{}) string {
	switch value.(type) {
	case nil:
		return "NoneType"
	case bool:
		return "bool"
	case *big.Int, int, int64:
		return "int"
	case float64:
		return "float"
	case string:
		return "str"
	case []interface{}:
		return "list"
	}
	return "dict"
}
