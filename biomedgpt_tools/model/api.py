"""`BioMedGPT`: the one object the CLI, the LangChain tools and the apps use.

It holds the model and the LM tokenizer, validates requests (clear `ValueError`s that
name the request and the bad input), batches them by length, generates, and cuts
the answer out of the new text (answer_text.py; `stream` gives that answer's text as deltas). It also loads and saves Hugging Face-style folders
(config.json, safetensors shards, tokenizer files, `esm/vocab.txt`) and gives proteins a
mean-pooled ESM vector for similarity search.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import torch

from .answer_text import AnswerCutter, cut_answer, missing_tail
from .generation import (
    DEFAULT_MAX_NEW_TOKENS,
    GeneratedTokens,
    GenerationOptions,
    generate_batch,
    stream_generation,
)
from .modeling_biomedgpt import (
    BioMedGPTForConditionalGeneration,
    MultimodalRow,
    build_multimodal_row,
    collate_rows,
)
from .official_checkpoint import load_official_model
from .placement import choose_placement
from .prompt import SegmentEncoder, load_text_tokenizer, render_prompt
from .protein_sequence import ESM_VOCAB, protein_token_ids, write_esm_vocab
from .requests import GenerationRequest, GenerationResult

ESM_VOCAB_FOLDER = "esm"
# The weights' fingerprint, written by save_pretrained so tools can name the model (and
# recall its past answers) without loading it.
REVISION_FILE = "biomedgpt_revision.txt"


class StreamedAnswer:
    """Iterate for the answer's text as it is generated; `result` is set once iteration ends.

    The pieces are deltas of the answer (answer_text.py cuts it out of the decoded text as
    it grows): joined, they are exactly `result.text`, and none is ever taken back. The one
    exception: a tokenizer that rewrites text already sent; `result.text`, cut from the whole
    decode, then wins and a warning is logged (answer_text.missing_tail).
    """

    def __init__(
        self,
        decoded: Iterator[str],
        finish: Callable[[], GenerationResult],
        stop: Callable[[], None] | None = None,
    ):
        self._decoded = decoded
        self._finish = finish
        self._stop = stop
        self.result: GenerationResult | None = None

    def __iter__(self) -> Iterator[str]:
        cutter = AnswerCutter()
        for piece in self._decoded:
            if delta := cutter.feed(piece):
                yield delta
        if delta := cutter.finish():
            yield delta
        result = self._finish()
        if tail := missing_tail(cutter.text, result.text):
            yield tail  # text the decode-prefix check held back (see missing_tail)
        self.result = result

    def close(self) -> None:
        """Stop generating early; returns once the model is no longer busy with this answer."""
        if self._stop is not None:
            self._stop()


class BioMedGPT:
    """Model + LM tokenizer, with validation, batching and answer extraction."""

    def __init__(
        self,
        model: BioMedGPTForConditionalGeneration,
        text_tokenizer,
        *,
        model_id: str = "biomedgpt",
        tokenizer_model_file: Path | None = None,
    ):
        self.model = model.eval()
        self.text_tokenizer = text_tokenizer
        self.segments = SegmentEncoder(text_tokenizer)
        self.model_id = model_id
        self._tokenizer_model_file = tokenizer_model_file
        self._revision: str | None = None
        vocab = model.config.text_config.vocab_size
        if len(text_tokenizer) != vocab:
            raise ValueError(
                f"the LM tokenizer has {len(text_tokenizer)} tokens (with [PAD]) but the model's "
                f"vocabulary has {vocab}; use the tokenizer the model was built with"
            )

    # -- construction ---------------------------------------------------------------------

    @classmethod
    def from_components(
        cls,
        model: BioMedGPTForConditionalGeneration,
        llm_dir: str | Path,
        esm_dir: str | Path | None = None,
        *,
        model_id: str = "biomedgpt",
    ) -> BioMedGPT:
        """Wrap a model with the tokenizer folder of its LM (and check the ESM vocabulary)."""
        llm_dir = Path(llm_dir)
        if esm_dir is not None:
            check_esm_vocab(Path(esm_dir))
        spm_file = llm_dir / "tokenizer.model"
        return cls(
            model,
            load_text_tokenizer(llm_dir),
            model_id=model_id,
            tokenizer_model_file=spm_file if spm_file.is_file() else None,
        )

    @classmethod
    def from_pretrained(
        cls,
        folder: str | Path,
        *,
        dtype: str | torch.dtype | None = None,
        device: str | torch.device | None = None,
        device_map: str | dict | None = None,
        model_id: str | None = None,
    ) -> BioMedGPT:
        """Load a folder written by `save_pretrained` (safetensors are memory-mapped, read lazily).

        `device` puts all of it on one device ("auto": `device_map="auto"`); `device_map`
        spreads it over several GPUs through accelerate. Unset, they are chosen as for every
        load (placement.py): this process's GPU in fp16, else the CPU in fp32, whatever the
        folder holds (fp16 matrix products on a CPU are many times slower).
        """
        placement = choose_placement(device=device, dtype=dtype, device_map=device_map)
        folder = Path(folder)
        if not (folder / "config.json").is_file():
            raise ValueError(f"{folder} has no config.json; convert the official checkpoint first")
        model = BioMedGPTForConditionalGeneration.from_pretrained(
            str(folder), dtype=placement.dtype, device_map=placement.device_map
        )
        loaded = cls.from_components(
            model, folder, folder / ESM_VOCAB_FOLDER, model_id=model_id or folder.name
        )
        loaded._revision = saved_revision(folder)  # None: computed on first use
        return loaded

    @classmethod
    def from_official(
        cls,
        checkpoint: str | Path,
        llm_dir: str | Path,
        esm_dir: str | Path,
        *,
        dtype: str | torch.dtype | None = None,
        device: str | torch.device | None = None,
        device_map: str | dict | None = None,
    ) -> BioMedGPT:
        """Load `biomedgpt_10b.pth` with the LM and ESM folders (see official_checkpoint.py);
        device, dtype and device_map as for `from_pretrained`."""
        model = load_official_model(
            checkpoint,
            llm_dir=llm_dir,
            esm_dir=esm_dir,
            dtype=dtype,
            device=device,
            device_map=device_map,
        )
        return cls.from_components(model, llm_dir, esm_dir, model_id=Path(checkpoint).stem)

    def save_pretrained(self, folder: str | Path, max_shard_size: str | int = "2GB") -> Path:
        """config.json + safetensors shards + LM tokenizer files (+ tokenizer.model) + esm/vocab.txt."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        self.model.save_pretrained(
            str(folder), max_shard_size=max_shard_size, safe_serialization=True
        )
        self.text_tokenizer.save_pretrained(str(folder))
        if (
            self._tokenizer_model_file is not None
            and self._tokenizer_model_file.resolve() != (folder / "tokenizer.model").resolve()
        ):
            (folder / "tokenizer.model").write_bytes(self._tokenizer_model_file.read_bytes())
        write_esm_vocab(folder / ESM_VOCAB_FOLDER)
        (folder / REVISION_FILE).write_text(self.revision + "\n")
        return folder

    # -- identity -------------------------------------------------------------------------

    @property
    def revision(self) -> str:
        """A short fingerprint of config and weights, for tools to record which model answered.

        It hashes the config and every weight rounded to bfloat16 (see `weights_fingerprint`),
        so it is the same for fp32, bf16 and fp16 loads of one checkpoint; a folder written by
        `save_pretrained` records it, so loading that folder does not hash again.
        """
        if self._revision is None:
            self._revision = weights_fingerprint(self.model)
        return self._revision

    @property
    def device(self) -> torch.device:
        return self.model.get_input_embeddings().weight.device

    @property
    def dtype(self) -> torch.dtype:
        return self.model.get_input_embeddings().weight.dtype

    # -- generation -----------------------------------------------------------------------

    def prompt(self, request: GenerationRequest) -> str:
        """The exact prompt string sent to the model (placeholders included)."""
        return render_prompt(request.conversation())

    def generate(
        self,
        requests: Sequence[GenerationRequest | MultimodalRow] | GenerationRequest,
        *,
        batch_size: int = 8,
        max_new_tokens: int | None = None,
        do_sample: bool = False,
        temperature: float = 1.0,
        top_p: float = 1.0,
        top_k: int = 0,
        num_beams: int = 1,
        repetition_penalty: float = 1.0,
        seed: int | None = None,
    ) -> list[GenerationResult]:
        """Answer every request, in input order; requests of similar length share a batch.

        A request may also be the row `check_request` returned for it, so a caller that
        checked requests one by one does not have them built again (give such rows the
        `max_new_tokens` they were checked with). `max_new_tokens` None: the largest of the
        requests' own limits, else 255 (a batch decodes to one limit).
        """
        if isinstance(requests, GenerationRequest):
            requests = [requests]
        if max_new_tokens is None and any(isinstance(r, MultimodalRow) for r in requests):
            raise ValueError(
                "rows from check_request carry no new-token limit: pass max_new_tokens, the "
                "limit they were checked with"
            )
        max_new_tokens = _requested_limit(requests, max_new_tokens)
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, not {batch_size!r}")
        options = GenerationOptions(
            max_new_tokens=max_new_tokens,
            do_sample=do_sample,
            temperature=temperature,
            top_p=top_p,
            top_k=top_k,
            num_beams=num_beams,
            repetition_penalty=repetition_penalty,
            seed=seed,
        )
        options.validate()
        rows = [
            request if isinstance(request, MultimodalRow) else self._build_row(index, request)
            for index, request in enumerate(requests)
        ]
        self._check_context(rows, max_new_tokens)
        order = sorted(range(len(rows)), key=lambda index: rows[index].length)
        results: list[GenerationResult | None] = [None] * len(rows)
        for start in range(0, len(order), batch_size):
            chunk = order[start : start + batch_size]
            batch = collate_rows([rows[index] for index in chunk], self._pad_token_id)
            for index, tokens in zip(
                chunk, generate_batch(self.model, batch, options), strict=True
            ):
                results[index] = self._result(rows[index].prompt, tokens)
        return results  # type: ignore[return-value]

    def stream(self, request: GenerationRequest, **options) -> StreamedAnswer:
        """The answer's text in deltas as it is generated (greedy by default); `.result` afterwards.

        Without a `max_new_tokens` option, the request's own limit (else 255) applies."""
        options["max_new_tokens"] = _requested_limit([request], options.get("max_new_tokens"))
        generation_options = GenerationOptions(**options)
        row = self.check_request(request, generation_options.max_new_tokens)
        prompt = row.prompt
        batch = collate_rows([row], self._pad_token_id)
        streamed = stream_generation(
            self.model,
            batch,
            self.segments.decode,
            generation_options,
            byte_fallback_ids=self.segments.byte_fallback_ids,
        )
        return StreamedAnswer(
            iter(streamed),
            lambda: self._result(prompt, streamed.tokens),
            stop=streamed.close,
        )

    def check_request(
        self, request: GenerationRequest, max_new_tokens: int | None = None
    ) -> MultimodalRow:
        """The ValueError `generate` would raise for this request alone (bad input, a prompt
        past the context), so a batch can set one request aside instead of failing whole.

        Returns the request's row, built once (rendered, tokenized, featurized): give it to
        `generate` (or `collate_rows`) instead of the request so none of it is done again.
        """
        row = self._build_row(0, request)
        self._check_context([row], _requested_limit([request], max_new_tokens))
        return row

    def _check_context(self, rows: Sequence[MultimodalRow], max_new_tokens: int) -> None:
        """Llama-2 was trained on 4096 positions; past them the answer is garbage, so refuse."""
        limit = int(self.model.config.text_config.max_position_embeddings)
        for index, row in enumerate(rows):
            length = row.length
            if length + max_new_tokens > limit:
                raise ValueError(
                    f"request {index}: the prompt takes {length} positions (text, atoms and residues) "
                    f"and up to {max_new_tokens} new tokens would exceed the model's {limit}; "
                    "attach fewer or shorter inputs, shorten the history, or lower max_new_tokens"
                )

    def _result(self, prompt: str, tokens: GeneratedTokens) -> GenerationResult:
        raw = self.segments.decode(tokens.token_ids)
        return GenerationResult(
            prompt=prompt,
            text=cut_answer(raw),
            token_ids=tokens.token_ids,
            finished=tokens.finished,
            raw_text=raw,
        )

    @property
    def _pad_token_id(self) -> int:
        return int(self.model.config.text_config.pad_token_id)

    def _build_row(self, index: int, request: GenerationRequest) -> MultimodalRow:
        """Validate one request and lay it out for the model; errors name the request."""
        if not isinstance(request, GenerationRequest):
            raise ValueError(
                f"request {index} is a {type(request).__name__}; build a GenerationRequest"
            )
        try:
            return build_multimodal_row(
                request.conversation(), self.segments, self._pad_token_id, index=index
            )
        except ValueError as error:
            raise ValueError(f"request {index}: {error}") from error

    # -- protein vectors ------------------------------------------------------------------

    @torch.inference_mode()
    def encode_proteins(self, sequences: Sequence[str], batch_size: int = 8) -> torch.Tensor:
        """Mean over residue positions (cls/eos excluded) of the final ESM states, (P, hidden) fp32."""
        if isinstance(sequences, str):
            raise ValueError(
                "encode_proteins takes a list of sequences; use encode_protein for one"
            )
        vectors = [torch.zeros((0, int(self.model.config.protein_config.hidden_size)))]
        for start in range(0, len(sequences), batch_size):
            ids = [
                protein_token_ids(sequence) for sequence in sequences[start : start + batch_size]
            ]
            longest = max(len(row) for row in ids)
            pad = int(self.model.config.protein_config.pad_token_id)
            input_ids = torch.full((len(ids), longest), pad, dtype=torch.long)  # (P, L)
            attention = torch.zeros((len(ids), longest), dtype=torch.long)  # (P, L) real tokens
            residues = torch.zeros((len(ids), longest), dtype=torch.long)  # (P, L) residues only
            for row, token_ids in enumerate(ids):
                input_ids[row, : len(token_ids)] = torch.tensor(token_ids)
                attention[row, : len(token_ids)] = 1
                residues[row, 1 : len(token_ids) - 1] = 1  # cls and eos do not count in the mean
            states = self.model.protein_states(input_ids, attention).float()  # (P, L, H)
            weights = residues.to(states.device).unsqueeze(-1).float()  # (P, L, 1)
            vectors.append(((states * weights).sum(1) / weights.sum(1)).cpu())  # (P, H)
        return torch.cat(vectors)

    def encode_protein(self, sequence: str) -> torch.Tensor:
        """One protein's mean-pooled ESM vector, (hidden,) fp32; used by the store's search."""
        return self.encode_proteins([sequence])[0]


