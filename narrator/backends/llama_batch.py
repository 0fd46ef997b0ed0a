"""Several chats decoded together in one llama.cpp context, for work that asks many independent prompts at once
(catalog enrichment: kinds, translations and readings, hundreds of short chats).

Why: on a CPU one decoding step reads every weight once, so a lone sequence is bound by memory bandwidth (~10
tokens/s for the 1.5B on 2 cores) while the cores mostly wait. Sequences decoded in one batch share that read:
each step costs little more for eight sequences than for one. Decoding is greedy with the same repetition
penalty as the single-chat path (`REPETITION_PENALTY` over the last 64 generated tokens), so a chat's reply is
the one `LlamaCppBackend.generate` gives, up to the rounding of batched matrix products.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any, cast

from narrator.backends.generation import REPETITION_PENALTY, Generation
from narrator.prompts.templates import Messages

PENALTY_WINDOW = 64
"""llama-cpp-python's default window for the repetition penalty (`last_n_tokens_size`)."""


class ParallelDecoder:
    """Up to `sequences` chats per round over the weights of an already loaded `llama_cpp.Llama`; each chat has
    `seq_ctx` tokens of context (prompt and reply). Not thread-safe: the backend's lock guards it."""

    def __init__(self, llm: Any, sequences: int = 8, seq_ctx: int = 1024, threads: int = 1, n_batch: int = 512):
        import llama_cpp
        from llama_cpp import _internals
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        self.sequences, self.seq_ctx, self.n_batch = sequences, seq_ctx, n_batch
        self._llm, self._lib = llm, llama_cpp
        params = llama_cpp.llama_context_default_params()
        params.n_ctx, params.n_batch, params.n_ubatch = seq_ctx * sequences, n_batch, n_batch
        params.n_seq_max, params.kv_unified = sequences, True  # unified: sequences share their prompt's prefix cells
        params.n_threads = params.n_threads_batch = threads
        self._ctx = _internals.LlamaContext(model=llm._model, params=params, verbose=False)
        self._batch = llama_cpp.llama_batch_init(n_batch, 0, 1)
        self._vocab = llm._model.vocab
        self._memory = llama_cpp.llama_get_memory(self._ctx.ctx)
        self._prefix: list[int] = []
        eos = llm.token_eos()
        self._format = Jinja2ChatFormatter(template=llm.metadata["tokenizer.chat_template"],
                                           eos_token=llm._model.token_get_text(eos),
                                           bos_token=llm._model.token_get_text(llm.token_bos()),
                                           stop_token_ids=[eos])

    def close(self) -> None:
        if getattr(self, "_batch", None) is not None:
            self._lib.llama_batch_free(self._batch)
            self._batch = None
        if hasattr(self, "_ctx"):
            self._ctx.close()

    def __del__(self) -> None:  # a decoder dropped from its backend's cache frees its context and batch
        self.close()

    def tokens(self, messages: Messages) -> list[int]:
        prompt = self._format(messages=cast(Any, messages))
        return self._llm.tokenize(prompt.prompt.encode("utf-8"), add_bos=not prompt.added_special, special=True)

    def generate(self, chats: Sequence[Messages], max_tokens: int) -> list[Generation]:
        """Replies in order, `sequences` chats per round; a reply's `seconds` is its round's wall time."""
        out: list[Generation] = []
        for start in range(0, len(chats), self.sequences):
            out.extend(self._round(chats[start:start + self.sequences], max_tokens))
        return out

    def _round(self, chats: Sequence[Messages], max_tokens: int) -> list[Generation]:
        from llama_cpp import _internals

        start = time.perf_counter()
        lib = self._lib
        prompts = [self.tokens(m) for m in chats]
        for i, p in enumerate(prompts):
            if len(p) >= self.seq_ctx:
                raise ValueError(f"chat {i}: {len(p)} prompt tokens do not fit a context of {self.seq_ctx}")
        limits = [min(max_tokens, self.seq_ctx - len(p)) for p in prompts]  # as llama-cpp-python caps a reply
        shared = self._share_prefix(prompts)
        samplers = []
        for _ in prompts:
            sampler = _internals.LlamaSampler()
            sampler.add_penalties(n_vocab=self._llm.n_vocab(), penalty_last_n=PENALTY_WINDOW,
                                  penalty_repeat=REPETITION_PENALTY, penalty_freq=0.0, penalty_present=0.0)
            sampler.add_greedy()
            samplers.append(sampler)
        replies: list[list[int]] = [[] for _ in prompts]
        done = [False] * len(prompts)

        def take(seq: int, index: int) -> None:
            token = samplers[seq].sample(self._ctx, index)
            if lib.llama_vocab_is_eog(self._vocab, token):
                done[seq] = True
                return
            replies[seq].append(token)
            done[seq] = len(replies[seq]) >= limits[seq]

        pending = [(seq, pos, p[pos]) for seq, p in enumerate(prompts) for pos in range(shared, len(p))]
        for at in range(0, len(pending), self.n_batch):
            part = pending[at:at + self.n_batch]
            last = [j for j, (seq, pos, _) in enumerate(part) if pos == len(prompts[seq]) - 1]
            self._decode([(seq, pos, tok, j in last) for j, (seq, pos, tok) in enumerate(part)])
            for j in last:
                take(part[j][0], j)
        while not all(done):
            active = [seq for seq in range(len(prompts)) if not done[seq]]
            self._decode([(seq, len(prompts[seq]) + len(replies[seq]) - 1, replies[seq][-1], True) for seq in active])
            for j, seq in enumerate(active):
                take(seq, j)
        seconds = time.perf_counter() - start
        return [Generation(self._llm.detokenize(r).decode("utf-8", errors="ignore").strip(), len(r), seconds)
                for r in replies]

    def _share_prefix(self, prompts: list[list[int]]) -> int:
        """Evaluate the prompts' common prefix once (sequence 0, kept from the last round as far as it matches) and
        give every sequence its cells. Returns the prefix length; each prompt keeps at least one token to evaluate,
        whose logits start its reply."""
        lib, memory = self._lib, self._memory
        shared = min(len(p) for p in prompts) - 1
        for p in prompts[1:]:
            shared = next((i for i, (a, b) in enumerate(zip(prompts[0][:shared], p, strict=False)) if a != b), shared)
        kept = next((i for i, (a, b) in enumerate(zip(self._prefix, prompts[0][:shared], strict=False)) if a != b),
                    min(len(self._prefix), shared))
        for seq in range(1, self.sequences):
            lib.llama_memory_seq_rm(memory, seq, -1, -1)
        lib.llama_memory_seq_rm(memory, 0, kept, -1)
        rows = [(0, pos, prompts[0][pos], False) for pos in range(kept, shared)]
        for at in range(0, len(rows), self.n_batch):
            self._decode(rows[at:at + self.n_batch])
        self._prefix = prompts[0][:shared]
        for seq in range(1, len(prompts)):
            lib.llama_memory_seq_cp(memory, 0, seq, 0, shared)
        return shared

    def _decode(self, rows: list[tuple[int, int, int, bool]]) -> None:
        """One llama_decode of (sequence, position, token, wants logits) rows."""
        batch = self._batch
        batch.n_tokens = len(rows)
        for j, (seq, pos, token, logits) in enumerate(rows):
            batch.token[j], batch.pos[j], batch.n_seq_id[j], batch.logits[j] = token, pos, 1, logits
            batch.seq_id[j][0] = seq
        if (code := self._lib.llama_decode(self._ctx.ctx, batch)) != 0:
            raise RuntimeError(f"llama_decode returned {code}")
