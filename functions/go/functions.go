package main

// echo, sleep and matrix, as functions/echo.py, sleep.py and matrix.py define them.

import (
	"math"
	"time"
)

const (
	maxSleepMs = 240000.0
	maxN       = 400
	maxSeed    = math.MaxInt64
)

// Functions are the suite's functions this runtime has.
var Functions = map[string]Handler{"echo": echo, "sleep": sleepFunction, "matrix": matrix}

// FunctionNames in the suite's order.
var FunctionNames = []string{"echo", "sleep", "matrix"}

// echo returns its parameters unchanged.
func echo(params *Object) interface{} { return params.Copy() }

// sleepFunction waits `ms` milliseconds (default 100) and reports how long it slept.
func sleepFunction(params *Object) interface{} {
	ms := FloatParam(params, "ms", 100.0, 0.0, maxSleepMs)
	start := time.Now()
	time.Sleep(time.Duration(math.Ceil(ms * 1e6)))
	result := NewObject()
	result.Set("ms", ms)
	result.Set("slept_ms", Round3(float64(time.Since(start).Nanoseconds())/1e6))
	return result
}

// PythonRandom is MT19937 seeded as CPython's random.Random(seed) seeds it (init_by_array over
// the 32-bit words of the seed, least significant first), with random() as genrand_res53.
type PythonRandom struct {
	mt    [624]uint32
	index int
}

func NewPythonRandom(seed uint64) *PythonRandom {
	key := []uint32{uint32(seed)}
	if seed>>32 != 0 {
		key = append(key, uint32(seed>>32))
	}
	r := &PythonRandom{index: 624}
	mt := &r.mt
	mt[0] = 19650218
	for i := 1; i < 624; i++ {
		mt[i] = 1812433253*(mt[i-1]^(mt[i-1]>>30)) + uint32(i)
	}
	i, j := 1, 0
	k := len(key)
	if k < 624 {
		k = 624
	}
	for ; k > 0; k-- {
		mt[i] = (mt[i] ^ ((mt[i-1] ^ (mt[i-1] >> 30)) * 1664525)) + key[j] + uint32(j)
		i++
		j++
		if i >= 624 {
			mt[0] = mt[623]
			i = 1
		}
		if j >= len(key) {
			j = 0
		}
	}
	for k = 623; k > 0; k-- {
		mt[i] = (mt[i] ^ ((mt[i-1] ^ (mt[i-1] >> 30)) * 1566083941)) - uint32(i)
		i++
		if i >= 624 {
			mt[0] = mt[623]
			i = 1
		}
	}
	mt[0] = 0x80000000
	return r
}

func (r *PythonRandom) next32() uint32 {
	mt := &r.mt
	if r.index >= 624 {
		for k := 0; k < 624; k++ {
			y := (mt[k] & 0x80000000) | (mt[(k+1)%624] & 0x7fffffff)
			next := mt[(k+397)%624] ^ (y >> 1)
			if y&1 != 0 {
				next ^= 0x9908b0df
			}
			mt[k] = next
		}
		r.index = 0
	}
	y := mt[r.index]
	r.index++
	y ^= y >> 11
	y ^= (y << 7) & 0x9d2c5680
	y ^= (y << 15) & 0xefc60000
	y ^= y >> 18
	return y
}

// Random is a float in [0, 1) with 53 random bits.
func (r *PythonRandom) Random() float64 {
	a := float64(r.next32() >> 5)
	b := float64(r.next32() >> 6)
	return float64(a*67108864.0+b) * (1.0 / 9007199254740992.0)
}

// Uniform is low + (high-low)*Random(), each operation rounded on its own (no fused multiply-add).
func (r *PythonRandom) Uniform(low, high float64) float64 {
	return low + float64((high-low)*r.Random())
}

// Fsum is the correctly rounded sum of the values added, as CPython's math.fsum computes it
// (Shewchuk's partials, then half-even rounding across them).
type Fsum struct{ partials []float64 }

func (s *Fsum) Add(value float64) {
	p := s.partials
	x := value
	i := 0
	for j := 0; j < len(p); j++ {
		y := p[j]
		if math.Abs(x) < math.Abs(y) {
			x, y = y, x
		}
		hi := x + y
		lo := y - (hi - x)
		if lo != 0 {
			p[i] = lo
			i++
		}
		x = hi
	}
	p = p[:i]
	if x != 0 {
		p = append(p, x)
	}
	s.partials = p
}

func (s *Fsum) Value() float64 {
	p := s.partials
	n := len(p)
	if n == 0 {
		return 0
	}
	n--
	hi := p[n]
	lo := 0.0
	for n > 0 {
		x := hi
		n--
		y := p[n]
		hi = x + y
		lo = y - (hi - x)
		if lo != 0 {
			break
		}
	}
	if n > 0 && ((lo < 0 && p[n-1] < 0) || (lo > 0 && p[n-1] > 0)) {
		y := lo * 2
		x := hi + y
		if y == x-hi {
			hi = x
		}
	}
	return hi
}

// matrix multiplies two n×n matrices drawn from `seed` exactly as functions/matrix.py draws them
// (a, then b, row by row, uniform(-1, 1)); every sum is an fsum, so checksum and trace are
// Python's to the last bit.
func matrix(params *Object) interface{} {
	n := int(IntParam(params, "n", 100, 1, maxN))
	seed := IntParam(params, "seed", 0, 0, maxSeed)
	rng := NewPythonRandom(uint64(seed))
	draw := func() [][]float64 {
		m := make([][]float64, n)
		for i := range m {
			m[i] = make([]float64, n)
			for j := range m[i] {
				m[i][j] = rng.Uniform(-1, 1)
			}
		}
		return m
	}
	a := draw()
	b := draw()
	columns := make([][]float64, n)
	for j := range columns {
		columns[j] = make([]float64, n)
		for k := range columns[j] {
			columns[j][k] = b[k][j]
		}
	}
	var total, trace Fsum
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			var dot Fsum
			row, column := a[i], columns[j]
			for k := 0; k < n; k++ {
				dot.Add(float64(row[k] * column[k]))
			}
			entry := dot.Value()
			total.Add(entry)
			if i == j {
				trace.Add(entry)
			}
		}
	}
	result := NewObject()
	result.Set("n", n)
	result.Set("seed", seed)
	result.Set("checksum", total.Value())
	result.Set("trace", trace.Value())
	return result
}
