package hcl

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// ParseSize reads a size in bytes as the sandbox block's memory is written:
// a decimal number, an optional space, and an optional unit k, m, g, t or p
// (powers of 1024, any case) that may be followed by "b" or "ib"; a bare
// "b" means bytes. "512m", "2g", "1.5GiB" and "1024" parse; "2 gigs", "-1g"
// and "0" do not. The result is above zero and fits an int64. Sizes that
// parse here mean the same as in Docker's units.RAMInBytes.
func ParseSize(s string) (int64, error) {
	if s == "" {
		return 0, errors.New("empty size")
	}
	i := 0
	for i < len(s) && (s[i] >= '0' && s[i] <= '9') {
		i++
	}
	if i == 0 {
		return 0, errors.New("a size starts with a number")
	}
	if i < len(s) && s[i] == '.' {
		j := i + 1
		for j < len(s) && (s[j] >= '0' && s[j] <= '9') {
			j++
		}
		if j == i+1 {
			return 0, errors.New("a decimal point needs digits after it")
		}
		i = j
	}
	f, err := strconv.ParseFloat(s[:i], 64)
	if err != nil {
		return 0, fmt.Errorf("bad number %q", s[:i])
	}
	unit := strings.TrimPrefix(s[i:], " ")
	mul, err := sizeUnit(strings.ToLower(unit))
	if err != nil {
		return 0, err
	}
	f *= mul
	if f >= math.MaxInt64 {
		return 0, errors.New("too large")
	}
	n := int64(f)
	if n <= 0 {
		return 0, errors.New("not above zero bytes")
	}
	return n, nil
}

// sizeUnit returns the multiplier of a lower-case unit suffix.
func sizeUnit(u string) (float64, error) {
	if u == "" || u == "b" {
		return 1, nil
	}
	exp := strings.IndexByte("kmgtp", u[0])
	if exp < 0 || len(u) > 3 || (len(u) == 2 && u[1] != 'b') || (len(u) == 3 && u[1:] != "ib") {
		return 0, fmt.Errorf("unknown unit %q (use k, m, g, t or p)", u)
	}
	return math.Pow(1024, float64(exp+1)), nil
}
