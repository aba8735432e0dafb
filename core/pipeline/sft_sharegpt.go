package pipeline

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"

	"github.com/swelego/swelego/core/trajfmt"
	"github.com/swelego/swelego/sdk"
)

// shareGPT writes an sft stage's prepared data as LLaMA-Factory ShareGPT:
// the trajectories it trains, in OpenHands' text function-call format, with
// turn_mask true on each masked assistant turn and loss_weight on turns
// weighted other than 0 or 1, plus a dataset_info.json entry, so the same
// masked data can be trained with another trainer. The files appear
// together when the data is complete.
type shareGPT struct {
	dir, tmp string
	f        *os.File
	buf      *bufio.Writer
	w        *trajfmt.Writer
	opts     trajfmt.Options
}

// ShareGPTFile is the data file's name and ShareGPTDataset the
// dataset_info.json entry naming it.
const (
	ShareGPTFile    = "train.jsonl"
	ShareGPTDataset = "swelego_sft"
)

func newShareGPT(dir string, tools []sdk.ToolSchema) (*shareGPT, error) {
	s := &shareGPT{dir: dir, tmp: dir + ".tmp", opts: trajfmt.Options{Style: trajfmt.ShareGPT, Tools: tools}}
	if err := os.RemoveAll(s.tmp); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(s.tmp, 0o755); err != nil {
		return nil, err
	}
	f, err := os.Create(filepath.Join(s.tmp, ShareGPTFile))
	if err != nil {
		return nil, err
	}
	s.f = f
	s.w = trajfmt.NewWriter(f, s.opts)
	return s, nil
}

// add writes one trajectory with its message weights.
func (s *shareGPT) add(t sdk.Trajectory, weights []float64) error {
	t.Messages = cloneMessages(t.Messages)
	for i := range t.Messages {
		m := &t.Messages[i]
		m.TurnMask, m.LossWeight = nil, nil
		if m.Role != "assistant" {
			continue
		}
		switch w := weights[i]; w {
		case 1:
		case 0:
			masked := true
			m.TurnMask = &masked
		default:
			m.LossWeight = &w
		}
	}
	if err := s.w.Write(t); err != nil {
		return fmt.Errorf("sharegpt export of %s: %w", t.InstanceID, err)
	}
	return nil
}

// commit flushes the data, writes dataset_info.json and puts the folder
// in place.
func (s *shareGPT) commit() error {
	if err := s.w.Flush(); err != nil {
		return err
	}
	if err := s.f.Sync(); err != nil {
		return err
	}
	if err := s.f.Close(); err != nil {
		return err
	}
	s.f = nil
	entry, err := trajfmt.DatasetInfo(ShareGPTFile, s.opts)
	if err != nil {
		return err
	}
	if err := trajfmt.WriteDatasetInfo(filepath.Join(s.tmp, "dataset_info.json"), ShareGPTDataset, entry); err != nil {
		return err
	}
	if err := os.RemoveAll(s.dir); err != nil {
		return err
	}
	return os.Rename(s.tmp, s.dir)
}

// abort removes an unfinished export.
func (s *shareGPT) abort() {
	if s.f != nil {
		s.f.Close()
		os.RemoveAll(s.tmp)
	}
}

func cloneMessages(msgs []sdk.Message) []sdk.Message {
	out := make([]sdk.Message, len(msgs))
	copy(out, msgs)
	return out
}
