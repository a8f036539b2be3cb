"""core.normalize: the fast pinyin path gives what pypinyin gives."""

from __future__ import annotations

from guanxi.core import normalize


def test_fast_pinyin_path_agrees_with_pypinyin() -> None:
    """The character-by-character path gives exactly what pypinyin's phrase matching
    gives (on names, heteronym surnames and phrases that must take the slow path)."""
    from pypinyin import Style, lazy_pinyin

    from guanxi.core.normalize import _fast_pinyin

    names = ["张伟", "曾伟", "单雄", "欧阳思远", "王秀英", "李一鸣", "朴正", "覃明", "区伟"]
    names += ["重庆", "长孙无忌", "上海关系科技有限公司", "解放", "乐乐"]
    for name in names:
        normalize.pinyin_keys.cache_clear()
        syllables = lazy_pinyin(name, style=Style.NORMAL)
        expected = ("".join(syllables), "".join(s[0] for s in syllables))
        assert normalize.pinyin_keys(name) == expected, name
        fast = _fast_pinyin(name)
        assert fast is None or fast == expected, name
    assert _fast_pinyin("重庆") is None  # a phrase: pypinyin's own matching decides
    assert _fast_pinyin("张伟") == ("zhangwei", "zw")
