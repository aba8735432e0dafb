const { describe, it, before } = require('node:test');
describe('broken suite', () => { throw new Error('describe body throws'); });
describe('hooked', () => {
  before(() => { throw new Error('before fails'); });
  it('never runs', () => {});
});
describe('fine', () => { it('runs', () => {}); });
