// Package trainer runs supervised fine-tuning steps over a plan of packed
// rows: micro-batches accumulated into a global batch with the loss averaged
// over the global batch's trained tokens, AdamW with clipping on a
// warmup-then-cosine schedule, per-step metrics, and checkpoints that a
// killed run resumes from with the same result as an uninterrupted one.
//
// Checkpoint layout, under the checkpoint directory: step-NNNNNNNN/ holds
// config.json and model.safetensors (float32, Hugging Face names),
// optimizer.safetensors and trainer_state.json (package optim), and
// progress.json (the step and the plan's fingerprint). A folder is written
// as step-NNNNNNNN.tmp and renamed when complete, so a crash never leaves a
// half checkpoint under a final name.
//
// It does not prepare data (package sftdata) and knows no recipe.
package trainer
