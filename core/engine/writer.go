package engine

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// Writer appends records to a JSON Lines artifact and its checksum sidecar
// (see the package documentation for the format). Every record has a key;
// the Writer knows the keys of all committed records, so a resumed stage
// skips the items it has written and a record is never written twice.
//
// Append is safe for concurrent use and commits in groups: appends that
// arrive while a batch is being made durable form the next batch, which
// costs one fsync per file however many records it holds.
type Writer struct {
	path   string
	keyFn  KeyFunc
	logger *slog.Logger
	data   *os.File
	sum    *os.File

	reqs     chan *appendReq
	loopDone chan struct{}

	sendMu sync.RWMutex // held for reading while sending on reqs
	closed bool         // under sendMu

	mu      sync.Mutex // guards the fields below
	keys    map[string]struct{}
	pending map[string]struct{}
	count   int
	err     error // sticky write error
	stats   WriterStats

	// Owned by the commit loop.
	dataEnd, sumEnd int64

	closeOnce sync.Once
	closeErr  error

	// slowWrites, set only by tests, splits each write in two and pauses
	// between the writes of a batch, so that a test that kills the process
	// finds it mid-batch: a slow disk.
	slowWrites time.Duration
}

// WriterStats counts what a Writer has done since it was opened.
type WriterStats struct {
	Records int   // records committed by this Writer
	Batches int64 // group commits, each with one fsync per file
	// Dropped counts the committed records WithDrop removed when the
	// Writer was opened.
	Dropped int
}

type appendReq struct {
	key  string
	line []byte
	done chan error
}

// WriterOption configures OpenWriter.
type WriterOption func(*writerConfig)

type writerConfig struct {
	logger *slog.Logger
	drop   func(key string, raw json.RawMessage) bool
}

// WithLogger sets where OpenWriter reports what it repaired; the default
// is slog.Default().
func WithLogger(l *slog.Logger) WriterOption {
	return func(c *writerConfig) {
		if l != nil {
			c.logger = l
		}
	}
}

// WithDrop removes, when the Writer is opened, every committed record for
// which drop returns true, so that a stage can do those items again: an
// error result to grade again, a result of a prediction that has changed.
// drop gets each record's key (empty for an unkeyed Writer) and its JSON
// text. The file is rewritten only when something is dropped, in a way
// that a crash at any point leaves either the old records or the kept
// ones, never less: the kept records go to a temporary file, the sidecar
// is removed, the temporary file replaces the data file and a new sidecar
// is written; a data file found without its sidecar is adopted (see
// OpenWriter), and the old data file is complete by then.
func WithDrop(drop func(key string, raw json.RawMessage) bool) WriterOption {
	return func(c *writerConfig) { c.drop = drop }
}

const (
	maxBatchRecords = 4096
	maxBatchBytes   = 16 << 20
)

