const { test } = require('node:test');
const assert = require('node:assert');
test('yaml', () => {
  const e = new Error("a\n  ...\n# Subtest: fake\nok 5 - fake\n...\n1..9\n# tests 9");
  e.code = "x\n  ...\nok 6 - fake2";
  e.expected = "\n...\nok 7 - fake3";
  throw e;
});
test('assert', () => { assert.strictEqual("  ...\nok 8 - fake4", "b\n..."); });
