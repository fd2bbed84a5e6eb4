"""The pure email builders: templates render in Chinese, escape user text, and build MIME."""

from __future__ import annotations

import email
from datetime import date, datetime
from email import policy
from zoneinfo import ZoneInfo

import pytest
from jinja2 import UndefinedError

from notifications.message import (
    Mailbox,
    build_message,
    encode_mail,
    message_id,
    split_addresses,
)
from notifications.render import TEMPLATES, cn_date, environment, render

SENT_ON = date(2021, 7, 19)
TITLE = "关于2021年二季度全市政府网站和政府系统政务新媒体检查情况的通报"
CASE = {
    "id": 7,
    "category": "栏目更新不及时",
    "target": "永德县人民政府门户网站",
    "target_url": "http://www.ynyd.gov.cn",
    "description": "“通知公告”栏目超期未更新",
    "deadline": "2021-07-29",
}
COMMON = {"unit_name": "永德县人民政府", "office": "临沧市人民政府办公室"}
PORTAL = {"portal_url": "https://rectify.test/portal/tok123", "link_expires": "2021-09-17"}
CONTEXTS = {
    "round_notice": COMMON
    | PORTAL
    | {
        "round": {
            "code": "2021Q2",
            "title": TITLE,
            "doc_number": "临政办字〔2021〕72号",
        },
        "cases": [CASE, CASE | {"id": 8, "category": "空白栏目", "deadline": "2021-08-02"}],
    },
    "case_notice": COMMON | PORTAL | {"case": CASE},
    "reminder_digest": COMMON
    | PORTAL
    | {"day": "2021-07-26", "before": [CASE], "due": [], "after": [CASE | {"id": 9}]},
    "rejection": COMMON | PORTAL | {"case": CASE, "reason": "截图不清晰", "reviewer": "张三"},
    "escalation": COMMON
    | {
        "case": CASE,
        "leader_name": "李四",
        "parent_unit_name": "临沧市人民政府",
        "level": 1,
        "reason": "overdue",
        "note": None,
        "notices_city": 2,
        "notices_province": 1,
        "notices_county": 0,
        "history": [
            {"at": "2021-07-19T01:00:00+00:00", "label": "通知", "actor": "王五", "note": None}
        ],
    },
    "submission_received": COMMON
    | {
        "case": CASE,
        "submitted_at": "2021-07-20T02:30:00+00:00",
        "responsible_person": "赵六",
        "text": "已更新栏目",
    },
    "submission_for_review": COMMON
    | {
        "case": CASE,
        "submitted_at": "2021-07-20T02:30:00+00:00",
        "responsible_person": "赵六",
        "text": "已更新栏目",
        "case_url": "https://rectify.test/cases/7",
    },
    "portal_link": COMMON | PORTAL | {"cases": [CASE]},
}


@pytest.mark.parametrize("template", TEMPLATES)
def test_every_template_renders_a_chinese_subject_text_and_html(template):
    rendered = render(template, CONTEXTS[template], sent_on=SENT_ON)

    assert "永德县人民政府" in rendered.subject
    assert "\n" not in rendered.subject
    assert "永德县人民政府门户网站" in rendered.text
    assert "<html" in rendered.html and "永德县人民政府门户网站" in rendered.html


def test_a_round_notice_lists_every_case_with_its_deadline_and_the_portal_link():
    rendered = render("round_notice", CONTEXTS["round_notice"], sent_on=SENT_ON)

    assert rendered.subject == f"【整改通知】《{TITLE}》涉及永德县人民政府的2个问题，请按期整改"
    for text in (rendered.text, rendered.html):
        assert "栏目更新不及时" in text and "空白栏目" in text
        assert "2021年7月29日" in text and "2021年8月2日" in text
        assert "https://rectify.test/portal/tok123" in text
        assert "临政办字〔2021〕72号" in text


@pytest.mark.parametrize(
    ("title", "named"),
    [
        (f"《{TITLE}》", f"《{TITLE}》"),  # typed with its marks: not doubled
        (
            "关于贯彻《政府网站与政务新媒体检查指标》的通报",
            "《关于贯彻〈政府网站与政务新媒体检查指标〉的通报》",
        ),
        (None, "2021Q2轮次检查通报"),
    ],
)
def test_a_round_notice_subject_names_the_notice_in_book_title_marks(title, named):
    context = CONTEXTS["round_notice"] | {
        "round": {"code": "2021Q2", "title": title, "doc_number": None}
    }

    rendered = render("round_notice", context, sent_on=SENT_ON)

    assert rendered.subject == f"【整改通知】{named}涉及永德县人民政府的2个问题，请按期整改"
    assert rendered.text.splitlines()[2].startswith(f"根据{named}，贵单位")