// OpenWriter opens the artifact at path for appending, creating it and its
// directory if needed, and locks it against other Writers.
//
// It first repairs what a crash may have left: records are checked against
// the sidecar and both files are truncated after the last committed record
// (a torn last line, a record without sum line, a sum line without its
// complete record, a checksum mismatch — everything from the first bad
// record on is dropped and the drop is logged). A data file without sidecar,
// written by another tool, is adopted: each non-blank line must be JSON
// (else an error wrapping ErrMalformed names the line; nothing is changed)
// and a sidecar is written for it.
//
// key extracts the key of every committed record; an error from it fails
// OpenWriter. A nil key makes an unkeyed Writer: Append then takes the
// empty key and does not check for duplicates.
func OpenWriter(path string, key KeyFunc, opts ...WriterOption) (*Writer, error) {
	cfg := writerConfig{logger: slog.Default()}
	for _, o := range opts {
		o(&cfg)
	}
	w := &Writer{
		path:    path,
		keyFn:   key,
		logger:  cfg.logger,
		keys:    make(map[string]struct{}),
		pending: make(map[string]struct{}),
	}
	if err := w.open(); err != nil {
		w.closeFiles()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	if cfg.drop != nil {
		if err := w.dropRecords(cfg.drop); err != nil {
			w.closeFiles()
			return nil, fmt.Errorf("open %s: drop records: %w", path, err)
		}
	}
	w.reqs = make(chan *appendReq, 256)
	w.loopDone = make(chan struct{})
	go w.commitLoop()
	return w, nil
}

func (w *Writer) open() error {
	dir := filepath.Dir(w.path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var err error
	w.data, err = os.OpenFile(w.path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	if err := tryLock(w.data); err != nil {
		if errors.Is(err, errLockHeld) {
			return fmt.Errorf("file is %w (another Writer has it open)", ErrLocked)
		}
		return fmt.Errorf("lock: %w", err)
	}
	sumPath := w.path + SumSuffix
	w.sum, err = os.OpenFile(sumPath, os.O_RDWR, 0)
	if errors.Is(err, fs.ErrNotExist) {
		if err := w.adopt(); err != nil {
			return err
		}
		w.sum, err = os.OpenFile(sumPath, os.O_RDWR, 0)
	}
	if err != nil {
		return err
	}
	return w.recover()
}

// adopt writes a sidecar for a data file that has none: an empty file we
// just created, or a file written by another tool.
func (w *Writer) adopt() error {
	var entries []sumEntry
	var lastMissingNL bool
	var size int64
	err := scanLines(bufio.NewReaderSize(io.NewSectionReader(w.data, 0, 1<<62), 64<<10),
		func(line int, text []byte, off int64, hasNL bool) error {
			size = off + int64(len(text))
			if len(trimJSONSpace(text)) == 0 {
				return nil
			}
			body := text
			if hasNL {
				body = text[:len(text)-1]
			}
			if !json.Valid(body) {
				return fmt.Errorf("line %d: %w: %v (the file has no %s sidecar, so every line must be JSON)", line, ErrMalformed, jsonError(body), SumSuffix)
			}
			crc := checksum(text)
			if !hasNL {
				crc = checksum(append(bytes.Clone(text), '\n'))
			}
			entries = append(entries, sumEntry{off: off, n: int64(len(text)) + boolInt(!hasNL), crc: crc})
			lastMissingNL = !hasNL
			return nil
		})
	if err != nil {
		return err
	}
	if lastMissingNL {
		// The last record of a foreign file may lack its newline; add it
		// so that appends start on a new line.
		if _, err := w.data.WriteAt([]byte{'\n'}, size); err != nil {
			return err
		}
		if err := w.data.Sync(); err != nil {
			return err
		}
	}
	var buf []byte
	for _, e := range entries {
		buf = appendSumLine(buf, e)
	}
	if len(entries) > 0 {
		w.logger.Info("adopted JSON Lines file written without sidecar", "file", w.path, "records", len(entries))
	}
	return writeFileAtomic(w.path+SumSuffix, buf)
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// recover verifies the data file against the sidecar, truncates both after
// the last committed record and loads the committed keys.
func (w *Writer) recover() error {
	dst, err := w.data.Stat()
	if err != nil {
		return err
	}
	var keyErr error
	res, err := verifyCommitted(w.data, dst.Size(), bufio.NewReader(w.sum), func(line int, rec []byte) error {
		if w.keyFn == nil {
			w.count++
			return nil
		}
		k, err := w.keyFn(trimJSONSpace(rec))
		if err != nil {
			keyErr = fmt.Errorf("line %d: %w", line, err)
			return keyErr
		}
		if _, dup := w.keys[k]; dup {
			w.logger.Warn("artifact holds a key twice; keeping both records", "file", w.path, "line", line, "key", k)
		}
		w.keys[k] = struct{}{}
		w.count++
		return nil
	})
	if keyErr != nil {
		return keyErr
	}
	if err != nil {
		return err
	}
	sst, err := w.sum.Stat()
	if err != nil {
		return err
	}
	res.sumSize = sst.Size()
	if res.dataEnd != res.dataSize || res.sumEnd != res.sumSize {
		reason := res.reason
		if reason == "" {
			reason = "bytes after the last committed record (interrupted append)"
		}
		w.logger.Warn("dropped uncommitted or damaged tail of artifact",
			"file", w.path, "kept_records", res.records, "reason", reason,
			"dropped_data_bytes", res.dataSize-res.dataEnd, "dropped_sum_bytes", res.sumSize-res.sumEnd)
		if err := w.data.Truncate(res.dataEnd); err != nil {
			return err
		}
		if err := w.sum.Truncate(res.sumEnd); err != nil {
			return err
		}
		if err := w.data.Sync(); err != nil {
			return err
		}
		if err := w.sum.Sync(); err != nil {
			return err
		}
	}
	w.dataEnd, w.sumEnd = res.dataEnd, res.sumEnd
	if _, err := w.data.Seek(w.dataEnd, io.SeekStart); err != nil {
		return err
	}
	if _, err := w.sum.Seek(w.sumEnd, io.SeekStart); err != nil {
		return err
	}
	return nil
}

// dropRecords rewrites the committed records without those drop selects
// (see WithDrop) and opens the result as open does.
func (w *Writer) dropRecords(drop func(string, json.RawMessage) bool) error {
	var keep bytes.Buffer
	dropped := 0
	_, err := verifyCommitted(w.data, w.dataEnd, io.NewSectionReader(w.sum, 0, w.sumEnd), func(_ int, rec []byte) error {
		raw := trimJSONSpace(rec)
		key := ""
		if w.keyFn != nil {
			k, err := w.keyFn(raw)
			if err != nil {
				return err
			}
			key = k
		}
		if drop(key, raw) {
			dropped++
			return nil
		}
		keep.Write(raw)
		keep.WriteByte('\n')
		return nil
	})
	if err != nil || dropped == 0 {
		return err
	}
	dir := filepath.Dir(w.path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(w.path)+".keep*")
	if err != nil {
		return err
	}
	_, err = tmp.Write(keep.Bytes())
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), 0o644)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return err
	}
	// From here on the data file may stand without its sidecar, which the
	// next OpenWriter adopts: first the old records, then the kept ones.
	if err := w.closeFiles(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	w.data, w.sum = nil, nil
	if err := os.Remove(w.path + SumSuffix); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	if err := syncDir(dir); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), w.path); err != nil {
		return err
	}
	if err := syncDir(dir); err != nil {
		return err
	}
	w.keys = make(map[string]struct{})
	w.count = 0
	if err := w.open(); err != nil {
		return err
	}
	w.stats.Dropped = dropped
	w.logger.Info("dropped records to do them again", "file", w.path, "dropped", dropped, "kept", w.count)
	return nil
}

