# urlkit.sh: the history of urlkit, a small JavaScript (CommonJS) library of
# URL helpers tested with Node's built-in test runner (node --test).
# Sourced by build.sh, which provides commit; it writes urlkit.bundle.
n=0 # its dates do not depend on the repositories built before it
mkdir -p "$work/urlkit" && cd "$work/urlkit"
git init -q -b main .
mkdir -p lib test

cat > package.json <<'EOF'
{
  "name": "urlkit",
  "version": "0.1.0",
  "description": "Small URL helpers: slugs and query strings",
  "main": "index.js",
  "license": "MIT",
  "scripts": {
    "test": "node --test"
  }
}
EOF
cat > index.js <<'EOF'
'use strict';

const { slugify } = require('./lib/slug');
const { parseQuery } = require('./lib/query');

module.exports = { slugify, parseQuery };
EOF
cat > lib/slug.js <<'EOF'
'use strict';

/**
 * Turns text into a lower-case URL slug: "Hello, World!" -> "hello-world".
 * Accents are dropped ("Crème" -> "creme"); sep joins the words.
 */
function slugify(text, sep = '-') {
  if (typeof text !== 'string') {
    throw new TypeError('slugify expects a string');
  }
  const plain = text.normalize('NFKD').replace(/[\u0300-\u036f]/g, '');
  const words = plain.toLowerCase().split(/[^a-z0-9]/);
  return words.join(sep);
}

module.exports = { slugify };
EOF
cat > lib/query.js <<'EOF'
'use strict';

/**
 * Parses a query string ("?a=1&b=2" or "a=1&b=2") into an object. A key
 * given more than once gets an array of its values, in order.
 */
function parseQuery(query) {
  const out = {};
  if (query.startsWith('?')) {
    query = query.slice(1);
  }
  for (const part of query.split('&')) {
    if (part === '') {
      continue;
    }
    const eq = part.indexOf('=');
    const key = decodeURIComponent(eq < 0 ? part : part.slice(0, eq));
    const value = eq < 0 ? '' : decodeURIComponent(part.slice(eq + 1));
    if (Object.prototype.hasOwnProperty.call(out, key)) {
      out[key] = [].concat(out[key], value);
    } else {
      out[key] = value;
    }
  }
  return out;
}

module.exports = { parseQuery };
EOF
cat > test/slug.test.js <<'EOF'
'use strict';

const { describe, it } = require('node:test');
const assert = require('node:assert/strict');
const { slugify } = require('..');

describe('slugify', () => {
  it('lower-cases words', () => {
    assert.equal(slugify('Hello World'), 'hello-world');
  });

  it('keeps digits', () => {
    assert.equal(slugify('release 2'), 'release-2');
  });

  it('drops accents', () => {
    assert.equal(slugify('Crème brûlée'), 'creme-brulee');
  });

  it('takes a separator', () => {
    assert.equal(slugify('a b c', '_'), 'a_b_c');
  });

  it('rejects what is not a string', () => {
    assert.throws(() => slugify(42), TypeError);
  });
});
EOF
cat > test/query.test.js <<'EOF'
'use strict';

const { describe, it } = require('node:test');
const assert = require('node:assert/strict');
const { parseQuery } = require('..');

describe('parseQuery', () => {
  it('reads pairs', () => {
    assert.deepEqual(parseQuery('a=1&b=2'), { a: '1', b: '2' });
  });

  it('ignores a leading question mark', () => {
    assert.deepEqual(parseQuery('?a=1'), { a: '1' });
  });

  it('gives a key without a value the empty string', () => {
    assert.deepEqual(parseQuery('flag&x=1'), { flag: '', x: '1' });
  });

  it('collects repeated keys', () => {
    assert.deepEqual(parseQuery('t=a&t=b&t=c'), { t: ['a', 'b', 'c'] });
  });

  it('decodes percent escapes', () => {
    assert.deepEqual(parseQuery('q=caf%C3%A9'), { q: 'café' });
  });

  it('keeps an equals sign inside a value', () => {
    assert.deepEqual(parseQuery('expr=a%3Db=c'), { expr: 'a=b=c' });
  });
});
EOF
cat > README.md <<'EOF'
# urlkit

Small URL helpers: slugs and query strings. No dependencies; tests run with
Node's built-in test runner (`node --test`, Node 18 or later).
EOF
commit "urlkit: slugify and parseQuery"

# Fix: punctuation and runs of spaces gave empty words ("a, b" -> "a--b").
sed -i "s|  return words.join(sep);|  return words.filter((w) => w.length > 0).join(sep);|" lib/slug.js
cat >> test/slug.test.js <<'EOF'

describe('slugify separators', () => {
  const cases = [
    ['Hello, World!', 'hello-world'],
    ['  padded  ', 'padded'],
    ['a -- b', 'a-b'],
    ['one, two; three', 'one-two-three'],
    ['', ''],
  ];
  for (const [input, want] of cases) {
    it(`slugify(${JSON.stringify(input)}) is ${JSON.stringify(want)}`, () => {
      assert.equal(slugify(input), want);
    });
  }
});
EOF
commit "slugify: no empty words from punctuation or runs of spaces"

cat > lib/stringify.js <<'EOF'
'use strict';

/**
 * Writes an object as a query string, keys in sorted order so that the
 * same object always gives the same string. An array value repeats its
 * key; null and undefined values are left out.
 */
