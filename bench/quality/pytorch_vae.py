"""PyTorch's examples/vae on the same MNIST files, for a side-by-side comparison (reference only)."""
import gzip, json, sys, time
import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

data_dir, epochs = sys.argv[1], int(sys.argv[2])
torch.manual_seed(1)
torch.set_num_threads(2)

def idx(name, offset):
    with gzip.open(f"{data_dir}/mnist/{name}", "rb") as f:
        return np.frombuffer(f.read(), dtype=np.uint8, offset=offset)

train = torch.tensor(idx("train-images-idx3-ubyte.gz", 16).reshape(-1, 784), dtype=torch.float32) / 255
test = torch.tensor(idx("t10k-images-idx3-ubyte.gz", 16).reshape(-1, 784), dtype=torch.float32) / 255

class VAE(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1, self.fc21, self.fc22 = nn.Linear(784, 400), nn.Linear(400, 20), nn.Linear(400, 20)
        self.fc3, self.fc4 = nn.Linear(20, 400), nn.Linear(400, 784)
    def forward(self, x):
        h = F.relu(self.fc1(x))
        mu, logvar = self.fc21(h), self.fc22(h)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        return torch.sigmoid(self.fc4(F.relu(self.fc3(z)))), mu, logvar

def loss_function(recon, x, mu, logvar):
    bce = F.binary_cross_entropy(recon, x, reduction="sum")
    return bce - 0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())

model = VAE()
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
for epoch in range(1, epochs + 1):
    start = time.time()
    model.train()
    for batch in torch.randperm(len(train)).split(128):
        x = train[batch]
        optimizer.zero_grad()
        loss = loss_function(*(lambda r: (r[0], x, r[1], r[2]))(model(x)))
        loss.backward()
        optimizer.step()
    seconds = time.time() - start
    model.eval()
    with torch.no_grad():
        total = sum(loss_function(*(lambda r: (r[0], x, r[1], r[2]))(model(x))).item() for x in test.split(128))
    print(json.dumps({"epoch": epoch, "test": total / len(test), "seconds": seconds}), flush=True)