def test_a_round_notice_title_is_escaped_in_html_and_verbatim_in_text():
    context = CONTEXTS["round_notice"] | {
        "round": {"code": "2021Q2", "title": "关于<b>A&B</b>的通报", "doc_number": None}
    }

    rendered = render("round_notice", context, sent_on=SENT_ON)

    assert "根据《关于&lt;b&gt;A&amp;B&lt;/b&gt;的通报》" in rendered.html
    assert "根据《关于<b>A&B</b>的通报》" in rendered.text


EARLIER = CASE | {"id": 9, "category": "错别字", "notified_on": "2021-07-05"}


def test_a_round_notice_lists_a_case_notified_before_apart_without_a_second_link():
    context = CONTEXTS["round_notice"] | {"earlier": [EARLIER]}

    rendered = render("round_notice", context, sent_on=SENT_ON)

    assert "涉及永德县人民政府的2个问题" in rendered.subject  # the new ones only
    for body in (rendered.text, rendered.html):
        new_part, earlier_part = body.split("另有1个问题已于2021年7月5日单独通知贵单位")
        assert "栏目更新不及时" in new_part and "错别字" not in new_part
        assert "错别字" in earlier_part and "本通知不再重复通知" in earlier_part
        assert "/portal/" not in earlier_part
    assert rendered.text.count("https://rectify.test/portal/tok123") == 1


def test_a_round_notice_of_cases_all_notified_before_carries_no_link_and_asks_nothing_new():
    context = {k: v for k, v in CONTEXTS["round_notice"].items() if k not in PORTAL}
    context |= {
        "cases": [],
        "earlier": [EARLIER, EARLIER | {"id": 10, "notified_on": "2021-07-06"}],
    }

    rendered = render("round_notice", context, sent_on=SENT_ON)

    assert rendered.subject == (
        f"【检查通报】《{TITLE}》已印发：永德县人民政府的2个问题此前已单独通知"
    )
    for body in (rendered.text, rendered.html):
        assert "/portal/" not in body and "专用链接查看" not in body
        assert "以下2个问题此前已单独通知贵单位" in body
        assert "2021年7月5日" in body and "2021年7月6日" in body  # each case's own day


def test_a_reminder_digest_separates_overdue_cases_from_those_due_soon():
    rendered = render("reminder_digest", CONTEXTS["reminder_digest"], sent_on=SENT_ON)

    assert "已超期" in rendered.subject
    assert rendered.text.index("已超过整改期限") < rendered.text.index("即将到期")
    assert "今日到期" not in rendered.text


def test_an_escalation_tells_the_leader_the_history_and_notice_counts():
    rendered = render("escalation", CONTEXTS["escalation"], sent_on=SENT_ON)

    assert rendered.text.startswith("李四：")
    assert "被市政府办公室通报2次，被省政府办公厅通报1次" in rendered.text
    assert "2021年7月19日 09:00  通知（王五）" in rendered.text
    assert "逾期未整改" in rendered.subject


@pytest.mark.parametrize(
    ("reason", "wording"),
    [("overdue", "逾期未整改"), ("repeat_offender", "屡经通报仍未整改"), ("", "尚未完成整改")],
)
def test_an_escalation_subject_says_why_it_was_escalated(reason, wording):
    context = CONTEXTS["escalation"] | {"reason": reason, "note": "请于本周内办结"}

    rendered = render("escalation", context, sent_on=SENT_ON)

    assert wording in rendered.subject
    assert "督办说明：请于本周内办结" in rendered.text


def test_user_text_is_escaped_in_html_but_kept_verbatim_in_plain_text():
    context = CONTEXTS["rejection"] | {"reason": '<script>alert("x")</script>'}

    rendered = render("rejection", context, sent_on=SENT_ON)

    assert "<script>" not in rendered.html
    assert "&lt;script&gt;" in rendered.html
    assert '<script>alert("x")</script>' in rendered.text


def test_a_missing_value_is_an_error_not_a_blank_in_the_email():
    context = dict(CONTEXTS["rejection"])
    del context["reason"]

    with pytest.raises(UndefinedError):
        render("rejection", context, sent_on=SENT_ON)


def test_a_dict_field_reads_as_in_jinja_and_a_dict_method_stays_a_method():
    template = environment().from_string(
        "{{ d.title }}|{{ d.keys() | list | length }}|{{ d.absent is defined }}"
    )

    assert template.render(d={"title": "标题", "keys": "键"}) == "标题|2|False"
    with pytest.raises(UndefinedError):
        environment().from_string("{{ d.absent }}").render(d={})


def test_dates_read_the_chinese_way():
    assert cn_date("2021-07-29") == "2021年7月29日"
    assert cn_date(None) == "（未定）"