function stringifyQuery(params) {
  const parts = [];
  for (const key of Object.keys(params).sort()) {
    const values = [].concat(params[key]);
    for (const value of values) {
      if (value === null || value === undefined) {
        continue;
      }
      parts.push(encodeURIComponent(key) + '=' + encodeURIComponent(String(value)));
    }
  }
  return parts.join('&');
}

module.exports = { stringifyQuery };
EOF
cat > index.js <<'EOF'
'use strict';

const { slugify } = require('./lib/slug');
const { parseQuery } = require('./lib/query');
const { stringifyQuery } = require('./lib/stringify');

module.exports = { slugify, parseQuery, stringifyQuery };
EOF
cat > test/stringify.test.js <<'EOF'
'use strict';

const { describe, it, test } = require('node:test');
const assert = require('node:assert/strict');
const { parseQuery, stringifyQuery } = require('..');

describe('stringifyQuery', () => {
  it('sorts keys', () => {
    assert.equal(stringifyQuery({ b: 2, a: 1 }), 'a=1&b=2');
  });

  it('repeats the key of an array', () => {
    assert.equal(stringifyQuery({ t: ['x', 'y'] }), 't=x&t=y');
  });

  it('leaves out null and undefined', () => {
    assert.equal(stringifyQuery({ a: null, b: undefined, c: 0 }), 'c=0');
  });

  it('escapes what must be escaped', () => {
    assert.equal(stringifyQuery({ 'a b': 'x&y=z' }), 'a%20b=x%26y%3Dz');
  });
});

test('parseQuery reads what stringifyQuery writes', () => {
  const params = { name: 'Zoë', tags: ['a', 'b'], empty: '' };
  assert.deepEqual(parseQuery(stringifyQuery(params)), params);
});
EOF
commit "Add stringifyQuery"

# Fix: HTML forms write spaces as "+".
python3 - <<'EOF'
p = "lib/query.js"
s = open(p).read()
s = s.replace("""function parseQuery(query) {""", """function decode(text) {
  return decodeURIComponent(text.replace(/\\+/g, ' '));
}

/**
 * Parses a query string ("?a=1&b=2" or "a=1&b=2") into an object. A key
 * given more than once gets an array of its values, in order. A "+" is a
 * space, as HTML forms write it.
 */
function parseQuery(query) {""", 1)
s = s.replace("""/**
 * Parses a query string ("?a=1&b=2" or "a=1&b=2") into an object. A key
 * given more than once gets an array of its values, in order.
 */
function decode""", "function decode", 1)
s = s.replace("decodeURIComponent(eq < 0", "decode(eq < 0").replace("decodeURIComponent(part.slice(eq + 1))", "decode(part.slice(eq + 1))")
open(p, "w").write(s)
EOF
cat >> test/query.test.js <<'EOF'

describe('parseQuery and forms', () => {
  it('reads a plus as a space', () => {
    assert.deepEqual(parseQuery('q=hello+world'), { q: 'hello world' });
  });

  it('keeps an escaped plus', () => {
    assert.deepEqual(parseQuery('sum=1%2B1'), { sum: '1+1' });
  });
});
EOF
commit "parseQuery: a plus is a space"

cat > lib/join.js <<'EOF'
'use strict';

const { stringifyQuery } = require('./stringify');

/**
 * Joins URL path segments with single slashes and appends a query string
 * made from params, when it has any: joinURL(['api/', '/v1', 'users'],
 * { page: 2 }) -> "api/v1/users?page=2".
 */
function joinURL(segments, params = {}) {
  let path = '';
  for (let i = 0; i < segments.length; i++) {
    let segment = segments[i];
    if (i > 0 && segment.startsWith('/')) {
      segment = segment.slice(1);
    }
    if (i < segments.length - 1 && segment.endsWith('/')) {
      segment = segment.slice(0, segment.length - 1);
    }
    if (segment === '') {
      continue;
    }
    path = path === '' ? segment : path + '/' + segment;
  }
  const query = stringifyQuery(params);
  return query.length > 0 ? path + '?' + query : path;
}

module.exports = { joinURL };
EOF
cat > index.js <<'EOF'
'use strict';

const { slugify } = require('./lib/slug');
const { parseQuery } = require('./lib/query');
const { stringifyQuery } = require('./lib/stringify');
const { joinURL } = require('./lib/join');

module.exports = { slugify, parseQuery, stringifyQuery, joinURL };
EOF
cat > test/join.test.js <<'EOF'
'use strict';

const { describe, it } = require('node:test');
const assert = require('node:assert/strict');
const { joinURL } = require('..');

describe('joinURL', () => {
  it('joins with single slashes', () => {
    assert.equal(joinURL(['api/', '/v1', 'users']), 'api/v1/users');
  });

  it('keeps a leading slash', () => {
    assert.equal(joinURL(['/root', 'a']), '/root/a');
  });

  it('keeps a trailing slash', () => {
    assert.equal(joinURL(['a', 'b/']), 'a/b/');
  });

  it('skips empty segments', () => {
    assert.equal(joinURL(['a', '', 'b']), 'a/b');
  });

  it('appends the query', () => {
    assert.equal(joinURL(['search'], { q: 'x y', page: 2 }), 'search?page=2&q=x%20y');
  });

  it('appends no question mark without params', () => {
    assert.equal(joinURL(['a'], { skip: null }), 'a');
  });
});
EOF
commit "Add joinURL"

git bundle create -q "$here/urlkit.bundle" --all
cd "$here"
