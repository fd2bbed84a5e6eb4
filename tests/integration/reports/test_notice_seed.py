"""The 2021Q2 notice generated from the demo scenario carries every figure of the seed notice."""

from __future__ import annotations

from docx import Document

from services.ops.demo import load_demo
from services.reports.docx import render_docx
from services.reports.notice import build_notice
from services.reports.render import render_markdown
from services.reports.stats import RateSettings, round_stats

SEED_MESSAGES = (
    "其中：市政府54条、市公安局1条、临翔区29条、云县4条、凤庆县8条、永德县10条、镇康县12条、"
    "耿马自治县7条、沧源自治县13条、双江自治县13条。"
)


def chapter(notice, number: str) -> list[str]:
    inside, result = False, []
    for block in notice.blocks:
        if block.kind == "h1":
            inside = block.full_text.startswith(number)
        elif inside and block.kind == "n":
            result.append(block.full_text)
    return result


def test_the_demo_reproduces_every_figure_and_name_of_the_seed_notice(app, tmp_path):
    with app.uow() as uow:
        load_demo(uow)
        uow.commit()
    with app.uow() as uow:
        # The seed truncated 8/9 (88.88%) but rounded 37/38 (97.37%): the demo's round sets a
        # per-kind rule (通报设置); without it, the installation's default rounds half up.
        default_website_rate = str(
            round_stats(uow, "2021Q2", rates=RateSettings()).kinds["website"].rate
        )
        notice = build_notice(uow, "2021Q2")
        stats = round_stats(uow, "2021Q2")

    assert notice.title == (
        "临沧市人民政府办公室关于2021年二季度全市政府网站和政府系统政务新媒体检查情况的通报"
    )
    assert notice.doc_number == "临政办字〔2021〕72号"
    overview = chapter(notice, "一、")
    assert overview[0] == (
        "（一）2021年一季度通报问题整改情况。经复查，2021年一季度发现的1个问题网站、3个问题专栏、"
        "4个不合格政府系统政务新媒体，均已完成整改。"
    )
    assert overview[1] == (
        "（二）2021年二季度政府网站普查情况。2021年二季度，全市在“全国政府网站信息报送系统”中"
        "登记在运行政府网站9个、市级部门信息公开专栏38个。通过监测，二季度发现问题网站1个，"
        "网站合格率88.88%；问题专栏1个，合格率97.37%。"
    )
    assert overview[2] == (
        "（三）2021年二季度政府系统政务新媒体抽查情况。按照政府系统政务新媒体管理相关要求，"
        "二季度新增登记政府系统政务新媒体54个，关停注销微信公众号11个，注销其他政务新媒体账号17个。"
        "二季度发现问题政府系统政务新媒体3个，合格率：98.45%。"
    )
    assert overview[3] == (
        "（四）网民留言办理情况。全市开设网民留言平台的政府网站和专栏共10个，"
        f"2021年二季度共接到网民留言151条，{SEED_MESSAGES}通过监测，耿马自治县超期3条未回复。"
    )
    assert len(overview) == 4
    # As issued, the notice named the park's still-open domain case only in 二（三）, with its
    # history: the round chose not to print the 复查仍未整改 / 未报送 paragraphs.
    assert "仍未整改" not in notice.text
    assert "未按期报送" not in notice.text

    assert chapter(notice, "二、") == [
        "（一）个别政府网站信息发布审核不严。值班读网制度落实不到位，存在严重表述错误，"
        "如：市自然资源和规划局信息公开专栏。",
        "（二）栏目更新不及时，日常运维需加强。个别网站未合理规划网站栏目设置，内容保障机制落实不到位，"
        "导致出现栏目长期不更新的问题，如：永德县人民政府门户网站栏目超期未更新；"
        "市乡村振兴局信息公开专栏栏目未及时更新，栏目名称未更新。",
        "（三）已下线网站域名应注销未注销问题。如：临沧工业园区管理委员会已下线网站域名应注销未注销问题，"
        "已被省政府办公厅通报一次，被市政府办公室通报两次，至今未完成注销工作。",
        "（四）政务新媒体清理不到位。截止二季度末，未注销的僵尸账号有："
        "1. 临沧工业园区，注册主体：临沧工业园区管理委员会；"
        "2. 耿马水务，注册主体：耿马傣族佤族自治县水务局；"
        "3. 耿马森警，注册主体：耿马傣族佤族自治县森林公安局。",
    ]
    assert [p[:7] for p in chapter(notice, "三、")] == [
        "（一）高度重视",
        "（二）开展自查",
        "（三）及时答复",
        "（四）加强监管",
    ]
    assert (
        "并于2021年7月29日前将整改情况（本地本部门主要负责同志签字纸质版1份和电子文档）报市政府办公室。"
        in (notice.text)
    )
    assert notice.text.endswith("临沧市人民政府办公室\n2021年7月19日\n2021年7月19日印发")

    # The figures themselves, as the dashboard and the web page read them.
    kinds = stats.kinds
    assert [(k, kinds[k].inspected, kinds[k].unqualified) for k in kinds] == [
        ("website", 9, 1),
        ("column", 38, 1),
        ("new_media", 194, 3),
    ]
    assert default_website_rate == "88.89"  # the default pass-rate rule: round half up
    assert (stats.boards.platforms, stats.boards.messages, stats.boards.overdue) == (10, 151, 3)
    assert [(p.kind, p.problems, p.rectified) for p in stats.previous.per_kind] == [
        ("website", 1, 1),
        ("column", 3, 3),
        ("new_media", 4, 4),
    ]

    # The same text in DOCX (read back) as in the Markdown.
    path = tmp_path / "2021Q2.docx"
    path.write_bytes(render_docx(notice))
    markdown = render_markdown(notice)
    texts = [p.text for p in Document(str(path)).paragraphs if p.text]
    assert texts == [block.full_text for block in notice.blocks]
    assert all(text in markdown for text in texts)
