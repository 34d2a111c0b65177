package model

import (
	"fmt"
	"math/rand/v2"

	"github.com/faudit/faudit/nn"
)

// ViT-Mini, a small pre-LN vision transformer (paper §2.2):
//
//	h_0 = [cls; patch_embed(patches(x))] + pos_embed        T = 1 + (H/P)(W/P) tokens of width D
//	m_l = h_l + Attn_l(LN1_l(h_l))                           multi-head self-attention over all T tokens
//	h_{l+1} = m_l + fc2_l(act(fc1_l(LN2_l(m_l))))           l = 0 … L−1
//	logits = head(LN(h_L[CLS]))                              (terminal LN optional)
//
// Each P×P×C patch (patches in row-major order over the image, entries in
// (channel, row, column) order, i.e. a Conv2d(C, D, P, stride P) weight
// flattened) is mapped by patch_embed, a Linear(C·P·P → D). Attention has
// separate q, k, v projections Linear(D→D), Cfg.Heads heads of width D/heads
// and an out projection Linear(D→D); the MLP is Linear(D→MLPHidden) → act →
// Linear(MLPHidden→D).
//
// Init: cls_token and pos_embed ~ N(0, 0.02²); the two residual-branch
// outputs — each block's attention out projection and its MLP's second
// Linear — N(0, 0.02²) with zero bias; every other Linear PyTorch's default
// (U(−1/√in, 1/√in) for weight and bias); LayerNorms weight 1, bias 0.
//
// Positions are the full residual-stream states h_0 … h_L, each [B, T·D]
// (token 0 the CLS token). The head reads only the CLS token of h_L, so the
// gradient at h_L is zero on the other tokens.
type ViT[T nn.Float] struct {
	Cfg            Config
	Patch, Tokens  int          // resolved patch size P; tokens per sample T = 1 + patches
	PatchW, PatchB *nn.Param[T] // [D, C·P·P], [D]
	CLS, Pos       *nn.Param[T] // [1,1,D], [1,T,D]
	Blocks         []*ViTBlock[T]
	OutLNg, OutLNb *nn.Param[T] // [D] each; nil without a terminal LN
	HeadW, HeadB   *nn.Param[T] // [C,D], [C]

	B              int   // rows (samples) of the last forward
	X              []T   // the last input [B,In] (not copied)
	H              [][]T // residual stream h_0 … h_L, each [B, T·D]
	DH             [][]T // ∂(scaled loss)/∂h_p after Backward
	patches        []T   // [B·(T−1), C·P·P]
	emb            []T   // patch embeddings [B·(T−1), D]; the embedding's backward reuses it
	cls            []T   // CLS token of h_L [B,D]
	outLN          []T   // LN(cls) [B,D] (unused without terminal LN)
	outMean, outRs []T
	Logits, Probs  []T // [B,C]
	dlogits, dout  []T // [B,C], [B,D]
	dcls           []T // [B,D]
	capB           int

	// backward scratch shared by the blocks, sized by the first backward
	dz, dln, dmid, dbr []T
	slots              []Slot[T]
}

// ViTBlock is one pre-LN transformer block.
type ViTBlock[T nn.Float] struct {
	LN1g, LN1b *nn.Param[T] // [D]
	Wq, Bq     *nn.Param[T] // [D,D], [D]
	Wk, Bk     *nn.Param[T]
	Wv, Bv     *nn.Param[T]
	Wo, Bo     *nn.Param[T] // out projection (a residual-branch output)
	LN2g, LN2b *nn.Param[T]
	W1, B1     *nn.Param[T] // [M,D], [M]
	W2, B2     *nn.Param[T] // [D,M], [D] (a residual-branch output)

	// workspace of the last forward, B·T rows
	ln1, mean1, rstd1 []T // LN1(h) [B·T,D], statistics [B·T]
	att               nn.AttnCache[T]
	mid               []T // m = h + Attn(LN1(h)) [B·T,D]
	ln2, mean2, rstd2 []T
	u, z              []T // fc1 pre-activation and act(u) [B·T,M]
}

