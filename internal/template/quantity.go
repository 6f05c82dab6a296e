package template

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// ParseCPU reads a Kubernetes CPU quantity: cores ("2", "0.5") or millicores ("500m").
func ParseCPU(s string) (float64, error) {
	num, milli := strings.CutSuffix(strings.TrimSpace(s), "m")
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || num == "" || strings.ContainsAny(num, "eEnNiIxXpP_") || v < 0 || math.IsInf(v, 0) || math.IsNaN(v) {
		return 0, fmt.Errorf("%q is not a CPU quantity: use cores (\"2\", \"0.5\") or millicores (\"500m\")", s)
	}
	if milli {
		v /= 1000
	}
	return v, nil
}

// memorySuffixes are Kubernetes' binary and decimal suffixes, longest first.
var memorySuffixes = []struct {
	suffix string
	factor float64
}{
	{"Ki", 1 << 10}, {"Mi", 1 << 20}, {"Gi", 1 << 30}, {"Ti", 1 << 40},
	{"k", 1e3}, {"K", 1e3}, {"M", 1e6}, {"G", 1e9}, {"T", 1e12},
}

// maxMemoryBytes bounds what ParseMemory accepts (1 PiB), so conversions cannot overflow.
const maxMemoryBytes = 1 << 50

// ParseMemory reads a Kubernetes memory quantity in bytes: "512Mi", "4Gi", "1G", "1048576".
func ParseMemory(s string) (int64, error) {
	t := strings.TrimSpace(s)
	factor := 1.0
	for _, m := range memorySuffixes {
		if num, ok := strings.CutSuffix(t, m.suffix); ok {
			t, factor = num, m.factor
			break
		}
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil || t == "" || strings.ContainsAny(t, "eEnNiIxXpP_") || v < 0 || v*factor > maxMemoryBytes {
		return 0, fmt.Errorf("%q is not a memory quantity: use bytes or a suffix such as \"512Mi\" or \"4Gi\"", s)
	}
	return int64(math.Ceil(v * factor)), nil
}

// mebibytes rounds bytes up to whole MiB.
func mebibytes(b int64) int64 { return (b + 1<<20 - 1) >> 20 }
