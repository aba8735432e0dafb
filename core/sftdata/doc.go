// Package sftdata turns graded trajectories into training rows: a loss
// masker's weights checked against the plugin contract, a chat template's
// rendering tokenized into ids and per-token weights, sequences over the
// length limit truncated or dropped, the training order a curriculum gives,
// and rows packed with segment ids for the block-diagonal attention mask.
//
// It does not train (package trainer does) and does not decide which turns
// are trained (loss-masker plugins do).
package sftdata
