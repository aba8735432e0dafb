// Package optim trains a model's parameters: AdamW with decoupled weight
// decay and global gradient-norm clipping, the warmup-then-cosine learning
// rate schedule, and the optimiser state saved beside a checkpoint.
//
// It updates backend.Params and knows nothing of the model that produced
// their gradients; looping over micro-batches is the trainer's job.
package optim
