"""Continue training a webgpu-rnn model with PyTorch DistributedDataParallel.

    torchrun --nproc_per_node=2 examples/pytorch-ddp/train_ddp.py \
        --model model.safetensors --data data.safetensors --out trained.safetensors

model.safetensors  written by rnn.io.toPyTorch(model): the state_dict and, in its metadata, the
                   topology, from which python/webgpu_rnn_torch.py builds the torch.nn.Module
data.safetensors   the training set: tensors 'x' [N, T, F] and 'y' (the model's output shape),
                   e.g. written with rnn.io.writeSafetensors({x, y})
trained.safetensors the trained state_dict (rank 0 writes it), for rnn.io.fromPyTorch(model, bytes)

Every process (rank) holds a replica; a DistributedSampler gives each its share of the batches;
DDP averages the gradients across ranks after every backward, so the replicas stay identical.
On CPUs the backend is gloo; on GPUs use --backend nccl (one process per GPU, torchrun sets
LOCAL_RANK). With --predict X.safetensors rank 0 also writes the trained model's predictions on
tensor 'x' of that file to --predictions (float32, tensor 'y').
"""
import argparse
import os
import sys
import time

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel as DDP
from torch.utils.data import DataLoader, TensorDataset
from torch.utils.data.distributed import DistributedSampler

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python"))
import webgpu_rnn_torch as wr  # noqa: E402


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--model", required=True)
    p.add_argument("--data", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--batch-size", type=int, default=32, help="per process")
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--backend", default="gloo", choices=["gloo", "nccl"])
    p.add_argument("--predict")
    p.add_argument("--predictions")
    args = p.parse_args()

    dist.init_process_group(args.backend)  # torchrun's RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT
    rank, world = dist.get_rank(), dist.get_world_size()
    local = int(os.environ.get("LOCAL_RANK", 0))
    device = torch.device(f"cuda:{local}") if args.backend == "nccl" else torch.device("cpu")
    if device.type == "cuda":
        torch.cuda.set_device(device)
    torch.manual_seed(args.seed)

    model = wr.load(args.model).to(device)  # the same weights on every rank
    ddp = DDP(model, device_ids=[local] if device.type == "cuda" else None)
    tensors, _ = wr.load_safetensors(args.data)
    data = TensorDataset(tensors["x"].float(), tensors["y"].float())
    sampler = DistributedSampler(data, num_replicas=world, rank=rank, shuffle=True, seed=args.seed)
    loader = DataLoader(data, batch_size=args.batch_size, sampler=sampler)
    opt = torch.optim.Adam(ddp.parameters(), lr=args.lr, eps=1e-7)  # Keras' epsilon
    loss_fn = torch.nn.MSELoss()

    start = time.time()
    for epoch in range(args.epochs):
        sampler.set_epoch(epoch)  # a different shuffle each epoch, the same on every rank
        ddp.train()
        total = torch.zeros(2, device=device)
        for x, y in loader:
            x, y = x.to(device), y.to(device)
            opt.zero_grad()
            loss = loss_fn(ddp(x), y)
            loss.backward()  # DDP all-reduces (averages) the gradients here
            opt.step()
            total += torch.stack([loss.detach() * len(x), torch.tensor(float(len(x)), device=device)])
        dist.all_reduce(total)
        if rank == 0:
            print(f"epoch {epoch + 1}/{args.epochs}: loss {float(total[0] / total[1]):.6f} "
                  f"({world} processes, {int(total[1])} samples, {time.time() - start:.1f} s)", flush=True)

    # The replicas must be identical: compare a checksum of the parameters across ranks.
    check = torch.stack([sum(p.double().sum() for p in model.parameters())] * 2).to(device)
    check[1] = -check[1]
    dist.all_reduce(check, op=dist.ReduceOp.MAX)
    if rank == 0:
        spread = float(check[0] + check[1])
        print(f"replicas in sync: parameter checksums differ by {spread:.3g}", flush=True)
        if spread != 0:
            raise SystemExit("the replicas' parameters differ")
        wr.save(model, args.out)
        if args.predict:
            model.eval()
            with torch.no_grad():
                x = wr.load_safetensors(args.predict)[0]["x"].float().to(device)
                out = model(x)
            wr.save_safetensors({"y": out.cpu().float()}, args.predictions, {"format": "pt"})
    dist.barrier()
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
