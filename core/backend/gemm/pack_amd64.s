//go:build amd64 && !purego

#include "textflag.h"

// The transposing pack routines: dst[p·ldd + i] = src[i·lds + p] for a group
// of 8, 4 or 2 rows i and n columns p (n a multiple of 8), eight columns at
// a time with in-register transposes. All need AVX.

// func transpose8(dst *float32, ldd int, src *float32, lds int, n int)
TEXT ·transpose8(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ ldd+8(FP), R9
	SHLQ $2, R9
	MOVQ src+16(FP), SI
	MOVQ lds+24(FP), R8
	SHLQ $2, R8
	MOVQ n+32(FP), CX
	SHRQ $3, CX
	JZ   t8done
	LEAQ (R8)(R8*2), R10    // 3 rows of src
	LEAQ (SI)(R8*4), R12    // src row 4
	LEAQ (R9)(R9*2), R11    // 3 rows of dst
	LEAQ (DI)(R9*4), R13    // dst row 4

t8loop:
	VMOVUPS (SI), Y0
	VMOVUPS (SI)(R8*1), Y1
	VMOVUPS (SI)(R8*2), Y2
	VMOVUPS (SI)(R10*1), Y3
	VMOVUPS (R12), Y4
	VMOVUPS (R12)(R8*1), Y5
	VMOVUPS (R12)(R8*2), Y6
	VMOVUPS (R12)(R10*1), Y7
	PREFETCHT0 512(SI)
	PREFETCHT0 512(SI)(R8*1)
	PREFETCHT0 512(SI)(R8*2)
	PREFETCHT0 512(SI)(R10*1)
	PREFETCHT0 512(R12)
	PREFETCHT0 512(R12)(R8*1)
	PREFETCHT0 512(R12)(R8*2)
	PREFETCHT0 512(R12)(R10*1)

	VUNPCKLPS Y1, Y0, Y8    // a0 b0 a1 b1 | a4 b4 a5 b5
	VUNPCKHPS Y1, Y0, Y9    // a2 b2 a3 b3 | a6 b6 a7 b7
	VUNPCKLPS Y3, Y2, Y10
	VUNPCKHPS Y3, Y2, Y11
	VUNPCKLPS Y5, Y4, Y12
	VUNPCKHPS Y5, Y4, Y13
	VUNPCKLPS Y7, Y6, Y14
	VUNPCKHPS Y7, Y6, Y15

	VSHUFPS $0x44, Y10, Y8, Y0 // a0 b0 c0 d0 | a4 b4 c4 d4
	VSHUFPS $0xEE, Y10, Y8, Y1 // a1 b1 c1 d1 | a5 b5 c5 d5
	VSHUFPS $0x44, Y11, Y9, Y2
	VSHUFPS $0xEE, Y11, Y9, Y3
	VSHUFPS $0x44, Y14, Y12, Y4 // e0 f0 g0 h0 | e4 f4 g4 h4
	VSHUFPS $0xEE, Y14, Y12, Y5
	VSHUFPS $0x44, Y15, Y13, Y6
	VSHUFPS $0xEE, Y15, Y13, Y7

	VPERM2F128 $0x20, Y4, Y0, Y8  // column 0
	VPERM2F128 $0x20, Y5, Y1, Y9  // column 1
	VPERM2F128 $0x20, Y6, Y2, Y10 // column 2
	VPERM2F128 $0x20, Y7, Y3, Y11 // column 3
	VPERM2F128 $0x31, Y4, Y0, Y12 // column 4
	VPERM2F128 $0x31, Y5, Y1, Y13 // column 5
	VPERM2F128 $0x31, Y6, Y2, Y14 // column 6
	VPERM2F128 $0x31, Y7, Y3, Y15 // column 7

	VMOVUPS Y8, (DI)
	VMOVUPS Y9, (DI)(R9*1)
	VMOVUPS Y10, (DI)(R9*2)
	VMOVUPS Y11, (DI)(R11*1)
	VMOVUPS Y12, (R13)
	VMOVUPS Y13, (R13)(R9*1)
	VMOVUPS Y14, (R13)(R9*2)
	VMOVUPS Y15, (R13)(R11*1)

	ADDQ $32, SI
	ADDQ $32, R12
	LEAQ (DI)(R9*8), DI
	LEAQ (R13)(R9*8), R13
	DECQ CX
	JNZ  t8loop

t8done:
	VZEROUPPER
	RET

// func transpose4(dst *float32, ldd int, src *float32, lds int, n int)
TEXT ·transpose4(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ ldd+8(FP), R9
	SHLQ $2, R9
	MOVQ src+16(FP), SI
	MOVQ lds+24(FP), R8
	SHLQ $2, R8
	MOVQ n+32(FP), CX
	SHRQ $3, CX
	JZ   t4done
	LEAQ (R8)(R8*2), R10
	LEAQ (R9)(R9*2), R11
	LEAQ (DI)(R9*4), R13

t4loop:
	VMOVUPS (SI), Y0
	VMOVUPS (SI)(R8*1), Y1
	VMOVUPS (SI)(R8*2), Y2
	VMOVUPS (SI)(R10*1), Y3
	PREFETCHT0 512(SI)
	PREFETCHT0 512(SI)(R8*1)
	PREFETCHT0 512(SI)(R8*2)
	PREFETCHT0 512(SI)(R10*1)

	VUNPCKLPS Y1, Y0, Y8
	VUNPCKHPS Y1, Y0, Y9
	VUNPCKLPS Y3, Y2, Y10
	VUNPCKHPS Y3, Y2, Y11
	VSHUFPS   $0x44, Y10, Y8, Y0 // columns 0 | 4
	VSHUFPS   $0xEE, Y10, Y8, Y1 // columns 1 | 5
	VSHUFPS   $0x44, Y11, Y9, Y2 // columns 2 | 6
	VSHUFPS   $0xEE, Y11, Y9, Y3 // columns 3 | 7

	VMOVUPS      X0, (DI)
	VMOVUPS      X1, (DI)(R9*1)
	VMOVUPS      X2, (DI)(R9*2)
	VMOVUPS      X3, (DI)(R11*1)
	VEXTRACTF128 $1, Y0, (R13)
	VEXTRACTF128 $1, Y1, (R13)(R9*1)
	VEXTRACTF128 $1, Y2, (R13)(R9*2)
	VEXTRACTF128 $1, Y3, (R13)(R11*1)

	ADDQ $32, SI
	LEAQ (DI)(R9*8), DI
	LEAQ (R13)(R9*8), R13
	DECQ CX
	JNZ  t4loop

t4done:
	VZEROUPPER
	RET

// func transpose2(dst *float32, ldd int, src *float32, lds int, n int)
TEXT ·transpose2(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ ldd+8(FP), R9
	SHLQ $2, R9
	MOVQ src+16(FP), SI
	MOVQ lds+24(FP), R8
	SHLQ $2, R8
	MOVQ n+32(FP), CX
	SHRQ $3, CX
	JZ   t2done
	LEAQ (R9)(R9*2), R11
	LEAQ (DI)(R9*4), R13

t2loop:
	VMOVUPS (SI), Y0
	VMOVUPS (SI)(R8*1), Y1
	PREFETCHT0 512(SI)
	PREFETCHT0 512(SI)(R8*1)
	VUNPCKLPS    Y1, Y0, Y8        // a0 b0 a1 b1 | a4 b4 a5 b5
	VUNPCKHPS    Y1, Y0, Y9        // a2 b2 a3 b3 | a6 b6 a7 b7
	VEXTRACTF128 $1, Y8, X10
	VEXTRACTF128 $1, Y9, X11
	VMOVLPS      X8, (DI)
	VMOVHPS      X8, (DI)(R9*1)
	VMOVLPS      X9, (DI)(R9*2)
	VMOVHPS      X9, (DI)(R11*1)
	VMOVLPS      X10, (R13)
	VMOVHPS      X10, (R13)(R9*1)
	VMOVLPS      X11, (R13)(R9*2)
	VMOVHPS      X11, (R13)(R11*1)

	ADDQ $32, SI
	LEAQ (DI)(R9*8), DI
	LEAQ (R13)(R9*8), R13
	DECQ CX
	JNZ  t2loop

t2done:
	VZEROUPPER
	RET
