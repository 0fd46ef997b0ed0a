"""A Chinese marketplace catalog: keyword-stuffed titles get a short composed name (brand + kind + model code,
whole words, no tags or marketing words), placeholder brands are no brands, and prices are shown in the shop's
own currency — in the data, the enrichment, the phrases and the verifier."""

from __future__ import annotations

import pandas as pd
import pytest
import rjieba
from conftest import TOY_ITEMS, write_shop
from narrator_cases import DRILL, fact, facts_of

from narrator import enrichment
from narrator.enrichment import zh_titles
from narrator.facts import Facts, ItemRef
from narrator.narrate import Narrator
from narrator.prompts import PromptLibrary
from narrator.prompts.names import brand_forms, display_name
from narrator.verification.verify import _money, verify
from ranker.data import DataError, load_shop, means_no_brand
from ranker.text import MultilingualEncoder

# Titles written for this test in the marketplace style (none taken from a benchmark set): tags, years,
# seasons, shop-wide words, several product words, a model code; categories are crawl buckets.
CATALOG = pd.DataFrame([
    ("m1", "【新品推荐】2019夏装新款羊毛阔腿裤显瘦高腰宽松休闲裤女", "", "女装 > 裤子"),
    ("m2", "韩版新款包邮女士牛仔裤高腰显瘦小脚裤", "", "女装 > 裤子"),
    ("m3", "haier/海尔 KFR-35GW 变频冷暖空调挂机 1.5匹 包邮", "haier/海尔", "家电 > 空调"),
    ("m4", "格力 大1匹 新款 壁挂式空调 节能", "格力", "家电 > 空调"),
    ("m5", "【顺丰空运】新鲜荔枝 桂味 现摘水果5斤 包邮", "", "生鲜 > 水果"),
    ("m6", "广东妃子笑荔枝新鲜水果当季 3斤装", "", "生鲜 > 水果"),
    ("m7", "新款 初音未来手办模型 日本正版 动漫周边", "", "玩具 > 手办"),
    ("m8", "韩版 新款 男士运动鞋 透气跑步鞋 包邮", "", "鞋靴 > 运动鞋"),
    ("m9", "新款 女士帆布鞋 小白鞋 学生 韩版", "", "鞋靴 > 帆布鞋"),
    ("m10", "良品铺子 山核桃 160g 坚果零食 新款", "良品铺子", "零食 > 坚果"),
    ("m11", "三只松鼠 每日坚果 750g 包邮 混合坚果", "三只松鼠", "零食 > 坚果"),
    ("m12", "韩版 新款 女童 连衣裙 公主裙 夏季", "", "童装 > 连衣裙"),
], columns=["item_id", "title", "brand", "category"])
PRODUCTS = {"m1": ("阔腿裤", "休闲裤"), "m2": ("牛仔裤", "小脚裤"), "m3": ("空调", "挂机", "空调挂机"),
            "m4": ("空调",), "m5": ("荔枝",), "m6": ("荔枝",), "m7": ("手办", "模型"), "m8": ("运动鞋", "跑步鞋"),
            "m9": ("帆布鞋", "小白鞋"), "m10": ("山核桃", "坚果"), "m11": ("坚果", "混合坚果"),
            "m12": ("连衣裙", "公主裙")}
MARKETING = ("新款", "包邮", "韩版", "新品", "推荐", "顺丰", "正版", "2019")


@pytest.fixture(scope="module")
def encode():
    return MultilingualEncoder(threads=1).encode_fresh


@pytest.fixture(scope="module")
def read(encode) -> dict[str, enrichment.Enriched]:
    class Reader:
        """Reads each asked Chinese kind back into English, one numbered line each, as the model would."""

        model_id = "reader"
        english = {"阔腿裤": "wide-leg pants", "休闲裤": "casual pants", "牛仔裤": "jeans", "空调": "air conditioner",
                   "空调挂机": "air conditioner", "冷暖空调": "air conditioner",
                   "挂机": "air conditioner", "荔枝": "lychee", "手办": "figure",
                   "运动鞋": "sneakers", "跑步鞋": "running shoes", "帆布鞋": "canvas shoes", "山核桃": "hickory nuts",
                   "坚果": "nuts", "连衣裙": "dress", "零食": "snacks"}
        asked: list[str] = []

        def generate(self, messages, max_tokens):
            from narrator.backends import Generation

            asked = [line.split(". ", 1)[1] for line in messages[-1]["content"].splitlines()]
            self.asked.append(messages[0]["content"])
            return Generation("\n".join(f"{n}. {self.english.get(q, 'thing')}" for n, q in enumerate(asked, 1)), 5, 0)

    done: dict[str, enrichment.Enriched] = {}
    model = Reader()
    enrichment.enrich(model, encode, CATALOG, done, lambda rows: done.update({r.item_id: r for r in rows}))
    from narrator.enrichment import kinds

    assert set(model.asked) == {kinds.BACK_INSTRUCTIONS}  # no title proposals for Chinese titles, only readings
    return done


