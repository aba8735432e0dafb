import test from 'node:test';
test('esm ok', () => {});