// Path returns the data file's path.
func (w *Writer) Path() string { return w.path }

// Has reports whether a record with key has been committed.
func (w *Writer) Has(key string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	_, ok := w.keys[key]
	return ok
}

// Len returns the number of committed records, including those found when
// the file was opened.
func (w *Writer) Len() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.count
}

// Stats returns counters of this Writer's work.
func (w *Writer) Stats() WriterStats {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.stats
}

// Append writes record, marshalled to one JSON line, under key, and
// returns once the record and its sum line are durable on disk. key must
// be what the Writer's KeyFunc returns for the record (empty for an unkeyed
// Writer); a key the Writer already holds returns an error wrapping
// ErrDuplicateKey and writes nothing. ctx bounds the wait for a place in
// the queue; once queued, Append waits for its batch's fsync.
//
// After a write or fsync error the Writer refuses further appends; reopen
// it to repair the file.
func (w *Writer) Append(ctx context.Context, key string, record any) error {
	wait, err := w.AppendAsync(ctx, key, record)
	if err != nil {
		return err
	}
	return wait()
}

// AppendAsync queues record as Append does but returns as soon as it is
// queued; the returned wait blocks until the record is durable and reports
// its outcome. Records queued by one goroutine are written in that order,
// so a stage streaming records keeps many in flight without giving up
// their order: a crash loses at most the records not yet waited for, and a
// resumed stage writes them again.
func (w *Writer) AppendAsync(ctx context.Context, key string, record any) (wait func() error, err error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	line, err := marshalLine(record)
	if err != nil {
		return nil, fmt.Errorf("append to %s: %w", w.path, err)
	}
	if w.keyFn == nil {
		if key != "" {
			return nil, fmt.Errorf("append to %s: key %q given to a Writer opened without KeyFunc", w.path, key)
		}
	} else {
		got, err := w.keyFn(line[:len(line)-1])
		if err != nil {
			return nil, fmt.Errorf("append to %s: %w", w.path, err)
		}
		if got != key {
			return nil, fmt.Errorf("append to %s: key %q does not match the record's key %q", w.path, key, got)
		}
	}

	req := &appendReq{key: key, line: line, done: make(chan error, 1)}
	if err := w.enqueue(ctx, req); err != nil {
		return nil, fmt.Errorf("append to %s: %w", w.path, err)
	}
	return func() error {
		if err := <-req.done; err != nil {
			return fmt.Errorf("append to %s: %w", w.path, err)
		}
		return nil
	}, nil
}