def test_a_chinese_title_is_read_without_the_model_and_named_in_whole_words(read):
    assert set(read) == set(CATALOG["item_id"])
    right = [i for i, r in read.items() if any(r.kind_zh.endswith(p) or p.endswith(r.kind_zh) for p in PRODUCTS[i])]
    assert len(right) >= 9, {i: r.kind_zh for i, r in read.items()}
    for item_id, row in read.items():
        assert row.zh_from == "title" and row.kind_zh
        assert len(row.name_zh) <= zh_titles.NAME_CHARS, row.name_zh
        assert not any(w in row.name_zh for w in MARKETING), row.name_zh
        title = CATALOG.set_index("item_id").loc[item_id, "title"]
        assert row.kind_zh in {w for w, _ in zh_titles.words(title)}  # a whole word of the title
        assert not zh_titles.ALL_HAN.search(row.name_en), row.name_en  # "良品铺子 nuts" is no English name
    assert read["m3"].name_zh.startswith("海尔") and read["m3"].name_zh.endswith("KFR-35GW")
    assert read["m3"].name_en.startswith("haier ") and read["m3"].en_from == "model"
    assert read["m10"].name_zh.startswith("良品铺子")


def test_without_a_model_a_chinese_title_gets_no_english_kind(encode):
    """`whyrec catalog enrich --without-model`: the zh kind and name from the title alone; the dictionary corrects the
    model's reading of a kind, it does not stand in for it."""
    done: dict[str, enrichment.Enriched] = {}
    enrichment.enrich(None, encode, CATALOG, done, lambda rows: done.update({r.item_id: r for r in rows}))
    assert set(done) == set(CATALOG["item_id"]) and all(r.kind_zh for r in done.values())
    assert all((r.kind_en, r.name_en, r.en_from) == ("", "", "none") for r in done.values())


def test_shop_wide_words_are_never_kinds(encode):
    reader = zh_titles.TitleReader.learn(CATALOG["title"].tolist(), CATALOG["category"].tolist())
    assert {"新款", "韩版"} <= reader.shop_wide
    assert not {"荔枝", "空调", "坚果"} & reader.shop_wide


def test_a_name_cut_from_a_chinese_title_ends_between_words():
    title = "【新品推荐】初音未来手办模型日本正版景品动漫周边礼物"
    for limit in range(8, 24):
        name = display_name(title, limit)
        assert "【" not in name and "新品推荐" not in name and len(name) <= limit
        words = rjieba.cut(title.replace("【新品推荐】", ""))
        ends = {sum(len(w) for w in words[:k]) for k in range(len(words) + 1)}
        assert len(name) in ends, name


def test_placeholder_brands_are_no_brands(tmp_path):
    for value in ("other/其他", "其他", "无品牌", "OTHER / 其它", "N/A", "Unbranded"):
        assert means_no_brand(value), value
    for value in ("haier/海尔", "Otherland", "3M", "无印良品"):
        assert not means_no_brand(value), value
    items = TOY_ITEMS.copy()
    items.loc[1, "brand"] = "other/其他"
    write_shop(tmp_path, items=items)
    shop = load_shop(tmp_path)
    assert shop.items.loc[1, "brand"] == ""
    assert "brand: says the item has none, left empty" in "\n".join(shop.reports[0].lines())