def _requested_limit(requests: Sequence[object], given: int | None) -> int:
    """The new-token limit a call decodes to: the one given, else the largest of the requests'
    own (`GenerationRequest.max_new_tokens`), else the reference's 255."""
    if given is not None:
        return given
    own = [
        request.max_new_tokens
        for request in requests
        if isinstance(request, GenerationRequest) and request.max_new_tokens is not None
    ]
    return max(own, default=DEFAULT_MAX_NEW_TOKENS)


def saved_revision(folder: str | Path) -> str | None:
    """The revision save_pretrained recorded in `folder`, or None for older folders."""
    path = Path(folder) / REVISION_FILE
    try:
        revision = path.read_text().strip()
    except OSError:
        return None
    return revision if re.fullmatch(r"[0-9a-f]{8,64}", revision) else None


def check_esm_vocab(folder: Path) -> None:
    """The ESM vocabulary must be ESM-2's, in order: the ids are hard-wired in protein_sequence."""
    vocab_file = folder / "vocab.txt"
    if not vocab_file.is_file():
        raise ValueError(
            f"no vocab.txt in {folder}; point at the ESM-2 folder (facebook/esm2_t36_3B_UR50D)"
        )
    tokens = [
        line.strip() for line in vocab_file.read_text(encoding="utf-8").splitlines() if line.strip()
    ]
    if tuple(tokens) != ESM_VOCAB:
        raise ValueError(
            f"{vocab_file} is not the ESM-2 vocabulary ({len(tokens)} tokens); use the ESM-2 vocab.txt"
        )


