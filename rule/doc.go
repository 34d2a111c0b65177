// Package rule holds faudit's credit-assignment rules. A rule, given a
// network's forward pass and the labels, produces (a) its credit vector c_p
// at every position p — the residual-stream states h_0 … h_L of a ResMLP,
// the hidden-layer outputs of an MLP — with the shape of h_p, and (b) the
// parameter gradients that follow from it. The head and the terminal
// LayerNorm always train on the true loss.
//
// Two drivers serve every rule:
//   - layerwise: backpropagation's whole backward pass, except that each
//     Linear carries the error to its input through a feedback matrix chosen
//     by the rule (bp: W itself; fa: a fixed random B; usf/brsf/frsf: sign
//     symmetry; kp: a B that learns like W). LayerNorm, activations and skips
//     are backpropagated exactly; c_p is the error arriving at h_p.
//   - local: the rule computes c_p directly (fa-block: c_L exact, then
//     c_p = c_{p+1}·B_p; dfa: c_p = e·B_p), and block l is trained on
//     c_{l+1} alone — the gradient of ⟨f_l(h_l), c_{l+1}⟩ with h_l held
//     constant, backpropagated inside the block — and the embedding on c_0.
//
// Feedback matrices are drawn from PCG(feedback seed, 2) (the feedback seed
// defaults to the run seed), scaled by Options.FeedbackScale, and saved in
// every checkpoint. A new rule is one file: a constructor registered in
// rules (rule.go) returning a layerwise or local rule.
package rule
