#!/usr/bin/env python3
"""PyTorch peer of faudit's ViT-Mini and BatchNorm CNN, for the training-throughput benchmark.

Builds the same networks as faudit's model/vit.go and model/cnn.go, layer for layer, trains them with plain
backprop and AdamW (lr 1e-3, wd 0.01) on random MNIST-shaped data (1x28x28, 10 classes) and prints one line:
    torch samples_per_s=<float> arch=<vit|cnn> dtype=<..> batch=<..> threads=<..>

ViT-Mini (model/vit.go): 7x7 patches (16 patches + CLS = 17 tokens), patch_embed = Conv2d(1, d, 7, stride 7)
(faudit: the same map as a Linear on the flattened patches), cls_token and pos_embed, L pre-LN blocks of
    m = h + out(attn(LN1(h)))      separate q, k, v Linear(d, d), `heads` heads, softmax(q k^T / sqrt(dh)) v
    h = m + fc2(gelu_tanh(fc1(LN2(m))))   fc1: d -> mlp_hidden, fc2: mlp_hidden -> d
then head(LN(h[:, 0])) (terminal LN on the CLS token). Defaults d=128, 4 heads, mlp_hidden 256, 4 blocks.
GELU is the tanh form, as faudit's.

CNN (model/cnn.go): three stages (32, 64, 128 channels), each
    h = maxpool2x2( relu(BN(conv3x3(x, pad 1, no bias))) + skip(x) )   skip = 1x1 conv, no bias (Cin != Co) or x
then head(relu(fc(flatten(h_2)))), fc: 128*3*3 -> 128. BatchNorm2d in training mode (batch statistics).

Setup (Debian):  apt-get install -y python3-torch python3-numpy   (then run with /usr/bin/python3)
Run fairly:      OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 torch_vit_cnn_bench.py --arch vit --threads 2
(Debian's torch otherwise spins its OpenMP threads against OpenBLAS's and runs ~3x slower.)
Compare in one run, side by side, as a ratio (scripts/bench-vit-cnn-vs-torch): machines here drift by +-20 %.
"""
import argparse
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

p = argparse.ArgumentParser()
p.add_argument('--arch', default='vit', choices=['vit', 'cnn'])
p.add_argument('--d', type=int, default=128)
p.add_argument('--heads', type=int, default=4)
p.add_argument('--mlp-hidden', type=int, default=256)
p.add_argument('--blocks', type=int, default=4)
p.add_argument('--patch', type=int, default=7)
p.add_argument('--channels', default='32,64,128')
p.add_argument('--classes', type=int, default=10)
p.add_argument('--batch', type=int, default=128)
p.add_argument('--samples', type=int, default=60000)
p.add_argument('--dtype', default='float32', choices=['float32', 'float64'])
p.add_argument('--threads', type=int, default=2)
p.add_argument('--warmup', type=int, default=5)
a = p.parse_args()

torch.set_num_threads(a.threads)
torch.manual_seed(0)
dt = getattr(torch, a.dtype)


class Attention(nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.heads = heads
        self.q, self.k, self.v, self.out = (nn.Linear(d, d) for _ in range(4))

    def forward(self, x):  # x [B, N, d]
        B, N, d = x.shape
        dh = d // self.heads

        def split(t):  # [B, N, d] -> [B, heads, N, dh]
            return t.view(B, N, self.heads, dh).transpose(1, 2)

        q, k, v = split(self.q(x)), split(self.k(x)), split(self.v(x))
        att = torch.softmax(q @ k.transpose(-2, -1) * dh ** -0.5, dim=-1)
        ctx = (att @ v).transpose(1, 2).reshape(B, N, d)
        return self.out(ctx)


class ViTBlock(nn.Module):
    def __init__(self, d, heads, m):
        super().__init__()
        self.ln1, self.attn, self.ln2 = nn.LayerNorm(d), Attention(d, heads), nn.LayerNorm(d)
        self.fc1, self.fc2 = nn.Linear(d, m), nn.Linear(m, d)

    def forward(self, h):
        m = h + self.attn(self.ln1(h))
        return m + self.fc2(F.gelu(self.fc1(self.ln2(m)), approximate='tanh'))


class ViT(nn.Module):
    def __init__(self, c, hw, P, d, heads, m, L, classes):
        super().__init__()
        n = (hw // P) ** 2
        self.patch_embed = nn.Conv2d(c, d, P, stride=P)
        self.cls_token = nn.Parameter(0.02 * torch.randn(1, 1, d))
        self.pos_embed = nn.Parameter(0.02 * torch.randn(1, 1 + n, d))
        self.blocks = nn.Sequential(*[ViTBlock(d, heads, m) for _ in range(L)])
        self.out_ln, self.out_head = nn.LayerNorm(d), nn.Linear(d, classes)

    def forward(self, x):  # x [B, C, H, W]
        e = self.patch_embed(x).flatten(2).transpose(1, 2)  # [B, n, d], patches in row-major order
        h = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), e], 1) + self.pos_embed
        h = self.blocks(h)
        return self.out_head(self.out_ln(h[:, 0]))


class Stage(nn.Module):
    def __init__(self, cin, co):
        super().__init__()
        self.conv, self.bn = nn.Conv2d(cin, co, 3, padding=1, bias=False), nn.BatchNorm2d(co)
        self.proj = nn.Conv2d(cin, co, 1, bias=False) if cin != co else None

    def forward(self, x):
        z = F.relu(self.bn(self.conv(x)))
        z = z + (self.proj(x) if self.proj is not None else x)
        return F.max_pool2d(z, 2)


class CNN(nn.Module):
    def __init__(self, c, hw, channels, classes):
        super().__init__()
        stages = []
        for co in channels:
            stages.append(Stage(c, co))
            c, hw = co, hw // 2
        self.stages = nn.Sequential(*stages)
        self.fc, self.head = nn.Linear(c * hw * hw, 128), nn.Linear(128, classes)

    def forward(self, x):
        return self.head(F.relu(self.fc(self.stages(x).flatten(1))))


if a.arch == 'vit':
    net = ViT(1, 28, a.patch, a.d, a.heads, a.mlp_hidden, a.blocks, a.classes)
else:
    net = CNN(1, 28, [int(c) for c in a.channels.split(',')], a.classes)
net = net.to(dt).train()
opt = torch.optim.AdamW(net.parameters(), lr=1e-3, weight_decay=0.01)
X = torch.randn(a.samples, 1, 28, 28, dtype=dt)
Y = torch.randint(0, a.classes, (a.samples,))


def step(i):
    x, y = X[i:i + a.batch], Y[i:i + a.batch]
    opt.zero_grad(set_to_none=True)
    F.cross_entropy(net(x), y).backward()
    opt.step()


for i in range(a.warmup):
    step(i * a.batch)
t0 = time.perf_counter()
n = 0
for i in range(0, a.samples - a.batch + 1, a.batch):
    step(i)
    n += a.batch
dt_s = time.perf_counter() - t0
print(f"torch samples_per_s={n / dt_s:.1f} arch={a.arch} dtype={a.dtype} batch={a.batch} threads={a.threads}")
