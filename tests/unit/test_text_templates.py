"""An editable notice text with a mistake is refused in Chinese, naming the word or the line."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from services.rounds.setting_checks import TEXT_WORDS, template_problem, words_shown

WORDS = (
    "{{ office }}、{{ office_short }}、{{ quarter_label }}、{{ quarter }}、{{ deadline }}、"
    "{{ notice_date }}、{{ departments }}"
)
README = Path(__file__).resolve().parents[2] / "README.md"


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("{{ unknown_var }}", f"有误：「unknown_var」不是可用的替换词，可用：{WORDS}"),
        ("{{ office }关于", "有误：模板语法有误（第1行）：花括号或标签不配对（替换词写作 {{ office }}）"),
        ("{% for x in y %}", "有误：模板语法有误（第1行）：花括号或标签不配对（替换词写作 {{ office }}）"),
        ("第一段\n{{ office", "有误：模板语法有误（第2行）：花括号或标签不配对（替换词写作 {{ office }}）"),
        ("{% foo %}", f"有误：模板语法有误（第1行）：不认识「foo」（文字中只能用替换词：{WORDS}）"),
        ("{{ office | nofilter }}", f"有误：模板语法有误（第1行）：不认识「nofilter」（文字中只能用替换词：{WORDS}）"),
        ("{{ 1/0 }}", f"有误：无法生成文字（只能使用替换词：{WORDS}）"),
        ("{{ office.__class__ }}", f"有误：用到了不允许的写法，可用的替换词：{WORDS}"),
    ],
)  # fmt: skip
def test_a_mistake_is_said_in_chinese_whole(text, says):
    assert template_problem(text) == says


def test_a_text_using_every_word_is_accepted():
    assert template_problem("".join(f"{{{{ {word} }}}}" for word in TEXT_WORDS)) is None


def test_the_readme_lists_the_same_words_as_the_check():
    listed = re.search(r"Texts may use (.+?)\(市级部门", README.read_text(encoding="utf-8"), re.S)
    assert listed is not None
    words = re.findall(r"\{\{ (\w+) \}\}", listed[1])
    assert words == list(TEXT_WORDS)
    assert words_shown() == WORDS