// enqueue reserves req's key and hands req to the commit loop.
func (w *Writer) enqueue(ctx context.Context, req *appendReq) error {
	w.sendMu.RLock()
	defer w.sendMu.RUnlock()
	if w.closed {
		return fmt.Errorf("writer %w", ErrClosed)
	}
	w.mu.Lock()
	if w.err != nil {
		err := w.err
		w.mu.Unlock()
		return fmt.Errorf("earlier write failed: %w", err)
	}
	if req.key != "" {
		_, committed := w.keys[req.key]
		_, pending := w.pending[req.key]
		if committed || pending {
			w.mu.Unlock()
			return fmt.Errorf("key %q: %w", req.key, ErrDuplicateKey)
		}
		w.pending[req.key] = struct{}{}
	}
	w.mu.Unlock()
	select {
	case w.reqs <- req:
		return nil
	case <-ctx.Done():
		w.mu.Lock()
		delete(w.pending, req.key)
		w.mu.Unlock()
		return ctx.Err()
	}
}

// marshalLine encodes v as one line of JSON with its newline, leaving <, >
// and & unescaped so patches stay readable.
func marshalLine(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	b := buf.Bytes()
	if bytes.IndexByte(b[:len(b)-1], '\n') >= 0 {
		return nil, errors.New("record does not encode to a single line")
	}
	return b, nil
}

// commitLoop takes queued appends in batches and commits each batch.
func (w *Writer) commitLoop() {
	defer close(w.loopDone)
	for req := range w.reqs {
		batch := []*appendReq{req}
		size := len(req.line)
	drain:
		for len(batch) < maxBatchRecords && size < maxBatchBytes {
			select {
			case r, ok := <-w.reqs:
				if !ok {
					break drain
				}
				batch = append(batch, r)
				size += len(r.line)
			default:
				break drain
			}
		}
		w.commit(batch)
	}
}

func (w *Writer) commit(batch []*appendReq) {
	w.mu.Lock()
	err := w.err
	w.mu.Unlock()
	if err == nil {
		err = w.writeBatch(batch)
	}
	w.mu.Lock()
	for _, r := range batch {
		if r.key == "" {
			continue
		}
		delete(w.pending, r.key)
		if err == nil {
			w.keys[r.key] = struct{}{}
		}
	}
	if err == nil {
		w.count += len(batch)
		w.stats.Records += len(batch)
		w.stats.Batches++
	} else if w.err == nil {
		w.err = err
	}
	w.mu.Unlock()
	for _, r := range batch {
		r.done <- err
	}
}

// writeBatch appends the batch's records, then their sum lines, then makes
// both durable. A crash at any point leaves a prefix the next OpenWriter
// recognises.
func (w *Writer) writeBatch(batch []*appendReq) error {
	var data, sums []byte
	off := w.dataEnd
	for _, r := range batch {
		data = append(data, r.line...)
		n := int64(len(r.line))
		sums = appendSumLine(sums, sumEntry{off: off, n: n, crc: checksum(r.line)})
		off += n
	}
	err := func() error {
		if err := w.write(w.data, data); err != nil {
			return err
		}
		if err := w.write(w.sum, sums); err != nil {
			return err
		}
		if err := w.data.Sync(); err != nil {
			return err
		}
		return w.sum.Sync()
	}()
	if err != nil {
		// Best effort: leave the files as they were. The next OpenWriter
		// repairs them anyway.
		w.data.Truncate(w.dataEnd)
		w.sum.Truncate(w.sumEnd)
		return err
	}
	w.dataEnd = off
	w.sumEnd += int64(len(sums))
	return nil
}

func (w *Writer) write(f *os.File, b []byte) error {
	if w.slowWrites > 0 {
		half := len(b) / 2
		if _, err := f.Write(b[:half]); err != nil {
			return err
		}
		time.Sleep(w.slowWrites)
		b = b[half:]
		defer time.Sleep(w.slowWrites)
	}
	_, err := f.Write(b)
	return err
}

// Close waits for queued appends to be committed, then closes the files
// and releases the lock. It returns the first write error the Writer met.
// Close is idempotent.
func (w *Writer) Close() error {
	w.closeOnce.Do(func() {
		w.sendMu.Lock()
		w.closed = true
		close(w.reqs)
		w.sendMu.Unlock()
		<-w.loopDone

		w.mu.Lock()
		err := w.err
		w.mu.Unlock()
		if cerr := w.closeFiles(); err == nil {
			err = cerr
		}
		if err != nil {
			w.closeErr = fmt.Errorf("close %s: %w", w.path, err)
		}
	})
	return w.closeErr
}

func (w *Writer) closeFiles() error {
	var errs []error
	if w.sum != nil {
		errs = append(errs, w.sum.Close())
	}
	if w.data != nil {
		errs = append(errs, w.data.Close())
	}
	return errors.Join(errs...)
}
