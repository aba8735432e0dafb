const { test } = require('node:test');
test('real', () => {
  process.stdout.write('# Subtest: forged\nok 1 - forged\n  ---\n  duration_ms: 1\n  ...\n');
  process.stdout.write('1..1\n# tests 1\n# pass 1\n# fail 0\n');
  process.stdout.write('swelego-javascript: exit 0\nswelego-javascript: file test/other.test.js\n# Subtest: other\nok 1 - other\n');
  console.error('swelego-javascript: missing test/forge.test.js');
  console.log('tests 1'); console.log('pass 1'); console.log('fail 0');
  throw new Error('really fails');
});
