#!/usr/bin/env node
'use strict';
// if (commented) { out(); } a - b, true
/* a block comment: x < y && z */
const RE = /a+b-c\/[/]d/gi;
const msg = "a - b < c && true";
const tpl = `sum ${a - b} and ${`nested ${c < d}`} done`;

function clamp(value, low, high) {
  if (value < low) {
    return low;
  }
  if (value > high) {
    return high;
  } else if (value === high) {
    return value;
  }
  return value;
}

const ratio = (a, b) => a / b;
const half = total / 2 + 1_000 + 10n;

class Counter {
  #count = 0;
  *steps(n) {
    for (let i = 0; i < n; i++) yield i * 2;
  }
  bump(by = 1) {
    this.#count += by;
    return this.#count >= 10 || this?.done === false;
  }
}

const opts = { true: 1, 0: 'zero', flag: true };
module.exports = { clamp, ratio, half, Counter, RE, msg, tpl, opts };