func (b *ViTBlock[T]) attn() nn.AttnParams[T] {
	return nn.AttnParams[T]{Wq: b.Wq.W, Bq: b.Bq.W, Wk: b.Wk.W, Bk: b.Bk.W, Wv: b.Wv.W, Bv: b.Bv.W, Wo: b.Wo.W, Bo: b.Bo.W}
}

func (b *ViTBlock[T]) attnGrads() nn.AttnParams[T] {
	return nn.AttnParams[T]{Wq: b.Wq.G, Bq: b.Bq.G, Wk: b.Wk.G, Bk: b.Bk.G, Wv: b.Wv.G, Bv: b.Bv.G, Wo: b.Wo.G, Bo: b.Bo.G}
}

// vitBranchStd is the init standard deviation of cls_token, pos_embed and
// the two residual-branch output projections.
const vitBranchStd = 0.02

// NewViT builds ViT-Mini for inputs of shape cfg.Shape and draws its weights.
func NewViT[T nn.Float](cfg Config, rng *rand.Rand) (Credited[T], error) {
	if err := cfg.validateViT(); err != nil {
		return nil, err
	}
	if cfg.Shape == [3]int{} {
		return nil, fmt.Errorf("--arch vit: the input shape (channels, height, width) is unknown; it comes from the data set")
	}
	P, _ := cfg.vitPatch()
	C, Hh, Ww := cfg.Shape[0], cfg.Shape[1], cfg.Shape[2]
	D, M, K := cfg.D, cfg.MLPHidden, cfg.Classes
	tok := 1 + (Hh/P)*(Ww/P)
	m := &ViT[T]{Cfg: cfg, Patch: P, Tokens: tok,
		PatchW: nn.NewParam[T]("patch_embed.weight", D, C*P*P), PatchB: nn.NewParam[T]("patch_embed.bias", D),
		CLS: nn.NewParam[T]("cls_token", 1, 1, D), Pos: nn.NewParam[T]("pos_embed", 1, tok, D),
		HeadW: nn.NewParam[T]("out_head.weight", K, D), HeadB: nn.NewParam[T]("out_head.bias", K)}
	initLinear(m.PatchW, m.PatchB, C*P*P, rng)
	initNormal(m.CLS, vitBranchStd, rng)
	initNormal(m.Pos, vitBranchStd, rng)
	for l := 0; l < cfg.Blocks; l++ {
		p := fmt.Sprintf("blocks.%d.", l)
		lin := func(name string, out, in int) (*nn.Param[T], *nn.Param[T]) {
			return nn.NewParam[T](p+name+".weight", out, in), nn.NewParam[T](p+name+".bias", out)
		}
		b := &ViTBlock[T]{
			LN1g: nn.NewParam[T](p+"ln1.weight", D), LN1b: nn.NewParam[T](p+"ln1.bias", D),
			LN2g: nn.NewParam[T](p+"ln2.weight", D), LN2b: nn.NewParam[T](p+"ln2.bias", D)}
		b.Wq, b.Bq = lin("attn.q", D, D)
		b.Wk, b.Bk = lin("attn.k", D, D)
		b.Wv, b.Bv = lin("attn.v", D, D)
		b.Wo, b.Bo = lin("attn.out", D, D)
		b.W1, b.B1 = lin("mlp.fc1", M, D)
		b.W2, b.B2 = lin("mlp.fc2", D, M)
		fill(b.LN1g, 1)
		initLinear(b.Wq, b.Bq, D, rng)
		initLinear(b.Wk, b.Bk, D, rng)
		initLinear(b.Wv, b.Bv, D, rng)
		initNormal(b.Wo, vitBranchStd, rng) // residual-branch output: small, bias 0
		fill(b.LN2g, 1)
		initLinear(b.W1, b.B1, D, rng)
		initNormal(b.W2, vitBranchStd, rng) // residual-branch output: small, bias 0
		m.Blocks = append(m.Blocks, b)
	}
	if cfg.TerminalLN {
		m.OutLNg, m.OutLNb = nn.NewParam[T]("out_ln.weight", D), nn.NewParam[T]("out_ln.bias", D)
		fill(m.OutLNg, 1)
	}
	initLinear(m.HeadW, m.HeadB, D, rng)

	// Slots: the head, then per block q, k, v, out, fc1, fc2 (slot 1+6l+j).
	m.slots = []Slot[T]{{m.HeadW, -1, uniformStd(D), "uniform"}}
	for l, b := range m.Blocks {
		m.slots = append(m.slots,
			Slot[T]{b.Wq, l, uniformStd(D), "uniform"}, Slot[T]{b.Wk, l, uniformStd(D), "uniform"},
			Slot[T]{b.Wv, l, uniformStd(D), "uniform"}, Slot[T]{b.Wo, l, vitBranchStd, "normal"},
			Slot[T]{b.W1, l, uniformStd(D), "uniform"}, Slot[T]{b.W2, l, vitBranchStd, "normal"})
	}
	return m, nil
}