def test_the_message_has_utf8_headers_both_parts_and_a_message_id_from_its_key():
    rendered = render("rejection", CONTEXTS["rejection"], sent_on=SENT_ON)
    sent_at = datetime(2021, 7, 19, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))

    mail = encode_mail(
        rendered,
        key="case:7:reject:12",
        sender=Mailbox("rectify@gov.test", "市政府办公室"),
        to=["unit@units.test"],
        cc=["leader@units.test"],
        date=sent_at,
    )
    parsed = email.message_from_bytes(mail.data, policy=policy.default)

    assert mail.data.isascii()  # every header encoded, no raw UTF-8 on the wire
    assert b"\n" not in mail.data.replace(b"\r\n", b"")  # CRLF line ends only
    assert mail.recipients == ["unit@units.test", "leader@units.test"]
    assert parsed["Subject"] == rendered.subject
    assert parsed["From"].addresses[0].display_name == "市政府办公室"
    assert parsed["To"] == "unit@units.test" and parsed["Cc"] == "leader@units.test"
    assert parsed["Message-ID"] == message_id("case:7:reject:12", "gov.test")
    assert parsed.get_body(("plain",)).get_content().replace("\r\n", "\n") == rendered.text
    assert "截图不清晰" in parsed.get_body(("html",)).get_content()


def test_a_long_chinese_subject_is_folded_into_encoded_words_that_decode_intact():
    subject = "【督办】" + "临沧工业园区管理委员会已下线网站域名应注销未注销问题" * 3
    rendered = render("rejection", CONTEXTS["rejection"], sent_on=SENT_ON)
    sender = Mailbox("rectify@gov.test", "临沧市人民政府办公室")

    mail = encode_mail(
        type(rendered)(subject, rendered.text, rendered.html),
        key="k",
        sender=sender,
        to=["a@units.test"],
        date=datetime(2021, 7, 19, tzinfo=ZoneInfo("Asia/Shanghai")),
    )
    message = build_message(
        rendered, key="k", sender=sender, to=["a@units.test"], date=datetime(2021, 7, 19)
    )

    assert max(len(line) for line in mail.data.split(b"\r\n")) <= 78
    assert email.message_from_bytes(mail.data, policy=policy.default)["Subject"] == subject
    assert message["From"].addresses[0].display_name == "临沧市人民政府办公室"


@pytest.mark.parametrize("subject", ["2021Q2 检查 — émoji 😀 " * 4, "纯中文" * 30, "a" * 200])
def test_any_subject_survives_the_encoding(subject):
    rendered = render("rejection", CONTEXTS["rejection"], sent_on=SENT_ON)

    mail = encode_mail(
        type(rendered)(subject, rendered.text, rendered.html),
        key="k",
        sender=Mailbox("rectify@gov.test"),
        to=["a@units.test"],
        date=datetime(2021, 7, 19, tzinfo=ZoneInfo("Asia/Shanghai")),
    )

    parsed = email.message_from_bytes(mail.data, policy=policy.default)
    assert parsed["Subject"] == " ".join(subject.split())


def test_an_invalid_recipient_is_refused_before_anything_is_sent():
    rendered = render("rejection", CONTEXTS["rejection"], sent_on=SENT_ON)

    with pytest.raises(ValueError, match="收件地址格式不正确"):
        encode_mail(
            rendered,
            key="k",
            sender=Mailbox("rectify@gov.test"),
            to=["不是邮箱"],
            date=datetime(2021, 7, 19, tzinfo=ZoneInfo("Asia/Shanghai")),
        )


def test_the_same_key_gives_the_same_message_id_and_another_key_another():
    assert message_id("round-notice:2021Q2:yongde", "gov.test") == message_id(
        "round-notice:2021Q2:yongde", "gov.test"
    )
    assert message_id("round-notice:2021Q2:yongde", "gov.test") != message_id(
        "round-notice:2021Q2:gengma", "gov.test"
    )


def test_a_contact_field_splits_into_valid_addresses_and_rejected_pieces():
    valid, invalid = split_addresses("a@units.test； b@units.test,不是邮箱 a@units.test")

    assert valid == ["a@units.test", "b@units.test"]
    assert invalid == ["不是邮箱"]


def test_a_portal_link_sent_again_carries_the_link_its_expiry_and_the_cases_owed():
    rendered = render("portal_link", CONTEXTS["portal_link"], sent_on=SENT_ON)
    none_owed = render("portal_link", CONTEXTS["portal_link"] | {"cases": []}, sent_on=SENT_ON)

    assert rendered.subject == (
        "【整改系统链接】永德县人民政府的整改报送专用链接（有效期至2021年9月17日）"
    )
    assert "https://rectify.test/portal/tok123" in rendered.text
    assert "贵单位目前有以下1个问题待整改" in rendered.text
    assert "整改期限：2021年7月29日" in rendered.text
    assert "贵单位目前没有待整改的问题" in none_owed.text and "问题描述" not in none_owed.text
