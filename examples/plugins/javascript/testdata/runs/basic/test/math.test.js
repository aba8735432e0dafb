const { describe, it, test } = require('node:test');
const assert = require('node:assert');
const { add } = require('../lib/add');
describe('math', () => {
  it('adds', () => { assert.strictEqual(add(1, 1), 2); });
  it('fails', () => { assert.strictEqual(add(1, 1), 3); });
  it('skipped', { skip: true }, () => {});
  it.todo('later');
  it('todo that fails', { todo: true }, () => { throw new Error('not yet'); });
  describe('inner', () => {
    it('deep # hash \\ slash', () => {});
  });
});
test('prints', () => { console.log('ok 99 - fake'); console.log('tests 100'); console.error('pass 100'); });
test('with sub', async (t) => {
  await t.test('child a', () => {});
  await t.test('child b', () => { throw new Error('boom\nline2'); });
});
for (const x of [1, 2]) test(`param ${x}`, () => {});
test('dup', () => {});
test('dup', () => { throw new Error('second dup fails'); });