// vitPatch is the patch size: Cfg.Patch, or for 0 the default for the input
// (7 on 28×28, 4 on 32×32). It needs the shape.
func (c Config) vitPatch() (int, error) {
	H, W := c.Shape[1], c.Shape[2]
	P := c.Patch
	if P == 0 {
		switch {
		case H == 28 && W == 28:
			P = 7
		case H == 32 && W == 32:
			P = 4
		default:
			return 0, fmt.Errorf("--patch 0: no default patch size for a %d×%d input; give --patch, a divisor of both sides", H, W)
		}
	}
	if H%P != 0 || W%P != 0 {
		return 0, fmt.Errorf("--patch %d: does not divide the %d×%d input", P, H, W)
	}
	return P, nil
}

// validateViT checks the ViT settings; the shape-dependent checks only once
// the data set has set Shape (it is all zero before).
func (c Config) validateViT() error {
	switch {
	case c.D <= 0:
		return fmt.Errorf("--d %d: expected a width > 0", c.D)
	case c.Blocks < 0:
		return fmt.Errorf("--blocks %d: expected ≥ 0", c.Blocks)
	case c.Heads <= 0:
		return fmt.Errorf("--heads %d: expected at least 1", c.Heads)
	case c.D%c.Heads != 0:
		return fmt.Errorf("--heads %d: does not divide --d %d", c.Heads, c.D)
	case c.MLPHidden <= 0:
		return fmt.Errorf("--mlp-hidden %d: expected a width > 0", c.MLPHidden)
	case c.Patch < 0:
		return fmt.Errorf("--patch %d: expected a patch size > 0 (or 0 for the default)", c.Patch)
	}
	if c.Shape == [3]int{} {
		return nil
	}
	if s := c.Shape; s[0] <= 0 || s[1] <= 0 || s[2] <= 0 || s[0]*s[1]*s[2] != c.In {
		return fmt.Errorf("--arch vit: input shape %d×%d×%d does not match the input width %d", s[0], s[1], s[2], c.In)
	}
	_, err := c.vitPatch()
	return err
}

// Params lists every trainable tensor in a fixed order (checkpoint order).
func (m *ViT[T]) Params() []*nn.Param[T] {
	ps := []*nn.Param[T]{m.PatchW, m.PatchB, m.CLS, m.Pos}
	for l := range m.Blocks {
		ps = append(ps, m.BlockParams(l)...)
	}
	if m.OutLNg != nil {
		ps = append(ps, m.OutLNg, m.OutLNb)
	}
	return append(ps, m.HeadW, m.HeadB)
}

func (m *ViT[T]) BlockParams(l int) []*nn.Param[T] {
	b := m.Blocks[l]
	return []*nn.Param[T]{b.LN1g, b.LN1b, b.Wq, b.Bq, b.Wk, b.Bk, b.Wv, b.Bv, b.Wo, b.Bo,
		b.LN2g, b.LN2b, b.W1, b.B1, b.W2, b.B2}
}

func (m *ViT[T]) Positions() [][]T     { return m.H }
func (m *ViT[T]) PositionGrads() [][]T { return m.DH }