def weights_fingerprint(model: torch.nn.Module, chunk: int = 1 << 24) -> str:
    """A 12-hex-digit hash of the config and of every weight rounded to bfloat16.

    Every value counts, so a fine-tune that touches one row changes it; rounding to bf16
    makes fp32, bf16 and fp16 loads of one checkpoint agree. Hashing a 10B model reads all
    its weights once (tens of seconds on a CPU): `save_pretrained` records the result in the
    folder so later loads and tools read it instead.
    """
    digest = hashlib.blake2b(digest_size=6)
    config = model.config.to_dict() if hasattr(model, "config") else {}
    digest.update(json.dumps(_without_runtime_keys(config), sort_keys=True, default=str).encode())
    for name, tensor in sorted(model.state_dict().items()):
        digest.update(f"{name}:{tuple(tensor.shape)}".encode())
        if not tensor.is_floating_point():
            continue
        flat = tensor.detach().reshape(-1)
        for start in range(0, flat.numel(), chunk):  # bounded memory on huge tensors
            part = flat[start : start + chunk].to("cpu", torch.bfloat16)
            digest.update(part.view(torch.int16).numpy().tobytes())
    return digest.hexdigest()


def _without_runtime_keys(config: dict) -> dict:
    """Drop keys that change with how a model is loaded, not with what it is."""
    dropped = {"dtype", "torch_dtype", "transformers_version", "_name_or_path", "architectures"}
    return {
        key: _without_runtime_keys(value) if isinstance(value, dict) else value
        for key, value in config.items()
        if key not in dropped
    }
