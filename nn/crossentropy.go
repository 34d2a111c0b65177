package nn

import "math"

// CrossEntropyForward: softmax probs[B,C] of logits[B,C] and the per-sample
// losses −log p[y] summed over the batch (the caller divides by B for the
// mean-reduced loss PyTorch reports). Accumulated in float64.
func CrossEntropyForward[T Float](probs, logits []T, y []int32, B, C int) (sum float64) {
	for r := 0; r < B; r++ {
		lr, pr := logits[r*C:r*C+C], probs[r*C:r*C+C]
		mx := float64(lr[0])
		for _, v := range lr {
			mx = math.Max(mx, float64(v))
		}
		z := 0.0
		for _, v := range lr {
			z += math.Exp(float64(v) - mx)
		}
		for j, v := range lr {
			pr[j] = T(math.Exp(float64(v)-mx) / z)
		}
		sum += mx + math.Log(z) - float64(lr[y[r]])
	}
	return sum
}

// CrossEntropyBackward: dlogits[B,C] = scale·(probs − onehot(y)). scale = 1
// is the gradient of the summed loss, 1/B of the mean-reduced loss.
func CrossEntropyBackward[T Float](dlogits, probs []T, y []int32, B, C int, scale T) {
	for r := 0; r < B; r++ {
		dr, pr := dlogits[r*C:r*C+C], probs[r*C:r*C+C]
		for j, p := range pr {
			dr[j] = scale * p
		}
		dr[y[r]] -= scale
	}
}