// ensure sizes the forward workspace for B samples, allocating only when B
// exceeds every earlier batch.
func (m *ViT[T]) ensure(B int) {
	c := m.Cfg
	D, M, K, L, tok := c.D, c.MLPHidden, c.Classes, c.Blocks, m.Tokens
	np, pd := tok-1, c.Shape[0]*m.Patch*m.Patch
	BT := B * tok
	if B > m.capB {
		m.H, m.DH = make([][]T, L+1), make([][]T, L+1)
		for p := range m.H {
			m.H[p], m.DH[p] = make([]T, BT*D), make([]T, BT*D)
		}
		for _, b := range m.Blocks {
			b.ln1, b.mean1, b.rstd1 = make([]T, BT*D), make([]T, BT), make([]T, BT)
			b.mid = make([]T, BT*D)
			b.ln2, b.mean2, b.rstd2 = make([]T, BT*D), make([]T, BT), make([]T, BT)
			b.u, b.z = make([]T, BT*M), make([]T, BT*M)
		}
		m.patches, m.emb = make([]T, B*np*pd), make([]T, B*np*D)
		m.cls, m.outLN, m.outMean, m.outRs = make([]T, B*D), make([]T, B*D), make([]T, B), make([]T, B)
		m.Logits, m.Probs, m.dlogits = make([]T, B*K), make([]T, B*K), make([]T, B*K)
		m.dout, m.dcls = make([]T, B*D), make([]T, B*D)
		m.capB = B
	}
	for p := range m.H {
		m.H[p], m.DH[p] = m.H[p][:BT*D], m.DH[p][:BT*D]
	}
	for _, b := range m.Blocks {
		b.ln1, b.mean1, b.rstd1 = b.ln1[:BT*D], b.mean1[:BT], b.rstd1[:BT]
		b.mid = b.mid[:BT*D]
		b.ln2, b.mean2, b.rstd2 = b.ln2[:BT*D], b.mean2[:BT], b.rstd2[:BT]
		b.u, b.z = b.u[:BT*M], b.z[:BT*M]
	}
	m.patches, m.emb = m.patches[:B*np*pd], m.emb[:B*np*D]
	m.cls, m.outLN, m.outMean, m.outRs = m.cls[:B*D], m.outLN[:B*D], m.outMean[:B], m.outRs[:B]
	m.Logits, m.Probs, m.dlogits = m.Logits[:B*K], m.Probs[:B*K], m.dlogits[:B*K]
	m.dout, m.dcls = m.dout[:B*D], m.dcls[:B*D]
	m.B = B
}

// Forward: logits[B,C] for x[B,In] (each row a C×H×W image), keeping every
// residual state, LayerNorm statistic, projection, attention probability
// and pre-activation.
func (m *ViT[T]) Forward(x []T, B int) []T {
	m.ensure(B)
	c := m.Cfg
	m.X = x[:B*c.In]
	C, Hh, Ww, P, D := c.Shape[0], c.Shape[1], c.Shape[2], m.Patch, c.D
	nw, np, pd := Ww/P, m.Tokens-1, C*P*P
	for s := 0; s < B; s++ {
		img := m.X[s*c.In : (s+1)*c.In]
		for n := 0; n < np; n++ {
			py, px := n/nw, n%nw
			dst := m.patches[(s*np+n)*pd : (s*np+n+1)*pd]
			for ch := 0; ch < C; ch++ {
				for i := 0; i < P; i++ {
					src := img[ch*Hh*Ww+(py*P+i)*Ww+px*P:]
					copy(dst[(ch*P+i)*P:(ch*P+i+1)*P], src[:P])
				}
			}
		}
	}
	nn.LinearForward(m.emb, m.patches, m.PatchW.W, m.PatchB.W, B*np, pd, D)
	h0, pos, td := m.H[0], m.Pos.W, m.Tokens*D
	cls, pos := m.CLS.W[:D], pos[:td]
	for s := 0; s < B; s++ {
		row, emb := h0[s*td:(s+1)*td], m.emb[s*np*D:(s+1)*np*D]
		for j, c := range cls {
			row[j] = c + pos[j]
		}
		for j, e := range emb {
			row[D+j] = e + pos[D+j]
		}
	}
	return m.ForwardFrom(0)
}

