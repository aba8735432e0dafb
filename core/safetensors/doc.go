// Package safetensors reads and writes the safetensors tensor file format
// (an 8-byte little-endian header length, a JSON header naming each
// tensor's dtype, shape and byte range, then the raw little-endian data),
// converting between the on-disk dtypes F32, BF16 and F16 and float32 in
// memory, including Hugging Face's sharded folders (an index JSON mapping
// tensor names to shard files).
//
// It knows nothing about models: which names a checkpoint holds and what they
// mean is for core/model and core/optim.
package safetensors
