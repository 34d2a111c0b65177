// Package protocol implements the diagnostic protocol of Hao, Wan & Zhai
// (arXiv:2606.21126) for a trained run: per-position measurements of the
// residual stream, the backprop reference gradient and the rule's credit,
// then the checks
//
//	D1 scale stability      max_p ‖h_{p+1}‖/‖h_p‖ (median norms) ≤ 50
//	D2 reference validity   the BP reference at the deepest position is above the floor
//	D3 depth utility        accuracy ≥ frozen-blocks baseline + 2 pp
//	M2 aggregation collapse no single end of the network carries the aggregate cosine
//
// and a verdict, PASS or FAIL(D1+…).
//
// Conventions (every diagnostic is computed in float64, from float64-upcast
// weights):
//   - A position's per-sample view: the whole vector (MLP, ResMLP), the CLS
//     token (ViT; --token-view mean averages the tokens), or the feature map
//     average-pooled over H×W (CNN). Norms and cosines use the view;
//     perturbations act on the whole state.
//   - Norms are per-sample L2 norms of the view, summarised by the median
//     (mean and max also reported).
//   - The reference g_p = ∂L/∂h_p is the gradient of the SUMMED
//     cross-entropy, so each sample's g is its own loss gradient whatever the
//     evaluation batch. The paper's convention (PyTorch's mean-reduced loss
//     over batches of 128) is g/128, reported as g_norm_paper.
//   - Cosines are computed per sample with no clamp: a sample whose credit
//     or reference is exactly zero has no cosine; it is counted
//     (cos_undefined) and left out, never scored 0 or 1.
package protocol
