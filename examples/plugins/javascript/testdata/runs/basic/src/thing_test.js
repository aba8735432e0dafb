const { test } = require('node:test');
test('found by name', () => {});
