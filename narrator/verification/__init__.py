"""Checking a sentence against the facts it was asked to express, before a shopper reads it.

- `verify` — the verifier: every brand, number, claim and name backed by a fact, top reasons cited, language
  and length right (`verify(text, grounding)`);
- `grounding` — what a sentence may draw on (`Grounding`) and what the verifier found (`VerificationReport`);
- `binding` — which item a sentence calls what, and which relation it states for each named item;
- `text_match` — finding names, numbers and words the way a reader would;
- `meaning` — whether a Chinese noun means what an English-titled item is (`NounJudge`, the encoder injected);
- `audit` — labelled good and bad sentences, and how many of each the verifier gets right.
"""

from narrator.verification.grounding import Claim, Grounding, VerificationReport
from narrator.verification.verify import verify

__all__ = ["Claim", "Grounding", "VerificationReport", "verify"]
