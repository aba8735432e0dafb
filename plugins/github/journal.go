package github

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/swelego/swelego/sdk"
)

// decision is what the journal keeps of one pull request: the task it
// made, or why it was rejected. UpdatedAt ties it to the pull request as
// it was: a pull request updated since is decided again.
type decision struct {
	Number    int       `json:"number"`
	UpdatedAt string    `json:"updated_at"`
	Reason    string    `json:"reason,omitempty"`
	Task      *sdk.Task `json:"task,omitempty"`
}

// journal is the decided pull requests of one repository under one set of
// filters, appended and synced a line at a time; a torn last line (a
// kill mid-write) is ignored.
type journal struct {
	f       *os.File
	decided map[int]decision
}

// journalName names the journal of repo under the filters of s: other
// thresholds make other decisions.
func journalName(s settings, repo string) string {
	filters, _ := json.Marshal([]any{s.MergedAfter, s.MergedBefore, s.MinIssueChars, s.MinFiles, s.MaxFiles, s.TestFiles, s.BaseURL})
	sum := sha256.Sum256(filters)
	return strings.ReplaceAll(repo, "/", "__") + "-" + hex.EncodeToString(sum[:6]) + ".jsonl"
}

func openJournal(dir, name string) (*journal, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("github: journal: %w", err)
	}
	path := filepath.Join(dir, name)
	j := &journal{decided: map[int]decision{}}
	data, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return nil, fmt.Errorf("github: journal: %w", err)
	}
	good := 0
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 1<<20), 64<<20)
	for sc.Scan() {
		line := sc.Bytes()
		var d decision
		if len(data) > good+len(line) && json.Unmarshal(line, &d) == nil && d.Number > 0 {
			j.decided[d.Number] = d
			good += len(line) + 1
			continue
		}
		break
	}
	if good < len(data) {
		// A torn last line: cut it off so appends start on a fresh line.
		if err := os.Truncate(path, int64(good)); err != nil {
			return nil, fmt.Errorf("github: journal: %w", err)
		}
	}
	if j.f, err = os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644); err != nil {
		return nil, fmt.Errorf("github: journal: %w", err)
	}
	return j, nil
}

// lookup returns the decision on pull request number as it was at
// updatedAt.
func (j *journal) lookup(number int, updatedAt string) (decision, bool) {
	d, ok := j.decided[number]
	return d, ok && d.UpdatedAt == updatedAt
}

func (j *journal) record(d decision) error {
	line, err := json.Marshal(d)
	if err != nil {
		return err
	}
	if _, err := j.f.Write(append(line, '\n')); err != nil {
		return fmt.Errorf("github: journal: %w", err)
	}
	if err := j.f.Sync(); err != nil {
		return fmt.Errorf("github: journal: %w", err)
	}
	j.decided[d.Number] = d
	return nil
}

func (j *journal) Close() error { return j.f.Close() }