// ForwardFrom recomputes the network from the current contents of position
// p (h_p) onwards, for the B samples of the last Forward, and returns the
// logits.
func (m *ViT[T]) ForwardFrom(p int) []T {
	c := m.Cfg
	B, D, M, tok := m.B, c.D, c.MLPHidden, m.Tokens
	BT := B * tok
	for l := p; l < c.Blocks; l++ {
		b, h, out := m.Blocks[l], m.H[l], m.H[l+1]
		nn.LayerNormForward(b.ln1, b.mean1, b.rstd1, h, b.LN1g.W, b.LN1b.W, BT, D)
		nn.AttentionForward(b.mid, b.ln1, b.attn(), &b.att, B, tok, D, c.Heads)
		nn.ResidualForward(b.mid, h, b.mid)
		nn.LayerNormForward(b.ln2, b.mean2, b.rstd2, b.mid, b.LN2g.W, b.LN2b.W, BT, D)
		nn.LinearForward(b.u, b.ln2, b.W1.W, b.B1.W, BT, D, M)
		nn.ActForward(c.Act, b.z, b.u)
		nn.LinearForward(out, b.z, b.W2.W, b.B2.W, BT, M, D)
		nn.ResidualForward(out, b.mid, out)
	}
	hL, td := m.H[c.Blocks], tok*D
	for s := 0; s < B; s++ {
		copy(m.cls[s*D:(s+1)*D], hL[s*td:s*td+D])
	}
	nn.LinearForward(m.Logits, m.headIn(), m.HeadW.W, m.HeadB.W, B, D, c.Classes)
	return m.Logits
}

// headIn is the head's input: LN(cls), or cls without a terminal LN.
func (m *ViT[T]) headIn() []T {
	if !m.Cfg.TerminalLN {
		return m.cls
	}
	nn.LayerNormForward(m.outLN, m.outMean, m.outRs, m.cls, m.OutLNg.W, m.OutLNb.W, m.B, m.Cfg.D)
	return m.outLN
}

// Loss is the summed cross-entropy of the last forward (probabilities kept).
func (m *ViT[T]) Loss(y []int32) float64 {
	return nn.CrossEntropyForward(m.Probs, m.Logits, y, m.B, m.Cfg.Classes)
}

// Backward is exact backpropagation of scale·(summed loss) (see Network).
func (m *ViT[T]) Backward(y []int32, scale T) {
	m.BackwardWith(y, scale, func(i int) []T { return m.slots[i].W.W }, m.DH)
}

// HeadBackward: from the last Loss, the gradients of the head and terminal LN
// for scale·(summed loss), and the error dhL[B,T·D] arriving at h_L, carried
// back through the head by fb [C,D] (the head weight for BP): non-zero on the
// CLS token only.
func (m *ViT[T]) HeadBackward(y []int32, scale T, dhL, fb []T) {
	c := m.Cfg
	B, D, td := m.B, c.D, m.Tokens*c.D
	nn.CrossEntropyBackward(m.dlogits, m.Probs, y, B, c.Classes, scale)
	dcls := m.dout
	if c.TerminalLN {
		nn.LinearBackward(m.dout, m.HeadW.G, m.HeadB.G, m.dlogits, m.outLN, fb, B, D, c.Classes)
		nn.LayerNormBackward(m.dcls, m.OutLNg.G, m.OutLNb.G, m.dout, m.cls, m.outMean, m.outRs, m.OutLNg.W, B, D)
		dcls = m.dcls
	} else {
		nn.LinearBackward(m.dout, m.HeadW.G, m.HeadB.G, m.dlogits, m.cls, fb, B, D, c.Classes)
	}
	clear(dhL[:B*td])
	for s := 0; s < B; s++ {
		copy(dhL[s*td:s*td+D], dcls[s*D:(s+1)*D])
	}
}

