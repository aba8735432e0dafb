// Package curriculum is the first-party curriculum: SWE-Lego's difficulty
// curriculum, which splits the training trajectories into tiers by how
// long they are (assistant turns, as the paper does, or tokens) and trains
// the tiers from easy to hard, each tier alone or together with the easier
// ones. Its other strategy, none, trains everything in one stage.
//
// It only orders trajectory ids; the host shuffles within each stage,
// splits the epochs and trains.
package curriculum
