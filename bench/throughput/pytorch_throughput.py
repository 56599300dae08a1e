"""PyTorch training throughput of the two benchmark models (the same as bench/throughput/ours.ts), for side-by-side ratios.

MLP VAE: 784-400-(20,20)-400-784. Conv VAE ("conv"): conv 32 s2, conv 64 s2 with 3×3 kernels, 16-d
latent, mirrored transposed convs; "conv-k4" the same with 4×4 kernels. Batch 128, Adam, random inputs in [0, 1). Prints one JSON line.
Run with OPENBLAS_NUM_THREADS=1 and 2 torch threads: otherwise OpenBLAS's and torch's thread pools fight over the cores.
"""
import json, resource, sys, time
import torch
from torch import nn
from torch.nn import functional as F

model_name, steps = sys.argv[1], int(sys.argv[2])
torch.manual_seed(1)
torch.set_num_threads(2)

class MlpVae(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(784, 400), nn.Linear(400, 40)
        self.fc3, self.fc4 = nn.Linear(20, 400), nn.Linear(400, 784)
    def forward(self, x):
        mu, logvar = self.fc2(F.relu(self.fc1(x.flatten(1)))).chunk(2, 1)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        return self.fc4(F.relu(self.fc3(z))).view_as(x), mu, logvar

class ConvVae(nn.Module):
    def __init__(self, k):
        super().__init__()
        # Both kernel sizes map 28 → 14 → 7 and back (3×3 needs output_padding 1 on the way up).
        extra = 1 if k == 3 else 0
        self.c1, self.c2 = nn.Conv2d(1, 32, k, 2, 1), nn.Conv2d(32, 64, k, 2, 1)
        self.code, self.up = nn.Linear(64 * 7 * 7, 32), nn.Linear(16, 64 * 7 * 7)
        self.d2, self.d1 = nn.ConvTranspose2d(64, 32, k, 2, 1, extra), nn.ConvTranspose2d(32, 1, k, 2, 1, extra)
    def forward(self, x):
        h = F.relu(self.c2(F.relu(self.c1(x))))
        mu, logvar = self.code(h.flatten(1)).chunk(2, 1)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        h = F.relu(self.up(z)).view(-1, 64, 7, 7)
        return self.d1(F.relu(self.d2(h))), mu, logvar

model = MlpVae() if model_name == "mlp" else ConvVae(4 if model_name == "conv-k4" else 3)
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
x = torch.rand(128, 1, 28, 28)

def step():
    logits, mu, logvar = model(x)
    loss = (F.binary_cross_entropy_with_logits(logits, x, reduction="sum") - 0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())) / len(x)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return loss.item()

for _ in range(3):
    step()
start = time.perf_counter()
for _ in range(steps):
    step()
elapsed = time.perf_counter() - start
print(json.dumps({"samplesPerSecond": steps * 128 / elapsed, "peakRssMb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "device": f"PyTorch {torch.__version__}, {torch.get_num_threads()} threads"}))