def test_the_currency_is_the_catalogs_and_a_bad_one_names_its_line(tmp_path):
    items = TOY_ITEMS.copy()
    items["currency"] = "cny"
    write_shop(tmp_path, items=items)
    assert set(load_shop(tmp_path).items["currency"]) == {"CNY"}
    items.loc[2, "currency"] = "yuan"
    write_shop(tmp_path, items=items)
    with pytest.raises(DataError, match=r"items\.csv:4: field 'currency' not a three-letter ISO 4217 code"):
        load_shop(tmp_path)
    shop = load_shop(tmp_path.parent / tmp_path.name, on_error="skip").priced_in("USD")
    assert set(shop.items["currency"]) == {"CNY"}  # an item's own currency wins over the import's default


def _price_facts(symbol: str):
    facts = facts_of("price", "brand", item=ItemRef("L1", "新鲜荔枝 桂味", "", "生鲜 > 水果", 58.8, "桂味荔枝"))
    price, brand = facts.facts
    return type(facts)(facts.user_id, facts.item, (
        type(price)(price.kind, price.groups, price.attribution, price.share, price.rank,
                    {"price": 58.8, "usual_low": 40.0, "usual_high": 120.0, "currency": symbol}),
        type(brand)(brand.kind, brand.groups, brand.attribution, brand.share, brand.rank,
                    {"brand": "haier/海尔", "bought": 2, "viewed": 0})))


def test_prices_show_the_shops_currency_and_another_is_refused():
    narrator = Narrator(PromptLibrary.load(), brands={"haier/海尔"})
    facts = _price_facts("¥")
    zh = narrator.explain(facts, "zh", "short", "template")
    assert "¥58.8" in zh.text and "$" not in zh.text and zh.verified
    assert "海尔" in zh.text and "haier/海尔" not in zh.text  # the brand's zh form in a zh sentence
    en = narrator.explain(facts, "en", "short", "template")
    assert "¥58.8" in en.text and "haier" in en.text and "海尔" not in en.text
    grounding = narrator.grounding(facts, narrator.prompts.template("zh", "short"))

    def money_refused(text: str) -> list[str]:
        return [c.text for c in verify(text, grounding).failures if c.rule == "number"]

    assert money_refused("这款荔枝价格$58.8，在您常买的$40至$120价位内。") == ["$58.8", "$40", "$120"]
    assert money_refused("这款荔枝价格58.8元，在您常买的¥40至¥120价位内。") == []
    bare = narrator.explain(_price_facts(""), "zh", "short", "template")
    assert "58.8" in bare.text and not any(s in bare.text for s in "$¥")
    assert _money("USB 3 和 3块板") == []
    assert brand_forms({"haier/海尔"}) == {"haier/海尔", "haier", "海尔"}


def test_an_enriched_chinese_item_is_named_by_its_short_names(read):
    from ranker.ranking import Ranker

    items = CATALOG.set_index("item_id", drop=False)
    ranker = Ranker.__new__(Ranker)
    ranker.items, ranker._titles = items, {}
    rows = pd.DataFrame([vars(r) for r in read.values()])
    assert ranker.describe(rows) == len(CATALOG)
    assert ranker.title("m3", "title_zh") == read["m3"].name_zh
    assert ranker.title("m3", "title_en") == read["m3"].name_en
    assert DRILL.title_zh  # a catalog's own zh title is never replaced (the demo shop's)


def test_an_english_sentence_names_items_and_categories_in_english():
    narrator = Narrator(PromptLibrary.load(), brands=set())
    item = ItemRef("P1", "韩版女士牛仔裤高腰显瘦小脚裤", "", "女装 > 裤子")
    together = {"with_item_id": "P2", "with_title": "独特浓郁茶香创新蛋糕", "with_title_zh": "独特浓郁茶香创新蛋糕",
                "basis": "item", "shoppers_bought_both": 4}
    category = {"category": "裤子", "category_zh": "裤子", "bought": 4, "viewed": 0, "share": 0.4}
    facts = Facts("u", item, (fact("bought_together", 1, 0.5, together), fact("category", 2, 0.3, category)))
    en = narrator.explain(facts, "en", mode="template").text
    assert not zh_titles.ALL_HAN.search(en), en  # the item bought with it is "the item", the category unsaid
    zh = narrator.explain(facts, "zh", mode="template").text
    assert "蛋糕" in zh and "裤子" in zh
    named = Facts("u", item, (fact("category", 1, 0.3, {**category, "category_en": "pants"}),))
    assert "pants" in narrator.explain(named, "en", mode="template").text
