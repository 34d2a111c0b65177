// Package model builds faudit's networks from the layers in package nn:
//
//   - MLP: x → [Linear → act]×K → Linear head. Positions (the states the
//     protocol inspects) are the K hidden-layer outputs.
//   - ResMLP, the pre-LN residual MLP of the paper (§2.1): h_0 = embed(x);
//     h_{l+1} = h_l + f_l(h_l), f_l(h) = W2·act(W1·LN(h)) (or h_{l+1} = f_l(h_l)
//     without the skip); logits = head(LN(h_L)) (terminal LN optional).
//     Positions are the residual-stream states h_0 … h_L.
//   - ViT, ViT-Mini: patch embedding + CLS token + positional embeddings,
//     pre-LN transformer blocks, terminal LN, head on the CLS token.
//     Positions are the full token states h_0 … h_L.
//   - CNN: three stages of Conv3×3 → BatchNorm → act → max-pool, an FC
//     layer and the head, no LayerNorm. Positions are the stage outputs.
//
// A forward pass keeps every intermediate (h_p, f_l, LayerNorm statistics,
// pre-activations) in the model's workspace, so a credit-assignment rule can
// run any backward it likes over it. The backward pieces (head, one block or
// layer, embedding) are exported for that reason; Backward chains them into
// exact backpropagation.
package model