// BlockBackward: given dOut[B,T·D], the gradient at block l's output h_{l+1},
// fills block l's parameter gradients (both sub-blocks) and, when dIn is
// non-nil, writes the gradient at h_l. The block's six Linears carry the
// error to their inputs through fq, fk, fv, fo [D,D], f1 [M,D] and f2 [D,M]
// (the weights themselves for BP); LayerNorms, attention products,
// activation and skips are exact. dIn must not alias dOut.
func (m *ViT[T]) BlockBackward(l int, dOut, dIn, fq, fk, fv, fo, f1, f2 []T) {
	c := m.Cfg
	B, D, M, tok := m.B, c.D, c.MLPHidden, m.Tokens
	BT := B * tok
	b := m.Blocks[l]
	m.dz, m.dln = grow(m.dz, BT*M), grow(m.dln, BT*D)
	m.dmid, m.dbr = grow(m.dmid, BT*D), grow(m.dbr, BT*D)
	// MLP sub-block: h_{l+1} = m + fc2(act(fc1(LN2(m)))).
	nn.LinearBackward(m.dz, b.W2.G, b.B2.G, dOut, b.z, f2, BT, M, D)
	nn.ActBackward(c.Act, m.dz, m.dz, b.u)
	nn.LinearBackward(m.dln, b.W1.G, b.B1.G, m.dz, b.ln2, f1, BT, D, M)
	nn.LayerNormBackward(m.dmid, b.LN2g.G, b.LN2b.G, m.dln, b.mid, b.mean2, b.rstd2, b.LN2g.W, BT, D)
	nn.ResidualBackward(m.dmid, dOut, m.dmid)
	// Attention sub-block: m = h + Attn(LN1(h)).
	nn.AttentionBackward(m.dln, b.attnGrads(), m.dmid, b.ln1, &b.att, fq, fk, fv, fo, B, tok, D, c.Heads)
	branch := dIn
	if branch == nil {
		branch = m.dbr
	}
	nn.LayerNormBackward(branch, b.LN1g.G, b.LN1b.G, m.dln, m.H[l], b.mean1, b.rstd1, b.LN1g.W, BT, D)
	if dIn != nil {
		nn.ResidualBackward(dIn, m.dmid, dIn)
	}
}

// EmbedBackward: the gradients of patch_embed, cls_token and pos_embed from
// dh0[B,T·D], the gradient at h_0.
func (m *ViT[T]) EmbedBackward(dh0 []T) {
	c := m.Cfg
	B, D, tok := m.B, c.D, m.Tokens
	np, pd, td := tok-1, c.Shape[0]*m.Patch*m.Patch, tok*D
	nn.ColumnSum(m.Pos.G, dh0, B, td)
	copy(m.CLS.G, m.Pos.G[:D]) // the CLS rows' sum over samples
	for s := 0; s < B; s++ {
		copy(m.emb[s*np*D:(s+1)*np*D], dh0[s*td+D:(s+1)*td])
	}
	nn.LinearBackward(nil, m.PatchW.G, m.PatchB.G, m.emb, m.patches, nil, B*np, pd, D)
}

// --- Credited ---

func (m *ViT[T]) NumBlocks() int                      { return m.Cfg.Blocks }
func (m *ViT[T]) BlockOutput(l int) int               { return l + 1 }
func (m *ViT[T]) Classes() int                        { return m.Cfg.Classes }
func (m *ViT[T]) Batch() int                          { return m.B }
func (m *ViT[T]) Probabilities() []T                  { return m.Probs }
func (m *ViT[T]) PositionLayout(int) Layout           { return Layout{Tokens: m.Tokens} }
func (m *ViT[T]) TrainInput(c0 []T)                   { m.EmbedBackward(c0) }
func (m *ViT[T]) TrainHead(y []int32, scale T, d []T) { m.HeadBackward(y, scale, d, m.HeadW.W) }

func (m *ViT[T]) PositionWidths() []int {
	w := make([]int, m.Cfg.Blocks+1)
	for p := range w {
		w[p] = m.Tokens * m.Cfg.D
	}
	return w
}

// Slots: the head (slot 0), then per block l the q, k, v, out, fc1 and fc2
// weights (slots 1+6l … 6+6l).
func (m *ViT[T]) Slots() []Slot[T] { return append([]Slot[T](nil), m.slots...) }

func (m *ViT[T]) BackwardWith(y []int32, scale T, fb func(i int) []T, credit [][]T) {
	L := m.Cfg.Blocks
	m.HeadBackward(y, scale, credit[L], fb(0))
	for l := L - 1; l >= 0; l-- {
		s := 1 + 6*l
		m.BlockBackward(l, credit[l+1], credit[l], fb(s), fb(s+1), fb(s+2), fb(s+3), fb(s+4), fb(s+5))
	}
	m.EmbedBackward(credit[0])
}

func (m *ViT[T]) TrainBlock(l int, dOut []T) {
	b := m.Blocks[l]
	m.BlockBackward(l, dOut, nil, b.Wq.W, b.Wk.W, b.Wv.W, b.Wo.W, b.W1.W, b.W2.W)
}
