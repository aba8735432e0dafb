package cpu

import "math"

// exp32 is e^x in float32 to within about two units in the last place,
// several times faster than math.Exp and small enough to inline: range
// reduction to x = n·ln2 + r with |r| ≤ ln2/2 (n rounded by the 1.5·2^23
// trick), a degree-6 polynomial for e^r (the coefficients of Cephes' expf)
// and 2^n built in the exponent bits. Below -87.33 it returns 0, above
// 88.37 (where 2^n would leave the float32 range) +Inf, and NaN stays NaN.
func exp32(x float32) float32 {
	if x < -87.33654 {
		return 0
	}
	if x > 88.37626 {
		return float32(math.Inf(1))
	}
	const round = 12582912 // 1.5·2^23: adding it rounds to an integer
	t := x*1.44269504 + round
	fn := t - round
	r := x - fn*0.693359375 + fn*2.12194440e-4
	p := ((((((1.9875691500e-4*r+1.3981999507e-3)*r+8.3334519073e-3)*r+4.1665795894e-2)*r+1.6666665459e-1)*r+5.0000001201e-1)*r*r + r) + 1
	// The low bits of t hold n (two's complement, |n| ≤ 127).
	return p * math.Float32frombits(uint32(int32(math.Float32bits(t))-0x4b400000+127)<<23)
}
